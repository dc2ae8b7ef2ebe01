package runfolder

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
)

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
	path := filepath.Join(t.TempDir(), ResultsFile)
	j, err := OpenWriter(path)
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
