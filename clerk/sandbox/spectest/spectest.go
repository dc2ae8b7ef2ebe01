// Package spectest holds HTTP traffic to Clerk's published Backend API spec: wrap a handler
// with a Validator's Middleware and every request and response is checked with kin-openapi.
package spectest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks requests and responses against the spec and records violations.
type Validator struct {
	router routers.Router

	mu         sync.Mutex
	violations []string
	responses  []string // the subset about responses
}

// SpecPath finds ../shared/clerk/bapi-2025-04-10.yml next to the module root (the directory
// holding go.mod, found by walking up from the working directory); false when absent.
func SpecPath() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "clerk", "bapi-2025-04-10.yml")
			if _, err := os.Stat(p); err != nil {
				return "", false
			}
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// UnpublishedCreateField is the one POST /v1/users body field Clerk accepts that the published
// spec (which predates it) lacks: Clerk's own CLI sends it, as userimport does. Load and LoadDoc
// add exactly this field to the spec, and nothing else.
const UnpublishedCreateField = "skip_restriction_checks"

// LoadDoc reads the spec with UnpublishedCreateField added to the CreateUser body, for tests
// that hold their own types to the spec (e.g. mapping's CreateUserParams).
func LoadDoc(specPath string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("spectest: load %s: %w", specPath, err)
	}
	item := doc.Paths.Value("/users")
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return nil, fmt.Errorf("spectest: %s has no POST /users body", specPath)
	}
	mt := item.Post.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("spectest: %s: POST /users takes no JSON object", specPath)
	}
	props := mt.Schema.Value.Properties
	if _, ok := props[UnpublishedCreateField]; ok {
		return doc, nil // a newer spec that publishes it: nothing to add
	}
	field := openapi3.NewBoolSchema()
	field.Nullable = true
	field.Description = "Skips the instance's allowlist, blocklist and disposable-email rules (not in the published spec)."
	props[UnpublishedCreateField] = openapi3.NewSchemaRef("", field)
	return doc, nil
}

// routerCache keeps one router per spec path: loading the 18k-line spec takes most of a
// second under -race, and a router is read-only once built.
var routerCache sync.Map // path -> routers.Router

// Load reads the spec (once per path per process) and returns a Validator with no violations.
// The spec's servers are replaced by a bare "/v1" base, so a test server on any host and port routes.
func Load(specPath string) (*Validator, error) {
	if r, ok := routerCache.Load(specPath); ok {
		return &Validator{router: r.(routers.Router)}, nil
	}
	doc, err := LoadDoc(specPath)
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: "/v1"}} // no scheme or host: any test server matches
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("spectest: router: %w", err)
	}
	routerCache.Store(specPath, router)
	return &Validator{router: router}, nil
}

func (v *Validator) record(response bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.mu.Lock()
	v.violations = append(v.violations, msg)
	if response {
		v.responses = append(v.responses, msg)
	}
	v.mu.Unlock()
}

// Violations returns every violation recorded so far, requests' and responses'.
func (v *Validator) Violations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.violations...)
}

// ResponseViolations returns only the responses' violations: what a test that sends
// deliberately invalid requests checks.
func (v *Validator) ResponseViolations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.responses...)
}

// Middleware validates each request routed to the spec and each response next writes.
// Paths outside the spec (e.g. /_sandbox/...) pass through unchecked.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := v.router.FindRoute(routable(r))
		if err != nil {
			if r.URL.Path == "/v1" || len(r.URL.Path) > 3 && r.URL.Path[:4] == "/v1/" {
				v.record(false, "%s %s: no route in spec: %v", r.Method, r.URL.Path, err)
			}
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx := r.Context()
		in := &openapi3filter.RequestValidationInput{
			Request:    r.Clone(ctx),
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
				MultiError:         true,
			},
		}
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.record(false, "%s %s request: %v", r.Method, r.URL.Path, err)
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.hijacked || !rec.wrote {
			return // no response to check: dropped on purpose, or the client went away first
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 rec.status,
			Header:                 w.Header(),
			Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: false},
		}
		out.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			v.record(true, "%s %s response %d: %v", r.Method, r.URL.Path, rec.status, err)
		}
	})
}

// routable gives the router an absolute URL, as a server-side request lacks scheme and host.
func routable(r *http.Request) *http.Request {
	c := r.Clone(r.Context())
	if c.URL.Host == "" {
		c.URL.Host = r.Host
	}
	if c.URL.Scheme == "" {
		c.URL.Scheme = "http"
	}
	return c
}
