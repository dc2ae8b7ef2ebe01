package importer

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// What the importer makes of a mapping's answers beyond a create body: rows a preset leaves
// out on purpose, a header the mapping cannot read unambiguously, the columns it never reads
// and the external_id it may never find.

// codeSkipped is the journal's error code for a row the preset leaves out (its reason is the
// message): soft-deleted or anonymous users, say.
const codeSkipped = "skipped_by_preset"

// maxUnread bounds the unread column names a run keeps: a set of names, never one per row.
const maxUnread = 64

// skipOf is the journal's record of a row the mapping left out on purpose, or nil.
func skipOf(err error) *runfolder.RowError {
	var se *mapping.SkipError
	if !errors.As(err, &se) {
		return nil
	}
	return &runfolder.RowError{Code: codeSkipped, Message: se.Reason}
}

// HeaderError is an input whose header (a CSV's header line, a JSON input's first record's
// keys) has two columns that both match one key the mapping reads: no row can be mapped
// safely, so the run stops before sending any. main treats it as a usage error (exit 2).
type HeaderError struct {
	Err *mapping.AmbiguousError
}

func (e *HeaderError) Error() string { return "ambiguous input header: " + e.Err.Error() }

func (e *HeaderError) Unwrap() error { return e.Err }

// CheckHeader refuses a CSV header with two columns matching one key (a *HeaderError); nil
// for a header the mapping reads unambiguously, or none (JSON: checked on the first record).
func CheckHeader(m *mapping.Mapping, header []string) error {
	if len(header) == 0 {
		return nil
	}
	return headerErr(m.CheckHeader(header))
}

func headerErr(err error) error {
	var ae *mapping.AmbiguousError
	if errors.As(err, &ae) {
		return &HeaderError{Err: ae}
	}
	return err
}

// ErrNoExternalID is a validate whose every mapped row lacks an external_id: most likely the
// wrong preset or mapping, and without it a re-run cannot recognise the users it created.
var ErrNoExternalID = errors.New("no row has an external_id")

// noExternalID reports whether rows mapped and none of them has an external_id.
func (r *runner) noExternalID() (mapped int64, none bool) {
	mapped, missing := r.tracker.ExternalIDs()
	return mapped, mapped > 0 && missing == mapped
}

// warnExternalID warns, once and before the first create, when no row of the first chunk has
// an external_id: a wrong --preset maps none, and the run can then not tell its users apart
// from others in the instance on a re-run.
func (r *runner) warnExternalID(c *chunk) {
	if r.warnedExtID || r.cfg.AllowNoExternalID {
		return
	}
	r.warnedExtID = true
	mapped := 0
	for i := range c.rows {
		if p := c.rows[i].params; p != nil {
			if p.ExternalID != nil {
				return
			}
			mapped++
		}
	}
	if mapped == 0 {
		return
	}
	r.cfg.Log.Warn(fmt.Sprintf("none of the first %d mapped rows has an external_id: is the --preset or --mapping right for this file? "+
		"Without one a re-run cannot recognise the users this run creates (--allow-no-external-id hides this warning)", mapped),
		zap.Strings("unread_columns", r.unread()))
}

// unread lists the input's columns the mapping never read, over every record so far.
func (r *runner) unread() []string {
	names, _ := r.tracker.Unread()
	return names
}

// observeHeader notes a CSV input's header once, so a file with no rows still reports its
// unread columns.
func (r *runner) observeHeader() {
	if h := r.cfg.Source.Header(); h != nil {
		r.tracker.Observe(mapping.CSVRecord(h, nil), nil)
	}
}
