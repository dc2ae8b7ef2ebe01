// Package sandbox is a local, Clerk-compatible Backend API server (the /v1/users subset and
// /v1/domains, with a Frontend API environment for instance settings) with seeded fault injection, used by tests, rehearsals (`import --sandbox`) and benchmarks.
//
// It deliberately imports none of the client's packages: it stands in for a remote service, and
// a check shared by client and server could not catch the client's mistakes.
//
// Fault semantics: injected 500, 503 and HTML 502 responses never create the user; a
// drop-after-commit creates the user and then closes the connection without a response.
// Faults and jitter come from one seeded source in request arrival order, so a seed repeats
// exactly for sequential requests (concurrent ones interleave as they arrive).
//
// Order of handling for /v1: latency, auth (401), rate limit (429, Retry-After), fault, route.
// The Frontend API under /fapi is a separate, public service: no key, limit, latency or seeded
// fault; only Options.FailEnvironment / SetEnvironmentFault.
// Checks on create follow Clerk: unknown or mistyped fields (422, naming the param), then field
// formats, password rules (length always; the breached list unless skip_password_checks),
// digest shape per hasher, the instance settings (below; skip_user_requirement /
// skip_password_requirement waive required identifiers / the password), uniqueness
// (case-insensitive for email, username and web3 wallet), then the user cap (403).
// Usernames must be 4-64 characters, as in Clerk. The sandbox keeps no password, digest, TOTP
// secret or backup code: only whether each was given. banned, locked and bypass_client_trust
// are kept and reported; skip_restriction_checks (not in the published spec) is accepted.
//
// Instance settings (Options.Required, Disabled, Social) are enforced on create: a disabled
// attribute given is 422 form_param_unknown naming it, a required one missing 422
// form_data_missing. GET /v1/domains names the Frontend API at <this server>/fapi, whose public
// GET /v1/environment serves the settings as user_settings (settings.go).
//
// GET /v1/users supports the email_address, phone_number, username, web3_wallet, external_id and
// user_id filters (+/- for the last two), created_at_before/after, banned, the last_active_at and
// last_sign_in_at bounds (no sandbox user ever signs in, so they match nobody), limit, offset,
// every spec'd order_by (ties broken by created_at, then id) and the starting_after cursor
// (created_at orderings only, as the spec says); /v1/users/count takes the same filters. Any
// other spec'd filter is refused with 422 sandbox_unsupported_param rather than ignored, since
// ignoring it would answer a narrow look-up with every user.
package sandbox

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configures a Server. The zero value is a permissive, fault-free sandbox.
type Options struct {
	Key             string        // accepted secret key; "" = any key starting "sk_test_"
	Limit           int           // token bucket: Limit requests per Window over all /v1 calls; 0 = unlimited
	Window          time.Duration // the bucket refills Limit tokens per Window
	UserCap         int           // max users; a create beyond it gets 403 user_quota_exceeded; 0 = unlimited
	Required        []string      // attributes required at sign-up, e.g. "email_address": missing on create -> 422 form_data_missing
	Disabled        []string      // attributes switched off: given on create -> 422 form_param_unknown
	Social          []string      // social connections on, e.g. "oauth_google" (or "google")
	FailEnvironment bool          // the Frontend API's GET /v1/environment answers 500 (see SetEnvironmentFault)
	Latency         time.Duration // added to every /v1 request
	Jitter          time.Duration // up to this much more, drawn from the seeded source
	Fail500         float64       // rate of JSON 500 internal_clerk_error (POST and GET /v1/users...)
	Fail503         float64       // rate of JSON 503, request not processed
	HTML502         float64       // rate of a proxy's HTML 502
	DropAfterCommit float64       // rate of creating the user then dropping the connection (POST only)
	Seed            int64         // seeds faults and jitter: the same seed gives the same sequence
	StateFile       string        // users loaded at start, saved on Close and every SaveEvery
	SaveEvery       time.Duration // periodic save interval when StateFile is set; 0 = 10s
	Logf            func(format string, args ...any)
}

// Stats are the server's counters, served at GET /_sandbox/stats.
type Stats struct {
	Creates   int64 `json:"creates"` // POST /v1/users received
	Created   int64 `json:"created"` // users actually created
	Lists     int64 `json:"lists"`   // GET /v1/users and /v1/users/count
	Gets      int64 `json:"gets"`
	Deletes   int64 `json:"deletes"`
	Status429 int64 `json:"status_429"`
	Status5xx int64 `json:"status_5xx"`
	Drops     int64 `json:"drops"`
	Users     int64 `json:"users"` // users currently stored
}

// Server is a sandbox instance; it is safe for concurrent use.
type Server struct {
	opts     Options
	settings *settings
	domainID string
	envFault atomic.Bool
	store    *store
	limiter  *rate.Limiter // nil = unlimited

	rngMu sync.Mutex
	rng   *rand.Rand

	creates, created, lists, gets, deletes, s429, s5xx, drops atomic.Int64

	now func() time.Time

	mu      sync.Mutex
	srv     *http.Server
	stop    chan struct{}
	saverWG sync.WaitGroup
	saveMu  sync.Mutex
	closed  bool
}

// New validates opts, loads the state file if any, and returns a Server.
func New(opts Options) (*Server, error) {
	for name, f := range map[string]float64{"fail-500": opts.Fail500, "fail-503": opts.Fail503,
		"html-502": opts.HTML502, "drop-after-commit": opts.DropAfterCommit} {
		if f < 0 || f > 1 || math.IsNaN(f) {
			return nil, fmt.Errorf("sandbox: %s rate %v not in [0,1]", name, f)
		}
	}
	if sum := opts.Fail500 + opts.Fail503 + opts.HTML502 + opts.DropAfterCommit; sum > 1+1e-9 {
		return nil, fmt.Errorf("sandbox: fault rates add up to %v, more than 1", sum)
	}
	if opts.Limit < 0 || opts.UserCap < 0 || opts.Latency < 0 || opts.Jitter < 0 {
		return nil, errors.New("sandbox: limit, user cap, latency and jitter must not be negative")
	}
	if opts.Limit > 0 && opts.Window <= 0 {
		return nil, errors.New("sandbox: a limit needs a positive window")
	}
	set, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		settings: set,
		domainID: newID("dmn_"),
		store:    newStore(),
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed)),
		now:      time.Now,
	}
	s.envFault.Store(opts.FailEnvironment)
	if opts.Limit > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(float64(opts.Limit)/opts.Window.Seconds()), opts.Limit)
	}
	if opts.StateFile != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
		s.stop = make(chan struct{})
		s.saverWG.Add(1)
		go s.saver()
	}
	return s, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
// The returned base URL ends in "/v1", ready for the SDK's BackendConfig.URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: listen: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.closed || s.srv != nil {
		s.mu.Unlock()
		_ = ln.Close()
		return "", errors.New("sandbox: already started or closed")
	}
	s.srv = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("sandbox: serve: %v", err)
		}
	}()
	host := ln.Addr().String()
	s.logf("sandbox: listening on http://%s/v1", host)
	return "http://" + host + "/v1", nil
}

// Close stops the listener (if started), waiting up to 2s for in-flight requests, then saves
// the state file. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	var errs []error
	if srv != nil {
		// Let in-flight requests finish (so their users reach the state file), but not for long.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			if err := srv.Close(); err != nil {
				errs = append(errs, fmt.Errorf("sandbox: close: %w", err))
			}
		}
		cancel()
	}
	if s.stop != nil {
		close(s.stop)
		s.saverWG.Wait()
		if err := s.save(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.store.mu.RLock()
	n := len(s.store.byID)
	s.store.mu.RUnlock()
	return Stats{
		Creates: s.creates.Load(), Created: s.created.Load(), Lists: s.lists.Load(), Gets: s.gets.Load(),
		Deletes: s.deletes.Load(), Status429: s.s429.Load(), Status5xx: s.s5xx.Load(),
		Drops: s.drops.Load(), Users: int64(n),
	}
}

// Handler serves the API under /v1/ and the sandbox's own /_sandbox/ endpoints.
// Drop-after-commit needs a ResponseWriter that can hijack (a real server, httptest.Server);
// with any other it panics with http.ErrAbortHandler, which net/http servers treat as an abort.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

type fault int

const (
	noFault fault = iota
	fault500
	fault503
	fault502
	faultDrop
)

// draw takes the request's jitter and fault from the seeded source, in that fixed order.
func (s *Server) draw(isCreate bool) (time.Duration, fault) {
	o := &s.opts
	if o.Jitter == 0 && o.Fail500+o.Fail503+o.HTML502+o.DropAfterCommit == 0 {
		return o.Latency, noFault
	}
	s.rngMu.Lock()
	var j time.Duration
	if o.Jitter > 0 {
		j = time.Duration(s.rng.Int64N(int64(o.Jitter) + 1))
	}
	u := s.rng.Float64()
	s.rngMu.Unlock()
	f := noFault
	switch {
	case u < o.Fail500:
		f = fault500
	case u < o.Fail500+o.Fail503:
		f = fault503
	case u < o.Fail500+o.Fail503+o.HTML502:
		f = fault502
	case isCreate && u < o.Fail500+o.Fail503+o.HTML502+o.DropAfterCommit:
		f = faultDrop
	}
	return o.Latency + j, f
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/_sandbox/stats":
		s.handleStats(w, r)
		return
	case path == "/_sandbox/users":
		s.handleDump(w, r)
		return
	case strings.HasPrefix(path, fapiPrefix+"/"):
		s.handleFAPI(w, r, path[len(fapiPrefix):])
		return
	case path != "/v1" && !strings.HasPrefix(path, "/v1/"):
		notFound(w)
		return
	}
	rest := strings.TrimPrefix(path, "/v1")
	isCreate := rest == "/users" && r.Method == http.MethodPost
	if isCreate {
		s.creates.Add(1)
	}
	delay, f := s.draw(isCreate)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !s.authorized(r) {
		writeErrors(w, http.StatusUnauthorized, apiError{Code: "authentication_invalid",
			Message: "Invalid authentication", LongMessage: "The provided secret key is missing or invalid."})
		return
	}
	if s.limiter != nil {
		now := s.now()
		res := s.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			s.s429.Add(1)
			secs := max(1, int64(math.Ceil(d.Seconds())))
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			writeErrors(w, http.StatusTooManyRequests, apiError{Code: "too_many_requests",
				Message: "Too many requests", LongMessage: "Too many requests, retry later."})
			return
		}
	}
	if f != noFault && f != faultDrop && (r.Method == http.MethodGet || isCreate) {
		s.s5xx.Add(1)
		s.logf("sandbox: injected %s on %s %s", [...]string{"", "500", "503", "HTML 502"}[f], r.Method, path)
		switch f {
		case fault500:
			writeErrors(w, http.StatusInternalServerError, apiError{Code: "internal_clerk_error",
				Message: "Oops, an unexpected error occurred", LongMessage: "There was an internal error on our servers. We've been notified and are working on fixing it."})
		case fault503:
			w.Header().Set("Retry-After", "1")
			writeErrors(w, http.StatusServiceUnavailable, apiError{Code: "service_unavailable",
				Message: "Service unavailable", LongMessage: "The service is temporarily unavailable; the request was not processed."})
		case fault502:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"))
		}
		return
	}
	switch {
	case rest == "/users":
		switch r.Method {
		case http.MethodPost:
			s.handleCreate(w, r, f == faultDrop)
		case http.MethodGet:
			s.handleList(w, r, false)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case rest == "/domains":
		s.handleDomains(w, r)
	case rest == "/users/count":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		s.handleList(w, r, true)
	case strings.HasPrefix(rest, "/users/") && !strings.Contains(rest[len("/users/"):], "/"):
		id := rest[len("/users/"):]
		switch r.Method {
		case http.MethodGet:
			s.handleGet(w, id)
		case http.MethodDelete:
			s.handleDelete(w, id)
		default:
			methodNotAllowed(w, "GET, DELETE")
		}
	default:
		notFound(w)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" {
		return false
	}
	if s.opts.Key == "" {
		return strings.HasPrefix(key, "sk_test_")
	}
	return subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.Key)) == 1
}

func notFound(w http.ResponseWriter) {
	writeErrors(w, http.StatusNotFound, apiError{Code: "resource_not_found",
		Message: "not found", LongMessage: "The requested resource was not found."})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeErrors(w, http.StatusMethodNotAllowed, apiError{Code: "method_not_allowed",
		Message: "method not allowed", LongMessage: "This HTTP method is not supported for this resource."})
}
