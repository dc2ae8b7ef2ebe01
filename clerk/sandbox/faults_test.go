package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/userimport/userimport/clerk/sandbox"
)

func decodeJSON(res *http.Response, v any) error {
	return json.NewDecoder(res.Body).Decode(v)
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, sandbox.Options{Limit: 3, Window: 30 * time.Second}, checkAll)
	for i := range 3 {
		if r := e.do("GET", "/users", nil); r.status != 200 {
			t.Fatalf("call %d: %d", i, r.status)
		}
	}
	r := e.do("POST", "/users", map[string]any{"email_address": []string{"a@example.com"}})
	if code, _ := r.firstError(t); r.status != 429 || code != "too_many_requests" {
		t.Fatalf("over limit: %d %s", r.status, code)
	}
	// One token frees every 10s: Retry-After is whole seconds, at least 1, at most the refill time.
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 10 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if st := e.srv.Stats(); st.Status429 != 1 || st.Users != 0 || st.Creates != 1 {
		t.Errorf("stats %+v", st)
	}
}

// statuses runs n sequential creates and returns their status codes.
func statuses(t *testing.T, opts sandbox.Options, n int) []int {
	e := newEnv(t, opts, checkResponse)
	out := make([]int, n)
	for i := range n {
		out[i] = e.do("POST", "/users", map[string]any{"email_address": []string{fmt.Sprintf("u%d@example.com", i)}}).status
	}
	st := e.srv.Stats()
	var fails int64
	for _, s := range out {
		if s >= 500 {
			fails++
		}
	}
	if st.Status5xx != fails || st.Created != int64(n)-fails {
		t.Errorf("stats %+v vs %d failures of %d", st, fails, n)
	}
	return out
}

func TestFaultsRepeatableForSeed(t *testing.T) {
	opts := sandbox.Options{Fail500: 0.2, Fail503: 0.1, HTML502: 0.1, Seed: 42, Jitter: time.Millisecond}
	a, b := statuses(t, opts, 120), statuses(t, opts, 120)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	opts.Seed = 43
	if c := statuses(t, opts, 120); fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("a different seed gave the same sequence")
	}
	count := map[int]int{}
	for _, s := range a {
		count[s]++
	}
	// 120 draws at 20/10/10%: each kind occurs, and none wildly off its rate.
	for status, want := range map[int]int{500: 24, 503: 12, 502: 12, 200: 72} {
		if got := count[status]; got < want/3 || got > want*2 {
			t.Errorf("status %d: %d of 120, expected about %d", status, got, want)
		}
	}
}

func TestFaultBodies(t *testing.T) {
	e := newEnv(t, sandbox.Options{HTML502: 1}, noCheck)
	r := e.do("GET", "/users", nil)
	if r.status != 502 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.body), "502 Bad Gateway") || !strings.HasPrefix(string(r.body), "<html>") {
		t.Errorf("html 502: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	e5 := newEnv(t, sandbox.Options{Fail500: 1}, checkAll)
	r = e5.do("POST", "/users", map[string]any{"email_address": []string{"a@example.com"}})
	if code, _ := r.firstError(t); r.status != 500 || code != "internal_clerk_error" {
		t.Errorf("500: %d %s", r.status, code)
	}
	e3 := newEnv(t, sandbox.Options{Fail503: 1}, checkAll)
	r = e3.do("POST", "/users", map[string]any{"email_address": []string{"a@example.com"}})
	if _, _ = r.firstError(t); r.status != 503 || e3.srv.Stats().Users != 0 {
		t.Errorf("503: %d users=%d", r.status, e3.srv.Stats().Users)
	}
}

func TestDropAfterCommit(t *testing.T) {
	e := newEnv(t, sandbox.Options{DropAfterCommit: 1}, checkAll)
	c := e.sdk(testKey)
	ctx := context.Background()
	_, err := c.Create(ctx, &user.CreateParams{EmailAddresses: &[]string{"lost@example.com"}, ExternalID: ptr("lost-1")})
	var apiErr *clerk.APIErrorResponse
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("want a connection error, got %v", err)
	}
	if st := e.srv.Stats(); st.Users != 1 || st.Drops != 1 || st.Created != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Look-ups are never dropped: the client can settle the ambiguous create.
	list, err := c.List(ctx, &user.ListParams{ExternalIDs: []string{"+lost-1"}})
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("look-up after drop: %+v %v", list, err)
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	s, err := sandbox.New(sandbox.Options{Latency: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base, err := s.Start("127.0.0.1:0")
	if err != nil || !strings.HasSuffix(base, "/v1") {
		t.Fatalf("start: %q %v", base, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/users", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatal("a request an hour slow answered within 50ms")
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	s1, err := sandbox.New(sandbox.Options{StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s1.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e1 := &env{t: t, srv: s1, base: base, http: &http.Client{}}
	id := e1.mustCreate(map[string]any{"external_id": "keep", "email_address": []string{"keep@example.com"},
		"public_metadata": map[string]any{"a": 1}, "created_at": "2022-02-02T02:02:02Z"})
	gone := e1.mustCreate(map[string]any{"external_id": "gone"})
	if r := e1.do("DELETE", "/users/"+gone, nil); r.status != 200 {
		t.Fatalf("delete: %d", r.status)
	}
	before := e1.do("GET", "/users/"+id, nil).body
	e1.http.CloseIdleConnections()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	e2 := newEnv(t, sandbox.Options{StateFile: path}, checkResponse)
	after := e2.do("GET", "/users/"+id, nil)
	if after.status != 200 || string(after.body) != string(before) {
		t.Errorf("user changed across restart:\n%s\n%s", before, after.body)
	}
	if st := e2.srv.Stats(); st.Users != 1 {
		t.Errorf("users after restart: %d", st.Users)
	}
	r := e2.do("POST", "/users", map[string]any{"external_id": "keep"})
	if code, p := r.firstError(t); code != "form_identifier_exists" || p != "external_id" {
		t.Errorf("uniqueness lost across restart: %s %s", code, p)
	}
	if ids := ids(t, e2.do("GET", "/users?external_id=gone", nil)); len(ids) != 0 {
		t.Errorf("deleted user came back: %v", ids)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []sandbox.Options{
		{Fail500: 1.5}, {Fail503: -0.1}, {Fail500: 0.6, DropAfterCommit: 0.6}, {Limit: 5},
		{Required: []string{"shoe_size"}}, {Latency: -time.Second},
	} {
		if s, err := sandbox.New(o); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted", o)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := sandbox.New(sandbox.Options{StateFile: bad}); err == nil {
		s.Close()
		t.Error("corrupt state file accepted")
	}
}
