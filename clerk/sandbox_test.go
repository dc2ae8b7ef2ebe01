package clerk_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/mapping"
)

const sandboxKey = "sk_test_sandboxKey123"

func sandboxClient(t *testing.T, opts sandbox.Options) *clerk.Client {
	t.Helper()
	c, err := clerk.New(clerk.Config{URL: serveSandbox(t, opts), Key: sandboxKey, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serveSandbox serves a sandbox holding opts, with sandboxKey its key, until the test ends, and
// returns its Backend API URL (.../v1).
func serveSandbox(t *testing.T, opts sandbox.Options) string {
	t.Helper()
	opts.Key = sandboxKey
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL + "/v1"
}

func str(s string) *string { return &s }

func classErr(t *testing.T, err error) *clerk.Error {
	t.Helper()
	var e *clerk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a *clerk.Error", err, err)
	}
	if strings.Contains(err.Error(), sandboxKey) {
		t.Fatalf("error leaks the key: %v", err)
	}
	return e
}

// The client against the Clerk-compatible sandbox: the whole life of an imported user.
func TestAgainstSandbox(t *testing.T) {
	c := sandboxClient(t, sandbox.Options{})
	ctx := context.Background()
	p := &mapping.CreateUserParams{ExternalID: str("-ext-1"), EmailAddresses: []string{"ada@example.com"},
		FirstName: str("Ada"), Locale: str("en-GB"), SkipPasswordRequirement: func() *bool { b := true; return &b }()}
	id, err := c.Create(ctx, p)
	if err != nil || id == "" {
		t.Fatalf("Create: %q %v", id, err)
	}

	_, err = c.Create(ctx, p)
	e := classErr(t, err)
	if status, code, _, _ := e.Details(); status != 422 || code != "form_identifier_exists" || e.Retryable() || e.Ambiguous() || e.Fatal() {
		t.Errorf("second create: %v (class r=%v a=%v f=%v), want a permanent 422 form_identifier_exists", err, e.Retryable(), e.Ambiguous(), e.Fatal())
	}

	m, err := c.FindByExternalID(ctx, []string{"-ext-1", "missing"})
	if err != nil || len(m) != 1 || m["-ext-1"] != id {
		t.Errorf("FindByExternalID: %v %v, want -ext-1 -> %s", m, err, id)
	}
	got, ok, err := c.FindByEmail(ctx, "ada@example.com")
	if err != nil || !ok || got != id {
		t.Errorf("FindByEmail: %q %v %v", got, ok, err)
	}
	if n, err := c.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count: %d %v, want 1", n, err)
	}
	if err := c.Delete(ctx, id); err != nil {
		t.Errorf("Delete: %v", err)
	}
	err = c.Delete(ctx, id)
	if e := classErr(t, err); !e.NotFound() {
		t.Errorf("second Delete: %v, want NotFound", err)
	}
	if n, err := c.Count(ctx); err != nil || n != 0 {
		t.Errorf("Count after delete: %d %v, want 0", n, err)
	}
}

func TestSandboxFaultsClassify(t *testing.T) {
	p := &mapping.CreateUserParams{EmailAddresses: []string{"x@example.com"}, SkipPasswordRequirement: func() *bool { b := true; return &b }()}
	for _, tc := range []struct {
		name string
		opts sandbox.Options
		want func(*clerk.Error) bool
	}{
		{"html 502", sandbox.Options{HTML502: 1}, (*clerk.Error).Ambiguous},
		{"500", sandbox.Options{Fail500: 1}, (*clerk.Error).Ambiguous},
		{"503", sandbox.Options{Fail503: 1}, (*clerk.Error).Retryable},
		{"drop after commit", sandbox.Options{DropAfterCommit: 1}, (*clerk.Error).Ambiguous},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sandboxClient(t, tc.opts).Create(context.Background(), p)
			if e := classErr(t, err); !tc.want(e) {
				t.Errorf("%s: %v not classified as expected (r=%v a=%v f=%v)", tc.name, err, e.Retryable(), e.Ambiguous(), e.Fatal())
			}
		})
	}
}

func TestSandboxRateLimitAndAuth(t *testing.T) {
	c := sandboxClient(t, sandbox.Options{Limit: 1, Window: 10 * time.Second})
	ctx := context.Background()
	if _, err := c.Count(ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := c.Count(ctx)
	e := classErr(t, err)
	if !e.Retryable() || e.Status != 429 || e.RetryAfter() < time.Second {
		t.Errorf("over the limit: %v, want retryable 429 with Retry-After >= 1s (got %v)", err, e.RetryAfter())
	}

	capped := serveSandbox(t, sandbox.Options{UserCap: 1})
	wrong, err := clerk.New(clerk.Config{URL: capped, Key: "sk_test_wrongKey999"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Count(ctx)
	if e := classErr(t, err); !e.Fatal() || e.Status != 401 || strings.Contains(err.Error(), "wrongKey999") {
		t.Errorf("wrong key: %v, want fatal 401 without the key", err)
	}

	right, err := clerk.New(clerk.Config{URL: capped, Key: sandboxKey})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := right.Create(ctx, &mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, SkipPasswordRequirement: &yes}); err != nil {
		t.Fatalf("first create under the cap: %v", err)
	}
	_, err = right.Create(ctx, &mapping.CreateUserParams{EmailAddresses: []string{"b@example.com"}, SkipPasswordRequirement: &yes})
	if e := classErr(t, err); !e.Fatal() || e.Code != "user_quota_exceeded" {
		t.Errorf("over the user cap: %v, want fatal user_quota_exceeded", err)
	}
}
