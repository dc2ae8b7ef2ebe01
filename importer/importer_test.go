package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// fakeErr carries the behaviours the pipeline reads off an error.
type fakeErr struct {
	status             int
	code, param        string
	retry              time.Duration
	retryable, unclear bool
	fatal              bool
}

func (e *fakeErr) Error() string             { return fmt.Sprintf("%d %s", e.status, e.code) }
func (e *fakeErr) Retryable() bool           { return e.retryable }
func (e *fakeErr) Ambiguous() bool           { return e.unclear }
func (e *fakeErr) Fatal() bool               { return e.fatal }
func (e *fakeErr) RetryAfter() time.Duration { return e.retry }
func (e *fakeErr) Throttled() bool           { return e.status == 429 }
func (e *fakeErr) Conflict() (string, bool)  { return e.param, e.code == "form_identifier_exists" }
func (e *fakeErr) Details() (int, string, string, string) {
	return e.status, e.code, e.param, "fake " + e.code
}

// fakeTarget is an in-memory instance. script[extID] lists, per create attempt, an error to
// return; "commit" before it means the user is stored anyway (a response lost after commit).
type fakeTarget struct {
	mu      sync.Mutex
	users   map[string]string // external_id -> user id
	creates map[string]int
	lookups int
	script  map[string][]step
	// For look-ups: the first errors to return, how many look-ups miss each id (a lagging
	// read), the batch size the target declares (0: 100), and the most ids asked at once.
	lookupErrs []error
	lag        map[string]int
	batch      int
	largest    int
}

type step struct {
	commit bool
	err    error
}

func newFake() *fakeTarget {
	return &fakeTarget{users: map[string]string{}, creates: map[string]int{}, script: map[string][]step{}}
}

func (f *fakeTarget) Create(_ context.Context, p *mapping.CreateUserParams) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ext := p.ExternalIDValue()
	n := f.creates[ext]
	f.creates[ext]++
	if s := f.script[ext]; n < len(s) {
		if s[n].commit {
			f.users[ext] = "user_" + ext
		}
		if s[n].err != nil {
			return "", s[n].err
		}
	}
	if _, ok := f.users[ext]; ok {
		return "", &fakeErr{status: 422, code: "form_identifier_exists", param: "external_id"}
	}
	f.users[ext] = "user_" + ext
	return f.users[ext], nil
}

func (f *fakeTarget) FindByExternalID(_ context.Context, ids []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	f.largest = max(f.largest, len(ids))
	if len(f.lookupErrs) > 0 {
		err := f.lookupErrs[0]
		f.lookupErrs = f.lookupErrs[1:]
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		if f.lag[id] > 0 {
			f.lag[id]--
			continue
		}
		if u, ok := f.users[id]; ok {
			out[id] = u
		}
	}
	return out, nil
}

func (f *fakeTarget) FindByEmail(context.Context, string) (string, bool, error) {
	return "", false, nil
}
func (f *fakeTarget) Count(context.Context) (int, error) { return len(f.users), nil }
func (f *fakeTarget) LookupBatch() int {
	if f.batch > 0 {
		return f.batch
	}
	return 100
}

func (f *fakeTarget) totalCreates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.creates {
		n += c
	}
	return n
}

const testCSV = "external_id,email_address\n" +
	"a,a@example.com\n" +
	"b,b@example.com\n" +
	"c,c@example.com\n" +
	"d,d@example.com\n"

func runOnce(t *testing.T, dir, input string, tgt Target, mod func(*Config)) *runfolder.Summary {
	t.Helper()
	src, err := source.Open(strings.NewReader(input), source.Options{Format: source.CSV})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		OutDir: dir, Header: runfolder.Header{InputSHA256: fmt.Sprintf("%x", len(input)), APIURL: "fake", KeyFingerprint: "k"},
		Source: src, Format: source.CSV, Mapping: mapping.Native(), Target: tgt,
		Pacer: pacer.New(pacer.Config{Rate: 1e6, Burst: 100}), Concurrency: 3, MaxRetries: 3,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	}
	if mod != nil {
		mod(&cfg)
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil && sum.RunStatus != runfolder.RunFatal {
		t.Fatalf("run: %v", err)
	}
	return sum
}

func TestAmbiguousCreateIsSettledByLookupNotResent(t *testing.T) {
	f := newFake()
	unclear := &fakeErr{status: 502, unclear: true}
	f.script["a"] = []step{{commit: true, err: unclear}} // committed, response lost
	f.script["b"] = []step{{err: unclear}}               // not committed: sent again after the look-up
	f.script["c"] = []step{{err: &fakeErr{status: 429, retryable: true, retry: time.Millisecond}}}
	sum := runOnce(t, t.TempDir(), testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusCreated] != 4 {
		t.Fatalf("status %s counts %v", sum.RunStatus, sum.Counts)
	}
	if f.creates["a"] != 1 {
		t.Errorf("a was sent %d times; an uncertain create must be looked up, not re-sent", f.creates["a"])
	}
	if f.creates["b"] != 2 || f.creates["c"] != 2 {
		t.Errorf("creates b=%d c=%d, want 2 each", f.creates["b"], f.creates["c"])
	}
	if sum.Status429 != 1 || sum.Retries < 3 {
		t.Errorf("429s %d retries %d", sum.Status429, sum.Retries)
	}
}

func TestExistingExternalIDIsAdopted(t *testing.T) {
	f := newFake()
	f.users["b"] = "user_old"
	sum := runOnce(t, t.TempDir(), testCSV, f, nil)
	if sum.Counts[runfolder.StatusExists] != 1 || sum.Counts[runfolder.StatusCreated] != 3 || sum.RunStatus != runfolder.RunComplete {
		t.Fatalf("counts %v status %s", sum.Counts, sum.RunStatus)
	}
}

func TestPermanentFailureGoesToFailedFile(t *testing.T) {
	f := newFake()
	f.script["c"] = []step{{err: &fakeErr{status: 422, code: "form_identifier_exists", param: "email_address"}}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunWithFailures || sum.Counts[runfolder.StatusFailed] != 1 {
		t.Fatalf("status %s counts %v", sum.RunStatus, sum.Counts)
	}
	b, err := os.ReadFile(filepath.Join(dir, "failed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "external_id,email_address\nc,c@example.com\n"; got != want {
		t.Errorf("failed.csv = %q, want %q", got, want)
	}
	st, _ := os.Stat(filepath.Join(dir, "failed.csv"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("failed.csv mode %v", st.Mode().Perm())
	}
	// The re-run tries the failed row again and skips the rest.
	delete(f.script, "c")
	before := f.totalCreates()
	sum = runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.DoneBefore != 3 || f.totalCreates()-before != 1 {
		t.Fatalf("re-run: status %s done before %d creates %d", sum.RunStatus, sum.DoneBefore, f.totalCreates()-before)
	}
}

func TestFatalStopsTheRunAndLeavesRowsToResume(t *testing.T) {
	f := newFake()
	f.script["a"] = []step{{err: &fakeErr{status: 401, code: "authentication_invalid", fatal: true}}}
	dir := t.TempDir()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.Concurrency = 1 })
	if sum.RunStatus != runfolder.RunFatal || sum.Counts[runfolder.StatusCreated] != 0 || sum.Left == 0 {
		t.Fatalf("status %s counts %v left %d", sum.RunStatus, sum.Counts, sum.Left)
	}
	sum = runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusCreated] != 4 {
		t.Fatalf("resume: status %s counts %v", sum.RunStatus, sum.Counts)
	}
}

func TestPendingRowsAreSettledByBatchLookup(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	h := runfolder.Header{Event: "run", InputSHA256: fmt.Sprintf("%x", len(testCSV)), APIURL: "fake", KeyFingerprint: "k", MappingSHA256: ""}
	// A crashed session: a and b were marked pending; a reached the instance, b did not.
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	must(t, err)
	must(t, j.WriteHeader(h))
	must(t, j.Write(runfolder.Event{Row: 1, Line: 2, ExternalID: "a", Status: runfolder.StatusPending}))
	must(t, j.Write(runfolder.Event{Row: 2, Line: 3, ExternalID: "b", Status: runfolder.StatusPending}))
	must(t, j.Close())
	f.users["a"] = "user_a"

	sum := runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusCreated] != 4 {
		t.Fatalf("status %s counts %v", sum.RunStatus, sum.Counts)
	}
	if f.creates["a"] != 0 || f.creates["b"] != 1 {
		t.Errorf("creates a=%d b=%d: a must be settled by look-up, b sent once", f.creates["a"], f.creates["b"])
	}
}

// A full disk took b's result line but its newline. Resume counts that line (it is whole), so
// b is done before; the journal must then still hold b's result after the next session opens
// it, or the run says complete while its journal leaves b pending (CI saw this once).
func TestResultLineWithoutItsNewlineIsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, runfolder.ResultsFile)
	f := newFake()
	h := runfolder.Header{Event: "run", InputSHA256: fmt.Sprintf("%x", len(testCSV)), APIURL: "fake", KeyFingerprint: "k"}
	j, err := runfolder.OpenWriter(path)
	must(t, err)
	must(t, j.WriteHeader(h))
	must(t, j.Write(runfolder.Event{Row: 1, Line: 2, ExternalID: "a", Status: runfolder.StatusPending}))
	must(t, j.Write(runfolder.Event{Row: 2, Line: 3, ExternalID: "b", Status: runfolder.StatusPending}))
	must(t, j.Write(runfolder.Event{Row: 2, Line: 3, ExternalID: "b", Status: runfolder.StatusCreated, UserID: "user_b"}))
	must(t, j.Close())
	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, bytes.TrimSuffix(b, []byte("\n")), 0o600))
	f.users["a"], f.users["b"] = "user_a", "user_b"

	sum := runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.DoneBefore != 1 || f.creates["a"] != 0 || f.creates["b"] != 0 {
		t.Fatalf("status %s, done before %d, creates %v: b is done, a settled by look-up", sum.RunStatus, sum.DoneBefore, f.creates)
	}
	st, err := loadResume(path, h)
	must(t, err)
	if st.doneN != 4 || len(st.pending) != 0 || len(st.damage) != 0 {
		t.Errorf("the journal after the run: %d rows done, pending %v, damage %v; want all 4 done", st.doneN, st.pending, st.damage)
	}
}

func TestLimitStopsAndResumeFinishes(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.Limit = 2 })
	if sum.RunStatus != runfolder.RunStopped || sum.Counts[runfolder.StatusCreated] != 2 {
		t.Fatalf("status %s counts %v", sum.RunStatus, sum.Counts)
	}
	sum = runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunComplete || sum.DoneBefore != 2 || sum.Counts[runfolder.StatusCreated] != 2 || f.totalCreates() != 4 {
		t.Fatalf("resume: status %s done %d counts %v creates %d", sum.RunStatus, sum.DoneBefore, sum.Counts, f.totalCreates())
	}
	sum = runOnce(t, dir, testCSV, f, nil)
	if sum.RunStatus != runfolder.RunAlready || f.totalCreates() != 4 {
		t.Fatalf("third run: %s", sum.RunStatus)
	}
}

func TestNewExportSkipsUsersTheFolderAlreadyHolds(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	runOnce(t, dir, testCSV, f, nil)
	tonight := testCSV + "e,e@example.com\n"
	sum := runOnce(t, dir, tonight, f, nil)
	// Last night's users are done before (skipped without a call), not `exists`.
	if sum.Counts[runfolder.StatusCreated] != 1 || sum.Counts[runfolder.StatusExists] != 0 || sum.DoneBefore != 4 || sum.Rows != 1 ||
		f.creates["e"] != 1 || f.totalCreates() != 5 {
		t.Fatalf("counts %v, done before %d, rows %d, creates %v", sum.Counts, sum.DoneBefore, sum.Rows, f.creates)
	}
}

// TestRunDupTableInFile: an import whose duplicate table went to a file still finds its
// duplicates, and leaves neither the file nor an open descriptor of it behind.
func TestRunDupTableInFile(t *testing.T) {
	defer func(n int) { dupFileMin = n }(dupFileMin)
	dupFileMin = 1
	const rows = 3000
	var in strings.Builder
	in.WriteString("external_id,email_address\n")
	for i := range rows {
		fmt.Fprintf(&in, "u%d,u%d@example.com\n", i, i)
	}
	in.WriteString("u7,new@example.com\n") // the external_id of line 9
	dir := t.TempDir()
	sum := runOnce(t, dir, in.String(), newFake(), nil)
	if sum.Counts[runfolder.StatusCreated] != rows || sum.Counts[runfolder.StatusDuplicate] != 1 || sum.Problems[0].DupOfLine != 9 {
		t.Fatalf("counts %v, problems %v: want %d created and one duplicate of line 9", sum.Counts, sum.Problems, rows)
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".duplicates") {
			t.Errorf("run folder still holds %s", e.Name())
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to look for a descriptor left open:", err)
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.Contains(target, ".duplicates-") {
			t.Errorf("descriptor %s still open on %s", fd.Name(), target)
		}
	}
}

// TestDupTableErrorIsFatal: when the table's file fails, the row is left for the next session
// and the run stops with the error, rather than sending rows it cannot check.
func TestDupTableErrorIsFatal(t *testing.T) {
	r := newRunner(Config{OutDir: t.TempDir(), Mapping: mapping.Native()}, time.Now())
	r.dups.Close()
	r.dups = brokenDups{os.ErrClosed} // as a table whose file failed answers
	if _, ok := r.accept(&mapped{rec: source.Record{Num: 1, Line: 2}, params: dupParams("new", "")}); ok {
		t.Fatal("a row the failed table could not check was accepted")
	}
	if !errors.Is(r.fatalErr, os.ErrClosed) || r.snapshotCounts()[statusLeft] != 1 {
		t.Fatalf("fatal error %v, counts %v: want the table's error and the row left", r.fatalErr, r.snapshotCounts())
	}
}

type brokenDups struct{ err error }

func (b brokenDups) Check(*mapping.CreateUserParams, int) (int, string, error) { return 0, "", b.err }
func (b brokenDups) Reserve(int) error                                         { return b.err }
func (brokenDups) Close()                                                      {}

func dupParams(extID, email string) *mapping.CreateUserParams {
	p := &mapping.CreateUserParams{}
	if extID != "" {
		p.ExternalID = &extID
	}
	if email != "" {
		p.EmailAddresses = []string{email}
	}
	return p
}
