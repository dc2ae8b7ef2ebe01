package sandbox_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

// Any body gets a Clerk-shaped answer: 200 with a user, or 400/422 with errors; never a panic.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{
		`{"email_address":["a@example.com"],"password":"hunter2hunter2"}`,
		`{"external_id":null,"public_metadata":{"a":[1,2]},"created_at":"2020-01-01T00:00:00Z"}`,
		`{"password_digest":"$2a$10$x","password_hasher":"bcrypt"}`,
		`{"phone_number":["+15551234567"],"username":"abcd"}`, `[]`, `{`, `null`, `{"x":1}`,
	} {
		f.Add(seed)
	}
	s, err := sandbox.New(sandbox.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/v1/users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk_test_fuzz")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200:
			var u struct{ ID, Object string }
			if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil || u.Object != "user" || u.ID == "" {
				t.Fatalf("200 without a user: %s", w.Body)
			}
		case 400, 422:
			var e struct {
				Errors []struct{ Code string } `json:"errors"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
				t.Fatalf("%d without Clerk errors: %s", w.Code, w.Body)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// Any list query gets 200 with a JSON array, or 422 with Clerk errors; never a panic.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"order_by=-username&limit=3", "order_by=%2Bcreated_at&starting_after=user_x", "offset=2&starting_after=",
		"banned=maybe", "web3_wallet=0xAB&last_active_at_after=x", "order_by=&order_by=email_address", "limit=500&offset=99999999999999999999",
	} {
		f.Add(seed)
	}
	s, err := sandbox.New(sandbox.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h := s.Handler()
	for i, b := range []string{`{"email_address":["a@example.com"],"username":"zeta"}`, `{"phone_number":["+15551234567"],"banned":true}`} {
		req := httptest.NewRequest("POST", "/v1/users", strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer sk_test_fuzz")
		w := httptest.NewRecorder()
		if h.ServeHTTP(w, req); w.Code != 200 {
			f.Fatalf("seed user %d: %d %s", i, w.Code, w.Body)
		}
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/v1/users?", "/v1/users/count?"} {
			req := httptest.NewRequest("GET", "/v1/users", nil)
			req.URL.RawQuery = query
			req.URL.Path = strings.TrimSuffix(path, "?")
			req.Header.Set("Authorization", "Bearer sk_test_fuzz")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			switch w.Code {
			case 200:
				if !json.Valid(w.Body.Bytes()) {
					t.Fatalf("200 with bad JSON: %s", w.Body)
				}
			case 422:
				var e struct {
					Errors []struct{ Code string } `json:"errors"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
					t.Fatalf("422 without Clerk errors: %s", w.Body)
				}
			default:
				t.Fatalf("%s%s: status %d: %s", path, query, w.Code, w.Body)
			}
		}
	})
}
