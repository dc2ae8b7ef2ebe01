package importer

import (
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// Joiner attaches the rows of the --join files to each record before it is mapped
// (joinset.Set). Wrap is called from every mapping goroutine at once.
type Joiner interface {
	// Wrap returns rec with its joined rows; an error is the index's I/O failing.
	Wrap(rec mapping.Record) (mapping.Record, error)
	// Counts is what each join gave; complete: the session mapped the whole input.
	Counts(complete bool) []runfolder.JoinCount
}

// joinCounts is the summary's joins, when there are any.
func (r *runner) joinCounts(sum *runfolder.Summary) []runfolder.JoinCount {
	if r.cfg.Joins == nil {
		return nil
	}
	complete := sum.DoneBefore == 0 && (sum.RunStatus == runfolder.RunComplete || sum.RunStatus == runfolder.RunWithFailures)
	return r.cfg.Joins.Counts(complete)
}
