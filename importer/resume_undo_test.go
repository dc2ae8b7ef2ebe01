package importer

import (
	"path/filepath"
	"testing"

	"github.com/userimport/userimport/runfolder"
)

// Rows whose users an undo deleted are no longer finished: a later import of the folder takes
// them again (by row and by external_id) and the run is not "already complete"; once created
// again, they are finished again.
func TestResumeTakesBackWhatUndoDeleted(t *testing.T) {
	dir := t.TempDir()
	h := runfolder.Header{Event: "run", InputSHA256: "in", MappingSHA256: "m", APIURL: "http://127.0.0.1:9/v1", KeyFingerprint: "k"}
	write := func(file string, header bool, events ...runfolder.Event) {
		t.Helper()
		j, err := runfolder.OpenWriter(filepath.Join(dir, file))
		must(t, err)
		if header {
			must(t, j.WriteHeader(h))
		}
		for _, e := range events {
			must(t, j.Write(e))
		}
		must(t, j.Close())
	}
	created := func(row int, ext, user string) runfolder.Event {
		return runfolder.Event{Row: row, Line: row + 1, ExternalID: ext, Status: runfolder.StatusCreated, UserID: user}
	}
	end := runfolder.Event{Event: runfolder.EventEnd, RunStatus: runfolder.RunComplete}
	write(runfolder.ResultsFile, true, created(1, "e1", "u1"), created(2, "e2", "u2"), created(3, "e3", "u3"), end)
	write(runfolder.UndoFile, false,
		runfolder.Event{Row: 1, ExternalID: "e1", UserID: "u1", Status: runfolder.StatusDeleted},
		runfolder.Event{Row: 2, ExternalID: "e2", UserID: "u2", Status: statusGone})
	journal := filepath.Join(dir, runfolder.ResultsFile)

	st, err := loadResume(journal, h)
	must(t, err)
	if st.doneN != 1 || st.undoneN != 2 || st.done.has(1) || st.done.has(2) || !st.done.has(3) {
		t.Fatalf("done %d (row 1 %v, 2 %v, 3 %v), undone %d; want only row 3 done, 2 undone",
			st.doneN, st.done.has(1), st.done.has(2), st.done.has(3), st.undoneN)
	}
	if st.doneIDs.has("e1") || st.doneIDs.has("e2") || !st.doneIDs.has("e3") {
		t.Errorf("doneIDs e1 %v e2 %v e3 %v, want only e3", st.doneIDs.has("e1"), st.doneIDs.has("e2"), st.doneIDs.has("e3"))
	}

	// Another input in the folder, run before the undo, adopted e1 from the journal: that is
	// taken back too, since the user it named is gone.
	other := h
	other.InputSHA256 = "other"
	j, err := runfolder.OpenWriter(journal)
	must(t, err)
	must(t, j.WriteHeader(other))
	must(t, j.Write(runfolder.Event{Row: 1, ExternalID: "e1", Status: runfolder.StatusExists, Settled: "journal"}))
	must(t, j.Close())
	st, err = loadResume(journal, other)
	must(t, err)
	if st.doneN != 0 || st.doneIDs.has("e1") {
		t.Errorf("other input: done %d, e1 known %v; want e1 to be created again", st.doneN, st.doneIDs.has("e1"))
	}

	// The same run creates rows 1 and 2 again: finished, nothing undone.
	j, err = runfolder.OpenWriter(journal)
	must(t, err)
	must(t, j.WriteHeader(h))
	must(t, j.Write(created(1, "e1", "u4")))
	must(t, j.Write(created(2, "e2", "u5")))
	must(t, j.Write(end))
	must(t, j.Close())
	st, err = loadResume(journal, h)
	must(t, err)
	if st.doneN != 3 || st.undoneN != 0 || !st.doneIDs.has("e1") || !st.doneIDs.has("e2") {
		t.Errorf("after re-creating: done %d, undone %d, e1 %v e2 %v; want 3 done, 0 undone", st.doneN, st.undoneN, st.doneIDs.has("e1"), st.doneIDs.has("e2"))
	}
}
