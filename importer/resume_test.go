package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/runfolder"
)

func TestJournalRoundTripAndTornLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, runfolder.ResultsFile)
	j, err := runfolder.OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	h := runfolder.Header{Event: "run", InputSHA256: "in", MappingSHA256: "map", APIURL: "u", KeyFingerprint: "k"}
	must(t, j.WriteHeader(h))
	must(t, j.Write(runfolder.Event{Row: 1, Line: 2, ExternalID: "a", Status: runfolder.StatusPending}))
	must(t, j.Write(runfolder.Event{Row: 1, Line: 2, ExternalID: "a", Status: runfolder.StatusCreated, UserID: "user_1"}))
	must(t, j.Write(runfolder.Event{Row: 2, Line: 3, ExternalID: "b", Status: runfolder.StatusPending}))
	must(t, j.Close())

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", st.Mode().Perm())
	}

	// A crash mid-write leaves half a line: it is ignored, everything before it is kept.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"row":3,"line":4,"external_id":"c","sta`)
	f.Close()

	rs, err := loadResume(path, h)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.done.has(1) || rs.done.has(2) || rs.doneN != 1 {
		t.Errorf("done rows: has(1)=%v has(2)=%v n=%d", rs.done.has(1), rs.done.has(2), rs.doneN)
	}
	if diff := cmp.Diff(map[int]string{2: "b"}, rs.pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if !rs.doneIDs.has("a") || rs.doneIDs.has("b") {
		t.Errorf("done external ids wrong")
	}

	// Another input in the same folder: no row numbers carry over, finished ids do.
	other := h
	other.InputSHA256 = "tonight"
	rs, err = loadResume(path, other)
	if err != nil {
		t.Fatal(err)
	}
	if rs.done.has(1) || len(rs.pending) != 0 || !rs.doneIDs.has("a") {
		t.Errorf("other input: done(1)=%v pending=%v doneIDs(a)=%v", rs.done.has(1), rs.pending, rs.doneIDs.has("a"))
	}
	// Another target: nothing carries over.
	other.APIURL = "elsewhere"
	rs, err = loadResume(path, other)
	if err != nil {
		t.Fatal(err)
	}
	if rs.doneIDs.has("a") {
		t.Error("ids finished on another instance must not be skipped")
	}
}

func TestJournalCorruptMiddleLineIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), runfolder.ResultsFile)
	os.WriteFile(path, []byte("{\"event\":\"run\"}\nnot json\n{\"row\":1}\n"), 0o600)
	_, err := loadResume(path, runfolder.Header{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
}

func TestBitset(t *testing.T) {
	var b bitset
	for _, i := range []int{0, 1, 63, 64, 1000, 70000} {
		b.set(i)
	}
	for _, i := range []int{0, 1, 63, 64, 1000, 70000} {
		if !b.has(i) {
			t.Errorf("has(%d) = false", i)
		}
	}
	for _, i := range []int{2, 62, 65, 999, 70001, 1 << 30} {
		if b.has(i) {
			t.Errorf("has(%d) = true", i)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Pending marks of any earlier session against the same instance (however its URL was
// spelled, whatever its input) are kept by external_id until some later event settles them.
func TestResumeKeepsPendingIDsAcrossSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), runfolder.ResultsFile)
	j, err := runfolder.OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	a := runfolder.Header{Event: "run", InputSHA256: "", APIURL: "http://127.0.0.1:4010/v1/", KeyFingerprint: "k"} // stdin
	must(t, j.WriteHeader(a))
	for _, e := range []runfolder.Event{
		{Row: 1, ExternalID: "settled", Status: runfolder.StatusPending},
		{Row: 1, ExternalID: "settled", Status: runfolder.StatusCreated, UserID: "user_1"},
		{Row: 2, ExternalID: "open", Status: runfolder.StatusPending},
		{Row: 3, ExternalID: "failed-later", Status: runfolder.StatusPending},
	} {
		must(t, j.Write(e))
	}
	other := a
	other.KeyFingerprint = "other-instance"
	must(t, j.WriteHeader(other))
	must(t, j.Write(runfolder.Event{Row: 1, ExternalID: "elsewhere", Status: runfolder.StatusPending}))
	must(t, j.WriteHeader(a))
	must(t, j.Write(runfolder.Event{Row: 9, ExternalID: "failed-later", Status: runfolder.StatusFailed}))
	must(t, j.Close())
	// NUL padding a crash left at the end: read past, reported.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 1000))
	f.Close()

	cur := runfolder.Header{InputSHA256: "edited", APIURL: "http://localhost:4010/v1", KeyFingerprint: "k"}
	rs, err := loadResume(path, cur)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"open": true, "settled": false, "failed-later": false, "elsewhere": false, "": false} {
		if got := rs.wasPending(42, id); got != want {
			t.Errorf("wasPending(%q) = %v, want %v", id, got, want)
		}
	}
	if len(rs.pending) != 0 || rs.same != 0 {
		t.Errorf("row-keyed pending %v (same %d): another input's row numbers must not carry over", rs.pending, rs.same)
	}
	if len(rs.damage) != 1 || rs.damage[0].Problem != "NUL padding" {
		t.Errorf("damage %v, want the NUL padding reported", rs.damage)
	}
}
