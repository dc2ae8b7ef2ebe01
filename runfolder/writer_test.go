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
		{Row: 11, Line: 12, ExternalID: "u11", Status: StatusCreated, UserID: "user_d", Dropped: []string{"username"},
			Readiness: []string{"username_off", "oauth_google_off"}, At: at}, // issue 15's fields
		{Row: 12, Status: StatusCreated, Readiness: []string{"password_missing"}, At: at},
		{Row: 13, Status: StatusCreated, Dropped: []string{}, Readiness: []string{}, At: at}, // empty: omitted
		{Row: 14, Status: StatusCreated, Dropped: []string{"a<b"}, At: at},                   // escaped: left to encoding/json
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
	if handled != 8 {
		t.Errorf("hand-encoded %d events, want the 8 plain ones", handled)
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

// dropped and readiness survive the journal: written by the Writer, read back by ReadJournal,
// whichever encoder wrote the line.
func TestDroppedAndReadinessRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ResultsFile)
	j, err := OpenWriter(path)
	must(t, err)
	want := []Event{
		{Row: 1, Line: 2, ExternalID: "u1", Status: StatusCreated, UserID: "user_1", Dropped: []string{"username"}, Readiness: []string{"username_off"}},
		{Row: 2, Line: 3, ExternalID: "u2", Status: StatusFailed, Readiness: []string{"email_address_required"},
			Error: &RowError{Code: "email_address_required", Message: "the instance requires an email address"}},
		{Row: 3, Line: 4, ExternalID: "ü3", Status: StatusCreated, Dropped: []string{"username", "web3_wallet"}},
		{Row: 4, Line: 5, ExternalID: "u4", Status: StatusCreated},
	}
	for _, e := range want {
		must(t, j.Write(e))
	}
	must(t, j.Close())
	raw, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Contains(raw, []byte(`"dropped":["username"],"readiness":["username_off"]`)) {
		t.Errorf("journal lacks the dropped field as written:\n%s", raw)
	}
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	var got []Event
	if _, err := ReadJournal(f, func(Header) {}, func(e Event) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if fmt.Sprint(g.Dropped) != fmt.Sprint(w.Dropped) || fmt.Sprint(g.Readiness) != fmt.Sprint(w.Readiness) ||
			g.Status != w.Status || g.ExternalID != w.ExternalID {
			t.Errorf("event %d read back as %+v, want %+v", i, g, w)
		}
	}
	if got[3].Dropped != nil || got[3].Readiness != nil {
		t.Errorf("a row without them read back with %v %v", got[3].Dropped, got[3].Readiness)
	}
}

// A summary's problems carry no time of their own: summary.json leaves "at" out rather than
// saying the row failed in year 1 (0001-01-01T00:00:00Z).
func TestSummaryProblemsHaveNoYearOne(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	sum := &Summary{RunStatus: RunWithFailures, Counts: map[Status]int{StatusInvalid: 1}, StartedAt: now, FinishedAt: now,
		Problems: []Event{{Row: 1, Line: 2, Status: StatusInvalid, Error: &RowError{Code: "invalid_email"}}}}
	if err := WriteSummary(dir, sum); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "0001-01-01") || !strings.Contains(string(b), `"invalid_email"`) {
		t.Errorf("summary.json:\n%s", b)
	}
}
