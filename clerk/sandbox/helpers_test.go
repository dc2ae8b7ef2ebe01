package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/clerk/sandbox/spectest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "sk_test_sandboxkey"

// env is a sandbox behind the spec validator (when the spec is present) on a loopback server.
type env struct {
	t    *testing.T
	srv  *sandbox.Server
	base string // ends in /v1
	http *http.Client
}

// How much of each exchange must match Clerk's spec.
type check int

const (
	noCheck       check = iota
	checkResponse       // requests may be deliberately invalid
	checkAll
)

// newEnv starts a sandbox behind the spec validator (when the spec is present).
func newEnv(t *testing.T, opts sandbox.Options, validate check) *env {
	t.Helper()
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	var v *spectest.Validator
	if validate != noCheck {
		if p, ok := spectest.SpecPath(); ok {
			if v, err = spectest.Load(p); err != nil {
				t.Fatal(err)
			}
			h = v.Middleware(h)
		} else {
			t.Log("Clerk spec ../shared/clerk/bapi-2025-04-10.yml absent: responses not validated")
		}
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if v != nil {
			got := v.Violations()
			if validate == checkResponse {
				got = v.ResponseViolations()
			}
			for _, x := range got {
				t.Errorf("spec violation: %s", x)
			}
		}
	})
	return &env{t: t, srv: s, base: ts.URL + "/v1", http: ts.Client()}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

type clerkErrors struct {
	Errors []struct {
		Code        string         `json:"code"`
		Message     string         `json:"message"`
		LongMessage string         `json:"long_message"`
		Meta        map[string]any `json:"meta"`
	} `json:"errors"`
	TraceID string `json:"clerk_trace_id"`
}

// firstError decodes a Clerk error body and returns its first code and param_name.
func (r resp) firstError(t *testing.T) (code, param string) {
	t.Helper()
	var ce clerkErrors
	if err := json.Unmarshal(r.body, &ce); err != nil || len(ce.Errors) == 0 {
		t.Fatalf("not a Clerk error body (%d): %s", r.status, r.body)
	}
	if ce.TraceID == "" {
		t.Errorf("no clerk_trace_id in %s", r.body)
	}
	e := ce.Errors[0]
	if e.Message == "" || e.LongMessage == "" {
		t.Errorf("error lacks message/long_message: %s", r.body)
	}
	p, _ := e.Meta["param_name"].(string)
	return e.Code, p
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}
