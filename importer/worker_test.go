package importer

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// rowEvents are the journal's row outcomes by external_id (the last one each).
func rowEvents(t *testing.T, dir string) map[string]runfolder.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, runfolder.ResultsFile))
	must(t, err)
	defer f.Close()
	out := map[string]runfolder.Event{}
	must(t, readJournal(f, func(runfolder.Header) {}, func(e runfolder.Event) {
		if e.Event == "" && e.Status != runfolder.StatusPending {
			out[e.ExternalID] = e
		}
	}))
	return out
}

// --max-retries -1 once panicked in rowError; any value below 0 now means one attempt.
func TestMaxRetriesBelowZeroMakesOneAttempt(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{err: &fakeErr{status: 503, retryable: true}}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.MaxRetries = -1 })
	if sum.RunStatus != runfolder.RunWithFailures || sum.Counts[runfolder.StatusFailed] != 1 || sum.Counts[runfolder.StatusCreated] != 3 {
		t.Fatalf("status %s counts %v", sum.RunStatus, sum.Counts)
	}
	e := rowEvents(t, dir)["a"]
	if f.creates["a"] != 1 || e.Status != runfolder.StatusFailed || e.Attempts != 1 || e.Error == nil || e.Error.HTTP != 503 {
		t.Errorf("a sent %d times, journal %+v (error %+v): want one attempt failed with the 503", f.creates["a"], e, e.Error)
	}
}

// With no retries left, an ambiguous create is still settled by look-up: found, it is created;
// not found, the row fails rather than being sent again past its budget.
func TestAmbiguousOnTheLastAttemptIsStillSettled(t *testing.T) {
	f := newFake()
	unclear := &fakeErr{status: 502, unclear: true}
	f.script["a"] = []step{{commit: true, err: unclear}}
	f.script["b"] = []step{{err: unclear}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.MaxRetries = 0 })
	ev := rowEvents(t, dir)
	if a := ev["a"]; a.Status != runfolder.StatusCreated || a.Settled != "lookup" || a.UserID != "user_a" || f.creates["a"] != 1 {
		t.Errorf("a: %+v after %d creates, want created, settled by look-up, sent once", a, f.creates["a"])
	}
	if b := ev["b"]; b.Status != runfolder.StatusFailed || b.Error == nil || b.Error.HTTP != 502 || f.creates["b"] != 1 {
		t.Errorf("b: %+v after %d creates, want failed with the 502, sent once", b, f.creates["b"])
	}
	if sum.Counts[runfolder.StatusCreated] != 3 || sum.Counts[runfolder.StatusFailed] != 1 {
		t.Errorf("counts %v", sum.Counts)
	}
}

// An ambiguous create whose look-up misses (the instance had not caught up), sent again and
// refused as taken, is this session's own user: created, settled by the identifier, not adopted.
func TestConflictAfterAmbiguousIsOurOwnUser(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{commit: true, err: &fakeErr{status: 504, unclear: true}}}
	f.lag = map[string]int{"a": 1}
	dir := t.TempDir()
	runOnce(t, dir, testCSV, f, nil)
	a := rowEvents(t, dir)["a"]
	if a.Status != runfolder.StatusCreated || a.Settled != "identifier_exists" || a.UserID != "user_a" || f.creates["a"] != 2 {
		t.Errorf("a: %+v after %d creates, want created (identifier_exists) after 2", a, f.creates["a"])
	}
}

// Pending rows are looked up as many at a time as the target takes, not a number importer knows.
func TestSettlingBatchesByTheTargetsLookupBatch(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("external_id,email_address\n")
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	must(t, err)
	const rows = 7
	for i := range rows {
		fmt.Fprintf(&in, "u%d,u%d@example.com\n", i, i)
	}
	must(t, j.WriteHeader(runfolder.Header{Event: "run", InputSHA256: fmt.Sprintf("%x", in.Len()), APIURL: "fake", KeyFingerprint: "k"}))
	for i := range rows {
		must(t, j.Write(runfolder.Event{Row: i + 1, Line: i + 2, ExternalID: fmt.Sprint("u", i), Status: runfolder.StatusPending}))
	}
	must(t, j.Close())
	f := newFake()
	f.batch = 3
	for i := range rows {
		f.users[fmt.Sprint("u", i)] = fmt.Sprint("user_u", i) // every one reached the instance
	}
	sum := runOnce(t, dir, in.String(), f, nil)
	if sum.Counts[runfolder.StatusCreated] != rows || f.totalCreates() != 0 {
		t.Fatalf("counts %v after %d creates: want all settled by look-up, none sent", sum.Counts, f.totalCreates())
	}
	if f.lookups != 3 || f.largest != 3 || sum.Requests != 3 {
		t.Errorf("%d look-ups of at most %d ids, %d requests counted; want 3 of at most 3 (7 ids, 3 a look-up)", f.lookups, f.largest, sum.Requests)
	}
}

// The pre-check goes through the same path: paced, gated, counted, and a 429 on it pauses
// the run and is counted like any other.
func TestPrecheckIsPacedAndCounted(t *testing.T) {
	f := newFake()
	f.users["b"] = "user_b"
	f.lookupErrs = []error{&fakeErr{status: 429, retryable: true}}
	sum := runOnce(t, t.TempDir(), testCSV, f, func(c *Config) { c.Precheck = true })
	// The pre-check's 429 is not retried (each row meets its own path): b is adopted on its
	// create's conflict instead.
	if sum.Counts[runfolder.StatusCreated] != 3 || sum.Counts[runfolder.StatusExists] != 1 || sum.Status429 != 1 {
		t.Fatalf("counts %v, 429s %d", sum.Counts, sum.Status429)
	}
	// 1 pre-check + 4 creates + 1 look-up after b's conflict.
	if sum.Requests != 6 || sum.Creates != 4 {
		t.Errorf("requests %d creates %d, want 6 and 4", sum.Requests, sum.Creates)
	}
}

// Adaptive concurrency under an unlimited pacer starts at the most in flight; it once started
// at int(+Inf), a negative limit no request ever got past.
func TestAdaptiveConcurrencyWithoutARateLimit(t *testing.T) {
	done := make(chan *runfolder.Summary, 1)
	go func() {
		done <- runOnce(t, t.TempDir(), testCSV, newFake(), func(c *Config) {
			c.Pacer, c.Concurrency = pacer.New(pacer.Config{}), 0
		})
	}()
	select {
	case sum := <-done:
		if sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusCreated] != 4 || sum.Concurrency != pacer.MaxInflight {
			t.Errorf("status %s counts %v in-flight limit %d, want all 4 created at up to %d", sum.RunStatus, sum.Counts, sum.Concurrency, pacer.MaxInflight)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an adaptive run with no rate limit sent nothing in 30s")
	}
}

// noAnswer is a connection refused: nothing was written, nothing came back.
type noAnswer struct{}

func (noAnswer) Error() string    { return "connection refused" }
func (noAnswer) Retryable() bool  { return true }
func (noAnswer) Unanswered() bool { return true }

// A row whose every attempt was refused before a byte was written spends its retries without
// being sent: it is left for the next run, not failed. One refused by a 503 still fails.
func TestNeverSentRowIsLeftNotFailed(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{err: noAnswer{}}, {err: noAnswer{}}}
	f.script["b"] = []step{{err: &fakeErr{status: 503, retryable: true}}, {err: &fakeErr{status: 503, retryable: true}}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.MaxRetries = 1 })
	ev := rowEvents(t, dir)
	if a, ok := ev["a"]; ok {
		t.Errorf("a was never sent, yet the journal settles it: %+v", a)
	}
	if b := ev["b"]; b.Status != runfolder.StatusFailed {
		t.Errorf("b: %+v, want failed with the 503", b)
	}
	if sum.Counts[runfolder.StatusFailed] != 1 || sum.Left != 1 || sum.Counts[runfolder.StatusCreated] != 2 {
		t.Errorf("counts %v left %d: want a left, b failed, the other two created", sum.Counts, sum.Left)
	}
}

// A halt (here: a Retry-After past MaxPause) stops the run cleanly: runfolder.RunStopped, the reason in
// the summary, every row not imported left and none failed.
func TestHaltStopsTheRun(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{err: &fakeErr{status: 429, retryable: true, retry: 24 * time.Hour}}}
	dir := t.TempDir()
	src, err := source.Open(strings.NewReader(testCSV), source.Options{Format: source.CSV})
	must(t, err)
	sum, err := Run(context.Background(), Config{
		OutDir: dir, Header: runfolder.Header{InputSHA256: "x", APIURL: "fake", KeyFingerprint: "k"},
		Source: src, Format: source.CSV, Mapping: mapping.Native(), Target: f,
		Pacer: pacer.New(pacer.Config{Rate: 1e6, Burst: 100}), Concurrency: 1, MaxRetries: 3, MaxPause: time.Minute,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
	var he *pacer.HaltError
	if !errors.As(err, &he) {
		t.Errorf("Run = %v, want the HaltError", err)
	}
	if sum.RunStatus != runfolder.RunStopped || sum.Counts[runfolder.StatusFailed] != 0 || sum.Left == 0 || !strings.Contains(sum.Fatal, "called back") {
		t.Errorf("status %s counts %v left %d fatal %q: want stopped, none failed, rows left, the reason", sum.RunStatus, sum.Counts, sum.Left, sum.Fatal)
	}
	if a, ok := rowEvents(t, dir)["a"]; ok {
		t.Errorf("a was refused untouched, yet the journal settles it: %+v", a)
	}
}

// An ambiguous create whose look-ups go unanswered is left pending for the next run to settle,
// not failed: the API said nothing either way.
func TestUnansweredLookupLeavesRowPending(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{err: &fakeErr{status: 502, unclear: true}}}
	f.lookupErrs = []error{noAnswer{}, noAnswer{}, noAnswer{}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.MaxRetries = 1; c.Precheck = false })
	if a, ok := rowEvents(t, dir)["a"]; ok {
		t.Errorf("a's outcome is unknown, yet the journal settles it: %+v", a)
	}
	if sum.Counts[runfolder.StatusFailed] != 0 || sum.Left != 1 {
		t.Errorf("counts %v left %d: want a left pending, none failed", sum.Counts, sum.Left)
	}
}
