package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJournalRoundTripAndTornLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	h := Header{Event: "run", InputSHA256: "in", MappingSHA256: "map", APIURL: "u", KeyFingerprint: "k"}
	must(t, j.WriteHeader(h))
	must(t, j.Write(Event{Row: 1, Line: 2, ExternalID: "a", Status: StatusPending}))
	must(t, j.Write(Event{Row: 1, Line: 2, ExternalID: "a", Status: StatusCreated, UserID: "user_1"}))
	must(t, j.Write(Event{Row: 2, Line: 3, ExternalID: "b", Status: StatusPending}))
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
	path := filepath.Join(t.TempDir(), JournalFile)
	os.WriteFile(path, []byte("{\"event\":\"run\"}\nnot json\n{\"row\":1}\n"), 0o600)
	_, err := loadResume(path, Header{})
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

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, stale, err := AcquireLock(dir)
	if err != nil || stale != 0 {
		t.Fatalf("first lock: %v stale=%d", err, stale)
	}
	if _, _, err := AcquireLock(dir); err == nil || !strings.Contains(err.Error(), "locked by process") {
		t.Fatalf("second lock: want locked, got %v", err)
	}
	must(t, l.Release())
	// A lock left by a process that is gone is taken over.
	os.WriteFile(filepath.Join(dir, LockFile), []byte("999999999\n"), 0o600)
	l, stale, err = AcquireLock(dir)
	if err != nil || stale != 999999999 {
		t.Fatalf("stale lock: %v stale=%d", err, stale)
	}
	l.Release()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The hand encoder must write exactly what encoding/json writes, or leave the event to it.
func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 5, 1, 123456789, time.UTC)
	events := []Event{
		{Row: 1, Line: 2, ExternalID: "u1", Status: StatusPending, At: at},
		{Row: 3, Line: 4, ExternalID: "u-3", Status: StatusCreated, UserID: "user_abc", Attempts: 2, Settled: "lookup", At: at},
		{Row: 5, Line: 9, Status: StatusDuplicate, DupOfLine: 2, At: at.Add(-time.Hour)},
		{Event: EventThrottled, At: at},
		{Event: EventRetry, Attempts: 3, At: at},
		{Row: 6, ExternalID: `quote"d`, Status: StatusCreated, At: at},      // escaped: left to encoding/json
		{Row: 7, ExternalID: "naïve", Status: StatusCreated, At: at},        // non-ASCII: left to encoding/json
		{Row: 8, ExternalID: "<tag>&", Status: StatusCreated, At: at},       // HTML-escaped by encoding/json
		{Row: 9, Status: StatusFailed, Error: &RowError{Code: "x"}, At: at}, // errors: left to encoding/json
		{Event: EventEnd, RunStatus: RunComplete, At: at},                   // end: left to encoding/json
		{Row: 10, Line: 11, ExternalID: "back\\slash", Status: StatusExists, At: at},
	}
	handled := 0
	for _, e := range events {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendEvent(nil, &e)
		if !ok {
			continue
		}
		handled++
		if string(got) != string(want) {
			t.Errorf("appendEvent(%+v)\n got %s\nwant %s", e, got, want)
		}
	}
	if handled != 5 {
		t.Errorf("hand-encoded %d events, want the 5 plain ones", handled)
	}
}

// Group commit must keep the write-ahead promise: when Write of a pending mark returns, its
// line is in the file (in the OS, where a killed process cannot lose it), whatever the other
// writers are doing. Lines written without a flush reach the file by Close, none torn.
func TestJournalPendingIsInTheFileWhenWriteReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	const workers, rows = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rows {
				id := fmt.Sprintf("w%d-r%d", w, i)
				if err := j.Write(Event{Row: w*rows + i + 1, ExternalID: id, Status: StatusPending}); err != nil {
					errs <- err
					return
				}
				b, err := os.ReadFile(path)
				if err != nil || !bytes.Contains(b, []byte(`"external_id":"`+id+`","status":"pending"`)) {
					errs <- fmt.Errorf("pending mark of %s not in the file when Write returned (%v)", id, err)
					return
				}
				if err := j.Write(Event{Row: w*rows + i + 1, ExternalID: id, Status: StatusCreated, UserID: "user_" + id}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	must(t, j.Close())
	if err := j.Write(Event{Row: 1, Status: StatusPending}); err == nil {
		t.Error("a write after Close succeeded")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2*workers*rows {
		t.Fatalf("%d lines, want %d", len(lines), 2*workers*rows)
	}
	for _, l := range lines {
		var e Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("torn or mixed line %q: %v", l, err)
		}
	}
}
