package clerk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/mapping"
)

// testKey looks like a real key so redaction of the key itself and of key-shaped text is exercised.
const testKey = "sk_test_Zq9xLbVtR3mK8wPd2sYh6nFj4cGu7eAa"

func newTestClient(t *testing.T, url string, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{URL: url + "/v1", Key: testKey, RequestTimeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// asError insists on the package's promise: every failure is a *Error whose text holds no key.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a *clerk.Error", err, err)
	}
	for u := err; u != nil; u = errors.Unwrap(u) {
		if s := u.Error(); strings.Contains(s, testKey) || strings.Contains(s, "sk_test_") {
			t.Fatalf("error chain leaks the key: %q", s)
		}
	}
	return e
}

func fullParams() *mapping.CreateUserParams {
	return &mapping.CreateUserParams{
		ExternalID:                       ptr("-legacy-42"),
		FirstName:                        ptr("Ada"),
		LastName:                         ptr("Lovelace"),
		Locale:                           ptr("fr-FR"),
		EmailAddresses:                   []string{"ada@example.com", "ada2@example.com"},
		EmailAddressIdentificationStatus: []string{"verified", "reserved"},
		PhoneNumbers:                     []string{"+15555550100"},
		PhoneNumberIdentificationStatus:  []string{"verified"},
		Username:                         ptr("ada"),
		PasswordDigest:                   ptr("$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"),
		PasswordHasher:                   ptr("bcrypt"),
		SkipPasswordChecks:               ptr(true),
		PublicMetadata:                   json.RawMessage(`{"plan":"pro"}`),
		PrivateMetadata:                  json.RawMessage(`{"legacy_id":42}`),
		CreateOrganizationsLimit:         ptr(int64(3)),
		CreatedAt:                        ptr("2020-01-02T03:04:05Z"),
		Banned:                           ptr(true),
		Locked:                           ptr(false),
		BypassClientTrust:                ptr(true),
	}
}

func TestCreateSendsExactlyTheParamsJSON(t *testing.T) {
	type seen struct {
		method, path, auth, ctype string
		body                      []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b}
		fmt.Fprint(w, `{"id":"user_123","object":"user","external_id":"-legacy-42"}`)
	}))
	defer srv.Close()

	p := fullParams()
	id, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), p)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != "user_123" {
		t.Errorf("id = %q, want user_123", id)
	}
	s := <-got
	if s.method != http.MethodPost || s.path != "/v1/users" {
		t.Errorf("request = %s %s, want POST /v1/users", s.method, s.path)
	}
	if s.auth != "Bearer "+testKey {
		t.Errorf("Authorization header is not the bearer key")
	}
	if s.ctype != "application/json" {
		t.Errorf("Content-Type = %q", s.ctype)
	}
	const golden = `{"external_id":"-legacy-42","first_name":"Ada","last_name":"Lovelace","locale":"fr-FR",` +
		`"email_address":["ada@example.com","ada2@example.com"],"email_address_identification_status":["verified","reserved"],` +
		`"phone_number":["+15555550100"],"phone_number_identification_status":["verified"],"username":"ada",` +
		`"password_digest":"$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234","password_hasher":"bcrypt",` +
		`"skip_password_checks":true,"public_metadata":{"plan":"pro"},"private_metadata":{"legacy_id":42},` +
		`"create_organizations_limit":3,"created_at":"2020-01-02T03:04:05Z","banned":true,"locked":false,"bypass_client_trust":true}`
	if diff := cmp.Diff(golden, string(s.body)); diff != "" {
		t.Errorf("wire body differs from golden (-want +got):\n%s", diff)
	}
	want, _ := json.Marshal(p)
	if string(want) != string(s.body) {
		t.Errorf("wire body is not json.Marshal(params):\n got %s\nwant %s", s.body, want)
	}
}

func TestCreateMinimalBodyHasNoExtraFields(t *testing.T) {
	body := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body <- string(b)
		fmt.Fprint(w, `{"id":"user_1"}`)
	}))
	defer srv.Close()
	p := &mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}}
	if _, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := <-body; got != `{"email_address":["a@example.com"]}` {
		t.Errorf("body = %s", got)
	}
}

func TestCreate2xxWithoutIDIsAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"user"}`)
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	if e := asError(t, err); !e.Ambiguous() {
		t.Errorf("2xx without id: want ambiguous, got %v", err)
	}
}

type class struct{ retryable, ambiguous, fatal, notFound bool }

func classOf(e *Error) class {
	return class{e.Retryable(), e.Ambiguous(), e.Fatal(), e.NotFound()}
}

func clerkError(w http.ResponseWriter, status int, code, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Clerk-Trace-Id", "trace-hdr")
	w.WriteHeader(status)
	meta := ""
	if param != "" {
		meta = fmt.Sprintf(`,"meta":{"param_name":%q}`, param)
	}
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"short","long_message":%q%s}],"clerk_trace_id":"trace-body"}`, code, msg, meta)
}

func TestStatusClasses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    class
		status  int
		code    string
		param   string
		retry   time.Duration
		text    string // exact Error() when set
		// The behaviours the importer acts on besides the class.
		throttled bool
		conflict  string // Conflict()'s param; "" when not a conflict
	}{
		{
			name: "401",
			handler: func(w http.ResponseWriter, r *http.Request) {
				clerkError(w, 401, "authentication_invalid", "", "Invalid key")
			},
			want: class{fatal: true}, status: 401, code: "authentication_invalid",
		},
		{
			name:    "403 quota",
			handler: func(w http.ResponseWriter, r *http.Request) { clerkError(w, 403, "user_quota_exceeded", "", "quota") },
			want:    class{fatal: true}, status: 403, code: "user_quota_exceeded",
		},
		{
			name:    "quota code under another status",
			handler: func(w http.ResponseWriter, r *http.Request) { clerkError(w, 402, "user_quota_exceeded", "", "quota") },
			want:    class{fatal: true}, status: 402, code: "user_quota_exceeded",
		},
		{
			name: "422 identifier exists",
			handler: func(w http.ResponseWriter, r *http.Request) {
				clerkError(w, 422, "form_identifier_exists", "email_address", "That email address is taken.")
			},
			want: class{}, status: 422, code: "form_identifier_exists", param: "email_address",
			text:     "create: 422 form_identifier_exists (email_address): That email address is taken.",
			conflict: "email_address",
		},
		{
			name: "429 plain text with Retry-After",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(429)
				fmt.Fprint(w, "Too Many Requests\n")
			},
			want: class{retryable: true}, status: 429, retry: 3 * time.Second,
			text:      "create: 429: Too Many Requests (non-JSON response, text/plain) (retry after 3s)",
			throttled: true,
		},
		{
			name: "429 clerk json",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				clerkError(w, 429, "too_many_requests", "", "Too many requests")
			},
			want: class{retryable: true}, status: 429, code: "too_many_requests", retry: 7 * time.Second,
			throttled: true,
		},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, r *http.Request) { clerkError(w, 500, "internal_clerk_error", "", "oops") },
			want:    class{ambiguous: true}, status: 500, code: "internal_clerk_error",
		},
		{
			name: "503",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(503)
				fmt.Fprint(w, "upstream unavailable")
			},
			want: class{retryable: true}, status: 503,
		},
		{
			name: "504 empty body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(504)
			},
			want: class{ambiguous: true}, status: 504,
			text: "create: 504: Gateway Timeout",
		},
		{
			name: "HTML 502",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>")
			},
			want: class{ambiguous: true}, status: 502,
			text: "create: 502: Bad Gateway (non-JSON response, text/html)",
		},
		{
			name: "400 request body invalid",
			handler: func(w http.ResponseWriter, r *http.Request) {
				clerkError(w, 400, "request_body_invalid", "", "The request body is invalid.")
			},
			want: class{}, status: 400, code: "request_body_invalid",
		},
		{
			name: "redirect",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			want: class{fatal: true}, status: 302,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
			e := asError(t, err)
			if got := classOf(e); got != tt.want {
				t.Errorf("class = %+v, want %+v (err %v)", got, tt.want, err)
			}
			wantName := map[class]string{{retryable: true}: "retryable", {ambiguous: true}: "ambiguous", {fatal: true}: "fatal"}[tt.want]
			if wantName == "" {
				wantName = "permanent"
			}
			if e.Class() != wantName {
				t.Errorf("Class() = %q, want %q", e.Class(), wantName)
			}
			status, code, param, _ := e.Details()
			if status != tt.status || code != tt.code || param != tt.param {
				t.Errorf("details = %d %q %q, want %d %q %q", status, code, param, tt.status, tt.code, tt.param)
			}
			if e.RetryAfter() != tt.retry {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter(), tt.retry)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
			}
			if e.Throttled() != tt.throttled {
				t.Errorf("Throttled() = %v, want %v", e.Throttled(), tt.throttled)
			}
			if param, ok := e.Conflict(); param != tt.conflict || ok != (tt.conflict != "") {
				t.Errorf("Conflict() = %q, %v; want %q", param, ok, tt.conflict)
			}
		})
	}
}

func TestClerkErrorKeepsTraceID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clerkError(w, 422, "form_password_pwned", "password", "pwned")
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	if e := asError(t, err); e.TraceID != "trace-body" {
		t.Errorf("TraceID = %q, want the body's clerk_trace_id", e.TraceID)
	}
}

// A server (or a misbehaving proxy) that echoes the Authorization header must not leak it.
func TestKeyNeverInErrorText(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"plain": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			fmt.Fprintf(w, "bad header %s", r.Header.Get("Authorization"))
		},
		"json": func(w http.ResponseWriter, r *http.Request) {
			clerkError(w, 401, "authentication_invalid", "", "key "+r.Header.Get("Authorization")+" is invalid")
		},
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/x?token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			w.WriteHeader(307)
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
			e := asError(t, err) // asError fails on any trace of the key
			if strings.Contains(e.Message, testKey) {
				t.Errorf("Message leaks the key: %q", e.Message)
			}
			if name == "plain" {
				// A body that is not Clerk's JSON is never quoted: it may echo the request.
				if strings.Contains(err.Error(), "bad header") {
					t.Errorf("a non-JSON body was quoted: %q", err.Error())
				}
			} else if name == "redirect" {
				// The Location is shown without its query, and says what to fix.
				if !strings.Contains(err.Error(), "to /x:") || !strings.Contains(err.Error(), "set CLERK_API_URL") {
					t.Errorf("redirect message = %q, want its path without the query and what to do", err.Error())
				}
			} else if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("expected the echoed key to be replaced: %q", err.Error())
			}
		})
	}
}

func TestConnectionResetAfterBodyIsAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the whole body arrived
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST rather than FIN
		}
		conn.Close()
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	e := asError(t, err)
	if !e.Ambiguous() || e.Retryable() || e.Status != 0 {
		t.Errorf("reset after body: class %+v status %d, want ambiguous with no status (%v)", classOf(e), e.Status, err)
	}
}

func TestRequestTimeoutAfterBodyIsAmbiguous(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := newTestClient(t, srv.URL, 150*time.Millisecond).Create(context.Background(), fullParams())
	e := asError(t, err)
	if !e.Ambiguous() {
		t.Errorf("timeout after body: class %+v, want ambiguous (%v)", classOf(e), err)
	}
	if !errors.Is(err, ErrRequestTimeout) {
		t.Errorf("timeout does not wrap ErrRequestTimeout: %v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("a per-request timeout must not look like the caller's context ending: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("RequestTimeout not applied: took %v", time.Since(start))
	}
}

func TestCallerCancelWrapsContextCanceled(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := newTestClient(t, srv.URL, 10*time.Second).Create(ctx, fullParams())
	e := asError(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("caller cancellation does not wrap context.Canceled: %v", err)
	}
	if errors.Is(err, ErrRequestTimeout) {
		t.Errorf("caller cancellation reported as a request timeout: %v", err)
	}
	if !e.Ambiguous() {
		t.Errorf("canceled after the body was sent: want ambiguous, got %+v", classOf(e))
	}
}

func TestCallerCancelBeforeSendIsNotAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestClient(t, srv.URL, 10*time.Second).Create(ctx, fullParams())
	e := asError(t, err)
	if !errors.Is(err, context.Canceled) || e.Ambiguous() {
		t.Errorf("canceled before sending: want context.Canceled and not ambiguous, got %+v %v", classOf(e), err)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newTestClient(t, "http://"+addr, 5*time.Second).Create(context.Background(), fullParams())
	e := asError(t, err)
	if !e.Retryable() || e.Ambiguous() || e.Status != 0 {
		t.Errorf("connection refused: class %+v status %d, want retryable (%v)", classOf(e), e.Status, err)
	}
}

func TestTLSIsVerified(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id":"user_tls"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point, not news
	srv.StartTLS()
	defer srv.Close()

	// Default transport: the test certificate is not trusted, and that will not change by retrying.
	_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	if e := asError(t, err); !e.Fatal() {
		t.Errorf("untrusted certificate: class %+v, want fatal (%v)", classOf(e), err)
	}

	// The caller's client (trusting the test CA) is used, with its transport wrapped.
	c, err := New(Config{URL: srv.URL + "/v1", Key: testKey, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Create(context.Background(), fullParams())
	if err != nil || id != "user_tls" {
		t.Errorf("with trusted client: id %q err %v", id, err)
	}
}

func TestFindByExternalID(t *testing.T) {
	type req struct {
		path  string
		ids   []string
		limit string
	}
	got := make(chan req, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- req{r.URL.Path, r.URL.Query()["external_id"], r.URL.Query().Get("limit")}
		fmt.Fprint(w, `[{"id":"user_a","external_id":"a"},{"id":"user_b","external_id":"-b"},{"id":"user_x","external_id":"not-asked"},{"id":"user_n","external_id":null}]`)
	}))
	defer srv.Close()
	m, err := newTestClient(t, srv.URL, 5*time.Second).FindByExternalID(context.Background(), []string{"a", "-b", "c d+e", "a"})
	if err != nil {
		t.Fatalf("FindByExternalID: %v", err)
	}
	r := <-got
	if r.path != "/v1/users" {
		t.Errorf("path = %q", r.path)
	}
	if diff := cmp.Diff([]string{"+a", "+-b", "+c d+e"}, r.ids); diff != "" {
		t.Errorf("external_id values (-want +got):\n%s", diff)
	}
	if r.limit != "3" {
		t.Errorf("limit = %q, want 3 (Clerk's default of 10 would drop matches)", r.limit)
	}
	if diff := cmp.Diff(map[string]string{"a": "user_a", "-b": "user_b"}, m); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestFindByExternalIDLimits(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	ids := make([]string, MaxLookup+1)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	_, err := c.FindByExternalID(context.Background(), ids)
	if e := asError(t, err); e.Retryable() || e.Ambiguous() || e.Fatal() {
		t.Errorf("too many ids: want a permanent error, got %+v", classOf(e))
	}
	m, err := c.FindByExternalID(context.Background(), nil)
	if err != nil || len(m) != 0 {
		t.Errorf("no ids: %v %v", m, err)
	}
	m, err = c.FindByExternalID(context.Background(), ids[:MaxLookup])
	if err != nil || len(m) != 0 {
		t.Errorf("100 ids, none found: %v %v", m, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("server calls = %d, want 1 (only the 100-id look-up)", calls)
	}
}

func TestFindByEmail(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/users" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("email_address") == "ada@example.com" {
			fmt.Fprint(w, `[{"id":"user_ada"}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	id, ok, err := c.FindByEmail(context.Background(), "ada@example.com")
	if err != nil || !ok || id != "user_ada" {
		t.Errorf("found: %q %v %v", id, ok, err)
	}
	id, ok, err = c.FindByEmail(context.Background(), "nobody@example.com")
	if err != nil || ok || id != "" {
		t.Errorf("not found: %q %v %v", id, ok, err)
	}
}

func TestLookupErrorHidesEmail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = newTestClient(t, "http://"+addr, 5*time.Second).FindByEmail(context.Background(), "secret.person@example.com")
	asError(t, err)
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "secret.person") {
			t.Errorf("error chain holds the email (URL query): %q", e.Error())
		}
	}
}

func TestDelete(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			t.Errorf("method %s", r.Method)
		}
		switch r.URL.EscapedPath() {
		case "/v1/users/user_1":
			fmt.Fprint(w, `{"id":"user_1","object":"user","deleted":true}`)
		case "/v1/users/a%2Fb":
			fmt.Fprint(w, `{"id":"a/b","object":"user","deleted":true}`)
		default:
			clerkError(w, 404, "resource_not_found", "", "not found")
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	if err := c.Delete(context.Background(), "user_1"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := c.Delete(context.Background(), "a/b"); err != nil {
		t.Errorf("Delete of an id needing escape: %v", err)
	}
	err := c.Delete(context.Background(), "user_gone")
	if e := asError(t, err); !e.NotFound() || e.Fatal() || e.Retryable() || e.Ambiguous() {
		t.Errorf("404: want NotFound permanent, got %+v (%v)", classOf(e), err)
	}
}

func TestCount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/users/count" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"object":"total_count","total_count":42}`)
	}))
	defer srv.Close()
	n, err := newTestClient(t, srv.URL, 5*time.Second).Count(context.Background())
	if err != nil || n != 42 {
		t.Errorf("Count = %d, %v; want 42", n, err)
	}
}

func TestNewURLPolicy(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://api.clerk.com/v1", true},
		{"", true}, // default
		{"http://127.0.0.1:8080/v1", true},
		{"http://127.3.4.5/v1", true},
		{"http://localhost:3000/v1", true},
		{"http://[::1]:3000/v1", true},
		{"http://api.clerk.com/v1", false},
		{"http://10.0.0.1/v1", false},
		{"http://localhost.evil.com/v1", false},
		{"ftp://api.clerk.com/v1", false},
		{"https://user:pass@api.clerk.com/v1", false},
		{"https:///v1", false},
	}
	for _, tt := range tests {
		c, err := New(Config{URL: tt.url, Key: testKey})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q): err %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("New error leaks key: %v", err)
		}
		if c != nil && strings.Contains(c.String(), testKey) {
			t.Errorf("Client.String leaks key")
		}
	}
	if _, err := New(Config{URL: "https://api.clerk.com/v1"}); err == nil {
		t.Error("New without a key: want an error")
	}
}

func TestConfigNeverShowsKey(t *testing.T) {
	cfg := Config{URL: "https://api.clerk.com/v1", Key: testKey}
	js, _ := json.Marshal(cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), string(js)} {
		if strings.Contains(s, testKey) {
			t.Errorf("Config rendering leaks key: %s", s)
		}
		if !strings.Contains(s, Fingerprint(testKey)) {
			t.Errorf("Config rendering should name the key by fingerprint: %s", s)
		}
	}
}

func TestFingerprintAndDefaultRate(t *testing.T) {
	fp := Fingerprint(testKey)
	if len(fp) != 12 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint = %q, want 12 hex chars", fp)
	}
	if fp == Fingerprint(testKey+"x") {
		t.Error("different keys share a fingerprint")
	}
	// sha256("") = e3b0c44298fc1c14...
	if got := Fingerprint(""); got != "e3b0c44298fc" {
		t.Errorf("Fingerprint(\"\") = %q", got)
	}
	for key, want := range map[string]float64{"sk_live_abc": 80, "sk_test_abc": 8, "other": 8, "": 8} {
		if got := DefaultRate(key); got != want {
			t.Errorf("DefaultRate(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		" 2 ":                           2 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,
		// Long ones are kept as asked, for the caller to refuse (--max-pause), not turned into 0.
		"86400":                         24 * time.Hour,
		"172800":                        48 * time.Hour,
		"Sat, 03 Jan 2026 00:00:00 GMT": 48 * time.Hour,
		"1e300":                         maxRetryAfter,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The write-status decides between retryable and ambiguous for the same transport failure.
func TestWriteStatusDecidesClass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wrote     bool
		writeErr  error
		ambiguous bool
	}{
		{"failed before the body was written", false, nil, false},
		{"body write failed", true, errors.New("broken pipe"), false},
		{"failed after the body was written", true, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if tc.wrote {
					if trace := httptrace.ContextClientTrace(r.Context()); trace != nil && trace.WroteRequest != nil {
						trace.WroteRequest(httptrace.WroteRequestInfo{Err: tc.writeErr})
					}
				}
				return nil, io.ErrUnexpectedEOF
			})
			c, err := New(Config{URL: "https://clerk.example/v1", Key: testKey, HTTPClient: &http.Client{Transport: rt}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Create(context.Background(), fullParams())
			e := asError(t, err)
			if e.Ambiguous() != tc.ambiguous || e.Retryable() == tc.ambiguous {
				t.Errorf("class %+v, want ambiguous=%v (%v)", classOf(e), tc.ambiguous, err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("underlying transport error lost: %v", err)
			}
		})
	}
}

// The SDK gives a body no length; the client must, so requests are not sent chunked.
func TestCreateSendsContentLength(t *testing.T) {
	var length int64
	var chunked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		length, chunked = r.ContentLength, r.TransferEncoding
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"user_1","object":"user"}`)
	}))
	defer srv.Close()
	id, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	if err != nil || id != "user_1" {
		t.Fatalf("create: %q, %v", id, err)
	}
	if length <= 0 || len(chunked) != 0 {
		t.Errorf("request sent with Content-Length %d, Transfer-Encoding %v: want a length, not chunked", length, chunked)
	}
}

// A create reads only the user's id, whether or not Clerk sends it first.
func TestCreateReadsIDWhereverItIs(t *testing.T) {
	for name, body := range map[string]string{
		"id first":  `{"id":"user_first","object":"user","email_addresses":[{"id":"idn_1","email_address":"a@b.co"}]}`,
		"id later":  `{"object":"user","email_addresses":[{"id":"idn_1"}],"id":"user_later"}`,
		"id padded": `{ "id" : "user_padded" }`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, body)
			}))
			defer srv.Close()
			id, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
			want := map[string]string{"id first": "user_first", "id later": "user_later", "id padded": "user_padded"}[name]
			if err != nil || id != want {
				t.Fatalf("Create = %q, %v; want %q", id, err, want)
			}
		})
	}
}

// trimToID keeps only a leading id, drains and closes what it cuts, and leaves any other body
// byte for byte as it came, however long.
func TestTrimToID(t *testing.T) {
	long := `{"id":"user_1","object":"user","first_name":"` + strings.Repeat("x", 400) + `"}`
	cases := []struct{ body, want string }{
		{long, `{"id":"user_1"}`},
		{`{"id":"user_2"}`, `{"id":"user_2"}`},
		{`{"object":"user","id":"user_3"}`, `{"object":"user","id":"user_3"}`},
		{`{"id":"` + strings.Repeat("y", 300) + `"}`, `{"id":"` + strings.Repeat("y", 300) + `"}`},
		{`<html>` + strings.Repeat("z", 300), `<html>` + strings.Repeat("z", 300)},
		{``, ``},
	}
	for _, c := range cases {
		body := &closeCounter{Reader: strings.NewReader(c.body)}
		resp := &http.Response{Body: body, ContentLength: int64(len(c.body))}
		trimToID(resp)
		got, err := io.ReadAll(resp.Body)
		if err != nil || string(got) != c.want {
			t.Errorf("body %.40q…: got %.60q (%v), want %.60q", c.body, got, err, c.want)
		}
		resp.Body.Close()
		if body.Len() != 0 || body.closed != 1 {
			t.Errorf("body %.40q…: %d bytes left unread, closed %d times", c.body, body.Len(), body.closed)
		}
	}
}

type closeCounter struct {
	*strings.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }
