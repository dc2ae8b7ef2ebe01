package importer

import (
	"io"

	"github.com/userimport/userimport/runfolder"
)

// readJournal calls fn for each session header and event in order, through runfolder's one
// Scanner: a damaged last line (a crash mid-write) ends the read quietly; a damaged line with
// good lines after it is an error naming it.
func readJournal(r io.Reader, onHeader func(runfolder.Header), onEvent func(runfolder.Event)) error {
	_, err := runfolder.ReadJournal(r, onHeader, onEvent)
	return err
}
