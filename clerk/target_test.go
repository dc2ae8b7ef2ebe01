package clerk_test

import (
	"context"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/mapping"
)

// The client is what importer consumes; checked here because clerk must not import importer.
var (
	_ importer.Target  = (*clerk.Client)(nil)
	_ importer.Deleter = (*clerk.Client)(nil)
)

// The behaviours the call path and the importer read off the client's errors, from real
// sandbox responses: the class, Throttled against a plain 503, Conflict, the look-up batch.
func TestErrorsAsTheCallPathReadsThem(t *testing.T) {
	ctx := context.Background()
	yes := true
	p := &mapping.CreateUserParams{ExternalID: str("ext-1"), EmailAddresses: []string{"ada@example.com"}, SkipPasswordRequirement: &yes}

	c := sandboxClient(t, sandbox.Options{})
	if c.LookupBatch() != clerk.MaxLookup || clerk.MaxLookup != 100 {
		t.Errorf("LookupBatch() = %d, want Clerk's 100", c.LookupBatch())
	}
	if _, err := c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	again := *p
	again.EmailAddresses = []string{"grace@example.com"} // only the external_id is taken
	_, err := c.Create(ctx, &again)
	e := classErr(t, err)
	if param, ok := e.Conflict(); !ok || param != "external_id" || pacer.ClassOf(err) != pacer.Permanent || e.Throttled() {
		t.Errorf("second create: Conflict() = %q, %v, class %v; want external_id, a permanent conflict", param, ok, pacer.ClassOf(err))
	}

	limited := sandboxClient(t, sandbox.Options{Limit: 1, Window: 10 * time.Second})
	_, _ = limited.Count(ctx)
	_, err = limited.Count(ctx)
	if e := classErr(t, err); !e.Throttled() || pacer.ClassOf(err) != pacer.Throttled || pacer.RetryAfter(err) < time.Second {
		t.Errorf("over the limit: %v is class %v (Retry-After %v), want Throttled with one", err, pacer.ClassOf(err), pacer.RetryAfter(err))
	}
	for _, tc := range []struct {
		opts sandbox.Options
		want pacer.Class
	}{
		{sandbox.Options{Fail503: 1}, pacer.Retryable},
		{sandbox.Options{Fail500: 1}, pacer.Ambiguous},
		{sandbox.Options{DropAfterCommit: 1}, pacer.Ambiguous},
	} {
		_, err := sandboxClient(t, tc.opts).Create(ctx, p)
		if e := classErr(t, err); pacer.ClassOf(err) != tc.want || e.Throttled() {
			t.Errorf("%v: class %v, want %v and not throttled", err, pacer.ClassOf(err), tc.want)
		}
	}
	wrong, err := clerk.New(clerk.Config{URL: serveSandbox(t, sandbox.Options{}), Key: "sk_test_wrongKey999"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Count(ctx); pacer.ClassOf(err) != pacer.Fatal {
		t.Errorf("wrong key: %v is class %v, want Fatal", err, pacer.ClassOf(err))
	}
}

// An undo through the real client: a 503 with Retry-After on one delete holds that delete
// alone; the others finish first, the rate is not cut, and the retry is counted.
func TestUndoA503HoldsOnlyThatDeleteOverHTTP(t *testing.T) {
	const users = 6
	var mu sync.Mutex
	start := time.Now()
	at := map[string][]time.Duration{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/v1/users/")
		if r.Method != http.MethodDelete || id == r.URL.Path {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		at[id] = append(at[id], time.Since(start))
		first := len(at[id]) == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if id == "user_0" && first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"errors":[{"code":"service_unavailable","message":"try later"}]}`)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"object":"user","deleted":true}`, id)
	}))
	defer srv.Close()
	const key = "sk_test_undoKey42"
	c, err := clerk.New(clerk.Config{URL: srv.URL + "/v1", Key: key})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(j.WriteHeader(runfolder.Header{Event: "run", APIURL: srv.URL + "/v1", KeyFingerprint: clerk.Fingerprint(key)}))
	for i := range users {
		must(j.Write(runfolder.Event{Row: i + 1, Line: i + 2, ExternalID: fmt.Sprint("ext-", i), Status: runfolder.StatusCreated, UserID: fmt.Sprint("user_", i)}))
	}
	must(j.Close())

	p := pacer.New(pacer.Config{Rate: 50})
	sum, err := importer.Undo(context.Background(), importer.UndoConfig{OutDir: dir, KeyFingerprint: clerk.Fingerprint(key),
		APIURL: srv.URL + "/v1", Target: c, Pacer: p, Concurrency: 2, MaxRetries: 3})
	must(err)
	if sum.Deleted != users || sum.Requests != users+1 || sum.Retries != 1 || sum.Status429 != 0 {
		t.Fatalf("summary %+v: want %d deleted in %d requests with one retry and no 429", sum, users, users+1)
	}
	mu.Lock()
	defer mu.Unlock()
	retry := at["user_0"][1]
	if retry < time.Second {
		t.Errorf("user_0 retried %v after the start, before its Retry-After of 1s", retry)
	}
	for i := 1; i < users; i++ {
		if got := at[fmt.Sprint("user_", i)][0]; got >= retry || got >= time.Second {
			t.Errorf("user_%d deleted at %v: held by user_0's 503 (retried at %v)", i, got, retry)
		}
	}
	if s := p.Stats(); s.Pauses != 0 || s.Rate != 50 {
		t.Errorf("pacer %+v: a 503 paused every delete or cut the rate", s)
	}
}
