package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// emailTarget is an instance that knows users by their email, as Clerk does when an export
// carries no external_id: a second create of an address is refused form_identifier_exists.
type emailTarget struct {
	mu      sync.Mutex
	users   map[string]string // lower-cased email -> user id
	creates map[string]int
	byEmail int // FindByEmail calls
}

func newEmailTarget() *emailTarget {
	return &emailTarget{users: map[string]string{}, creates: map[string]int{}}
}

func (f *emailTarget) Create(_ context.Context, p *mapping.CreateUserParams) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := strings.ToLower(p.PrimaryEmail())
	f.creates[e]++
	if _, ok := f.users[e]; ok {
		return "", &fakeErr{status: 422, code: "form_identifier_exists", param: "email_address"}
	}
	f.users[e] = fmt.Sprintf("user_%d", len(f.users))
	return f.users[e], nil
}

func (f *emailTarget) FindByExternalID(context.Context, []string) (map[string]string, error) {
	return map[string]string{}, nil
}

func (f *emailTarget) FindByEmail(_ context.Context, email string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byEmail++
	id, ok := f.users[strings.ToLower(email)]
	return id, ok, nil
}

func (f *emailTarget) Count(context.Context) (int, error) { return len(f.users), nil }
func (f *emailTarget) LookupBatch() int                   { return 100 }

func (f *emailTarget) twice() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for e, n := range f.creates {
		if n > 1 {
			out = append(out, e)
		}
	}
	return out
}

// emailCSV is an email-only export of users from..to-1, the addresses spelled as a tool might
// (mixed case), so the key must be normalised to match across exports.
func emailCSV(from, to int) string {
	var b strings.Builder
	b.WriteString("email_address,first_name\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "User%04d@Example.com,n%d\n", i, i)
	}
	return b.String()
}

// crashAfterSend cuts dir's journal back to its headers and its last n pending marks, as a
// SIGKILL just after those creates left would: their users are in the instance, their outcome
// is not in the journal.
func crashAfterSend(t *testing.T, dir string, n int) {
	t.Helper()
	path := filepath.Join(dir, runfolder.ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	var pend []int
	for i, l := range lines {
		if strings.Contains(l, `"status":"pending"`) {
			pend = append(pend, i)
		}
	}
	if len(pend) < n {
		t.Fatalf("only %d pending marks", len(pend))
	}
	cut := map[int]bool{}
	for _, i := range pend[len(pend)-n:] {
		cut[i] = true
	}
	var kept []string
	dropNext := map[string]bool{}
	for i, l := range lines {
		if cut[i] {
			kept = append(kept, l)
			dropNext[keyOfLine(l)] = true
			continue
		}
		if k := keyOfLine(l); k != "" && dropNext[k] {
			continue // the outcome after the mark: the crash lost it
		}
		if strings.Contains(l, `"event":"end"`) {
			continue
		}
		kept = append(kept, l)
	}
	must(t, os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600))
}

func keyOfLine(l string) string {
	i := strings.Index(l, `"key":"`)
	if i < 0 {
		return ""
	}
	rest := l[i+7:]
	return rest[:strings.IndexByte(rest, '"')]
}

// Issue 14: an email-only export killed mid-run, then re-exported with 20 new rows at the top,
// sends nobody twice and reports no false failure: rows are matched by their normalised email,
// and those the crash left pending are settled by look-up.
func TestEmailOnlyExportChangedAfterCrash(t *testing.T) {
	dir := t.TempDir()
	f := newEmailTarget()
	first := emailCSV(0, 200)
	sum := runOnce(t, dir, first, f, func(c *Config) { c.Limit = 120 })
	if sum.Counts[runfolder.StatusCreated] != 120 {
		t.Fatalf("first session: %v", sum.Counts)
	}
	crashAfterSend(t, dir, 10) // the last ten creates reached the instance; their outcome is lost

	second := "email_address,first_name\n" + strings.TrimPrefix(emailCSV(1000, 1020), "email_address,first_name\n") +
		strings.ToLower(strings.TrimPrefix(first, "email_address,first_name\n"))
	sum = runOnce(t, dir, second, f, nil)
	c := sum.Counts
	if c[runfolder.StatusFailed] != 0 {
		t.Errorf("%d false failures (%v)", c[runfolder.StatusFailed], sum.Problems)
	}
	if twice := f.twice(); len(twice) > 0 {
		t.Errorf("sent twice: %v", twice)
	}
	// 20 new + 80 never sent are created; 10 settled by look-up count as created; 110 already
	// done by the first session are done before (skipped without a call).
	if c[runfolder.StatusCreated] != 110 || c[runfolder.StatusExists] != 0 || sum.DoneBefore != 110 || len(f.users) != 220 {
		t.Errorf("counts %v, done before %d, users %d; want 110 created, 110 done before, 220 users", c, sum.DoneBefore, len(f.users))
	}
	if f.byEmail < 10 {
		t.Errorf("%d look-ups by email: the pending rows must be settled by look-up", f.byEmail)
	}
	b, _ := os.ReadFile(filepath.Join(dir, runfolder.ResultsFile))
	if strings.Contains(strings.ToLower(string(b)), "example.com") {
		t.Error("the journal holds an address: the key must be a digest")
	}
}

// The same bytes fed twice on stdin (a keyed input): the second run creates nobody and fails
// nobody.
func TestStdinTwiceIsKeyed(t *testing.T) {
	dir := t.TempDir()
	f := newEmailTarget()
	in := emailCSV(0, 300)
	stdin := func(c *Config) { c.Keyed, c.Header.InputSHA256 = true, "" }
	sum := runOnce(t, dir, in, f, stdin)
	if sum.Counts[runfolder.StatusCreated] != 300 {
		t.Fatalf("first: %v", sum.Counts)
	}
	sum = runOnce(t, dir, in, f, stdin)
	c := sum.Counts
	if c[runfolder.StatusFailed] != 0 || c[runfolder.StatusCreated] != 0 || sum.DoneBefore != 300 || len(f.twice()) > 0 {
		t.Errorf("second stdin run: %v, done before %d, sent twice %v", c, sum.DoneBefore, f.twice())
	}
}

// A keyed run of the same source (a database tonight after last night) skips, as done before,
// what the same run finished, whatever the rows' order and numbers; sends only the new users;
// and is never "already complete" while the source may have grown.
func TestKeyedSameRunSkipsDoneByKey(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	keyed := func(c *Config) { c.Keyed, c.Header.InputSHA256 = true, "db-identity" }
	sum := runOnce(t, dir, testCSV, f, keyed)
	if sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusCreated] != 4 {
		t.Fatalf("first: %s %v", sum.RunStatus, sum.Counts)
	}
	tonight := "external_id,email_address\nnew,new@example.com\nd,d@example.com\nc,c@example.com\nb,b@example.com\na,a@example.com\n"
	sum = runOnce(t, dir, tonight, f, keyed)
	if sum.RunStatus != runfolder.RunComplete || sum.DoneBefore != 4 || sum.Counts[runfolder.StatusCreated] != 1 ||
		sum.Counts[runfolder.StatusExists] != 0 || f.totalCreates() != 5 {
		t.Fatalf("tonight: %s done_before %d counts %v creates %d", sum.RunStatus, sum.DoneBefore, sum.Counts, f.totalCreates())
	}
	// Stopped by --limit: the rest is counted without the users done before.
	sum = runOnce(t, dir, tonight+"x,x@example.com\ny,y@example.com\n", f, func(c *Config) { keyed(c); c.Limit = 1 })
	if sum.RunStatus != runfolder.RunStopped || sum.Left != 1 {
		t.Errorf("limited: %s left %d, want stopped with 1 left", sum.RunStatus, sum.Left)
	}
}

// A keyed run killed with creates in flight: the rows are matched by key (their numbers
// changed), settled by a look-up by external_id, and never sent again.
func TestKeyedPendingSettledByKey(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	keyed := func(c *Config) { c.Keyed, c.Header.InputSHA256 = true, "db-identity" }
	runOnce(t, dir, testCSV, f, keyed)
	crashAfterSendByID(t, dir)
	reordered := "external_id,email_address\nz,z@example.com\nd,d@example.com\nc,c@example.com\nb,b@example.com\na,a@example.com\n"
	sum := runOnce(t, dir, reordered, f, keyed)
	if sum.Counts[runfolder.StatusFailed] != 0 || sum.Counts[runfolder.StatusCreated] != 5 || f.totalCreates() != 5 {
		t.Fatalf("after the crash: counts %v, creates %v", sum.Counts, f.creates)
	}
}

// crashAfterSendByID keeps only the headers and pending marks of dir's journal.
func crashAfterSendByID(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, runfolder.ResultsFile)
	b, err := os.ReadFile(path)
	must(t, err)
	var kept []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.Contains(l, `"event":"run"`) || strings.Contains(l, `"status":"pending"`) {
			kept = append(kept, l)
		}
	}
	must(t, os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600))
}

func TestRowKey(t *testing.T) {
	s := func(v string) *string { return &v }
	a := rowKey(&mapping.CreateUserParams{EmailAddresses: []string{" Ann@Example.COM "}})
	b := rowKey(&mapping.CreateUserParams{EmailAddresses: []string{"ann@example.com"}, PhoneNumbers: []string{"+15550100"}})
	if a == "" || a != b || !strings.HasPrefix(a, "email:") {
		t.Errorf("email keys %q %q: the same address must give the same key", a, b)
	}
	p1 := rowKey(&mapping.CreateUserParams{PhoneNumbers: []string{"+1 (555) 010-0199"}})
	p2 := rowKey(&mapping.CreateUserParams{PhoneNumbers: []string{"+15550100199"}})
	if p1 == "" || p1 != p2 || !strings.HasPrefix(p1, "phone:") {
		t.Errorf("phone keys %q %q", p1, p2)
	}
	if u := rowKey(&mapping.CreateUserParams{Username: s("Ann")}); u != rowKey(&mapping.CreateUserParams{Username: s("ann")}) || u == "" {
		t.Errorf("username key %q", u)
	}
	if k := rowKey(&mapping.CreateUserParams{ExternalID: s("x"), EmailAddresses: []string{"a@b.co"}}); k != "" {
		t.Errorf("a row with an external_id is keyed by it, not %q", k)
	}
	if k := rowKey(&mapping.CreateUserParams{}); k != "" {
		t.Errorf("nothing to key by: %q", k)
	}
	if strings.Contains(a, "ann") {
		t.Errorf("key %q holds the address", a)
	}
}
