package clerk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/clerk/sandbox/spectest"
)

// Domains and the Frontend API environment against the sandbox, the Backend API half held to
// Clerk's spec, and no key on the Frontend API request.
func TestInstanceSettingsFromSandbox(t *testing.T) {
	p, ok := spectest.SpecPath()
	if !ok {
		t.Fatal("Clerk's spec is not at ../shared/clerk: the work tree needs its ../shared link")
	}
	v, err := spectest.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sandbox.New(sandbox.Options{Key: sandboxKey, Required: []string{"email_address"}, Disabled: []string{"username"}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var fapiAuth []string
	api := v.Middleware(s.Handler())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/fapi/") {
			mu.Lock()
			fapiAuth = append(fapiAuth, r.Header.Get("Authorization")+r.Header.Get("Cookie"))
			mu.Unlock()
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); s.Close() })
	c, err := clerk.New(clerk.Config{URL: srv.URL + "/v1", Key: sandboxKey, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	ds, err := c.Domains(ctx)
	if err != nil || len(ds) != 1 || ds[0].IsSatellite || ds[0].ID == "" || ds[0].FrontendAPIURL != srv.URL+"/fapi" {
		t.Fatalf("Domains = %+v, %v; want the one primary domain with its Frontend API at %s/fapi", ds, err, srv.URL)
	}
	fapi, err := c.FrontendAPI(ctx)
	if err != nil || fapi != ds[0].FrontendAPIURL {
		t.Fatalf("FrontendAPI = %q, %v", fapi, err)
	}
	body, err := c.Environment(ctx, fapi+"/") // a trailing slash is tolerated
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		UserSettings struct {
			Attributes map[string]struct{ Enabled, Required bool } `json:"attributes"`
		} `json:"user_settings"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("environment body: %v", err)
	}
	if a := env.UserSettings.Attributes; !a["email_address"].Required || a["username"].Enabled {
		t.Errorf("environment attributes %+v", a)
	}
	if vs := v.Violations(); len(vs) != 0 {
		t.Errorf("spec violations: %v", vs)
	}

	s.SetEnvironmentFault(true)
	_, err = c.Environment(ctx, fapi)
	var e *clerk.Error
	if !errors.As(err, &e) || e.Status != 500 || e.Code != "internal_clerk_error" || !e.Retryable() || e.Op != "environment" {
		t.Errorf("environment down: %v, want a retryable 500 internal_clerk_error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fapiAuth) != 2 || fapiAuth[0] != "" || fapiAuth[1] != "" {
		t.Errorf("Frontend API requests %d, credentials sent %q: want 2 with none", len(fapiAuth), fapiAuth)
	}
}

func TestDomainsWrongKeyIsFatal(t *testing.T) {
	c, err := clerk.New(clerk.Config{URL: serveSandbox(t, sandbox.Options{}), Key: "sk_test_wrongKey99"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FrontendAPI(context.Background())
	var e *clerk.Error
	if !errors.As(err, &e) || e.Status != 401 || !e.Fatal() || strings.Contains(err.Error(), "wrongKey99") {
		t.Errorf("wrong key: %v, want a fatal 401 without the key", err)
	}
}

func TestFrontendAPIWithoutAPrimaryDomain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"object":"domain","id":"dmn_1","name":"sat.example.com","is_satellite":true,"frontend_api_url":"https://clerk.sat.example.com"}],"total_count":1}`))
	}))
	t.Cleanup(srv.Close)
	c, err := clerk.New(clerk.Config{URL: srv.URL + "/v1", Key: sandboxKey})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.FrontendAPI(context.Background()); err == nil || !strings.Contains(err.Error(), "primary") {
		t.Errorf("FrontendAPI = %q, %v; want an error naming the missing primary domain", u, err)
	}
}

func TestEnvironmentRefusals(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		switch r.URL.Path {
		case "/big/v1/environment":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"pad":"` + strings.Repeat("x", 2<<20) + `"}`))
		case "/moved/v1/environment":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/proxy/v1/environment":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>secret-looking proxy page</html>"))
		case "/slow/v1/environment":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := clerk.New(clerk.Config{URL: srv.URL + "/v1", Key: sandboxKey, RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"http://clerk.example.com", "ftp://127.0.0.1", "https://user:pw@clerk.example.com",
		"https://clerk.example.com?x=1", "/relative", ""} {
		if _, err := c.Environment(ctx, u); err == nil {
			t.Errorf("Environment(%q) accepted", u)
		}
	}
	mu.Lock()
	fetched := hits
	mu.Unlock()
	if fetched != 0 {
		t.Fatalf("a refused URL was fetched")
	}
	tests := []struct {
		path, want string
		check      func(*clerk.Error) bool
	}{
		{"/big", "larger than", func(e *clerk.Error) bool { return e.Status == 200 }},
		{"/moved", "unexpected redirect to /elsewhere", func(e *clerk.Error) bool { return e.Status == 302 && e.Fatal() }},
		{"/proxy", "Bad Gateway (non-JSON response, text/html)", func(e *clerk.Error) bool { return e.Status == 502 && e.Retryable() }},
		{"/slow", "no response within 300ms", func(e *clerk.Error) bool { return errors.Is(e, clerk.ErrRequestTimeout) && e.Retryable() }},
	}
	for _, tc := range tests {
		body, err := c.Environment(ctx, srv.URL+tc.path)
		var e *clerk.Error
		if body != nil || !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) || !tc.check(e) || strings.Contains(err.Error(), "secret-looking") {
			t.Errorf("%s: %v (%T), want an *Error with %q", tc.path, err, err, tc.want)
		}
	}
}
