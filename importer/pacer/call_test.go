package pacer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// callErr answers the behaviours ClassOf and RetryAfter read, as the client's errors do.
type callErr struct {
	class Class
	retry time.Duration
}

func (e *callErr) Error() string             { return "fake failure" }
func (e *callErr) Retryable() bool           { return e.class == Retryable || e.class == Throttled }
func (e *callErr) Throttled() bool           { return e.class == Throttled }
func (e *callErr) Ambiguous() bool           { return e.class == Ambiguous }
func (e *callErr) Fatal() bool               { return e.class == Fatal }
func (e *callErr) RetryAfter() time.Duration { return e.retry }

var (
	errThrottled = &callErr{class: Throttled, retry: 2 * time.Second} // a 429
	errBusy      = &callErr{class: Retryable, retry: 2 * time.Second} // a 503 with Retry-After
	errUnclear   = &callErr{class: Ambiguous}                         // a 502 after the body left
	errRefused   = &callErr{class: Permanent}                         // a 422
	errFatal     = &callErr{class: Fatal, retry: time.Second}         // a 401
	createPolicy = NotIdempotent(3)
	readPolicy   = Idempotent(3)
)

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Class
	}{
		{nil, 0},
		{errors.New("plain"), Permanent},
		{errRefused, Permanent},
		{errBusy, Retryable},
		{errThrottled, Throttled}, // retryable too, but the rate limit's refusal first
		{errUnclear, Ambiguous},
		{errFatal, Fatal},
		{fmtWrap(errThrottled), Throttled},
	} {
		if got := ClassOf(tc.err); got != tc.want {
			t.Errorf("ClassOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if RetryAfter(fmtWrap(errBusy)) != 2*time.Second || RetryAfter(errors.New("x")) != 0 {
		t.Error("RetryAfter does not read a wrapped error's Retry-After")
	}
}

func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "op: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// script is an op that fails with errs in turn, then succeeds, recording when each attempt ran.
type script struct {
	mu    sync.Mutex
	start time.Time
	errs  []error
	at    []time.Duration
}

func (s *script) op(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = append(s.at, time.Since(s.start))
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *script) times() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.at...)
}

func newCaller(p *Pacer) *Caller {
	return &Caller{Pacer: p, Gate: NewGate(8), Counters: &Counters{}}
}

// Two pieces of work run together: the first meets a failure at t=0, the second starts at
// t=0.5s. A 429's Retry-After holds both; a 503's holds only the call that saw it.
func TestRetryAfterScope(t *testing.T) {
	for _, tc := range []struct {
		name      string
		first     error
		secondAt  time.Duration // when the second work's only attempt runs
		pauses    int64
		throttled int64
	}{
		{"429 pauses every call", errThrottled, 2 * time.Second, 1, 1},
		{"503 holds only its own call", errBusy, 500 * time.Millisecond, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := New(Config{Rate: 100, Burst: 10})
				c := newCaller(p)
				start := time.Now()
				a := &script{start: start, errs: []error{tc.first}}
				b := &script{start: start}
				var wg sync.WaitGroup
				var errA, errB error
				wg.Go(func() { errA = c.Call(t.Context(), createPolicy, &Tries{}, a.op) })
				wg.Go(func() {
					time.Sleep(500 * time.Millisecond)
					errB = c.Call(t.Context(), createPolicy, &Tries{}, b.op)
				})
				wg.Wait()
				if errA != nil || errB != nil {
					t.Fatalf("calls failed: %v, %v", errA, errB)
				}
				// After a 429's pause the bucket refills from one slot at the halved rate (50/s):
				// the two calls it held go at 2s and one slot (20ms) later, in either order.
				aAt, bAt := a.times(), b.times()
				if len(aAt) != 2 || aAt[0] != 0 || len(bAt) != 1 {
					t.Fatalf("attempts at %v and %v, want two and one, the first at 0s", aAt, bAt)
				}
				wantA, wantB := 2*time.Second, tc.secondAt
				if tc.pauses > 0 {
					if aAt[1] == wantA {
						wantB += 20 * time.Millisecond
					} else {
						wantA += 20 * time.Millisecond
					}
				}
				if aAt[1] != wantA {
					t.Errorf("first work's attempts at %v, want [0s %v]: its retry waits out Retry-After", aAt, wantA)
				}
				if bAt[0] != wantB {
					t.Errorf("second work's attempt at %v, want %v", bAt, wantB)
				}
				if s := p.Stats(); s.Pauses != tc.pauses || s.Decreases != tc.pauses {
					t.Errorf("pacer %+v: want %d pauses and rate cuts", s, tc.pauses)
				}
				if got := c.Counters.Status429.Load(); got != tc.throttled {
					t.Errorf("429s counted %d, want %d", got, tc.throttled)
				}
				if r, n := c.Counters.Retries.Load(), c.Counters.Requests.Load(); r != 1 || n != 3 {
					t.Errorf("retries %d requests %d, want 1 and 3", r, n)
				}
			})
		})
	}
}

// The policy table: what each class of failure does under a create's and a read's policy.
func TestPolicyTable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pol      Policy
		errs     []error
		attempts int   // op calls
		want     error // nil: success
		owed     bool  // the next call on this work backs off first
	}{
		{"create: retryable is sent again", createPolicy, []error{errBusy}, 2, nil, false},
		{"create: throttled is sent again", createPolicy, []error{errThrottled}, 2, nil, false},
		{"create: ambiguous comes back to be settled, never re-sent blind", createPolicy, []error{errUnclear}, 1, errUnclear, true},
		{"create: permanent fails at once", createPolicy, []error{errRefused}, 1, errRefused, false},
		{"read: ambiguous is read again", readPolicy, []error{errUnclear, errUnclear}, 3, nil, false},
		{"read: permanent fails at once", readPolicy, []error{errRefused}, 1, errRefused, false},
		{"fatal stops even where everything retries", Policy{Retry: ^Class(0), MaxRetries: 5}, []error{errFatal}, 1, errFatal, false},
		{"retries are spent", Policy{Retry: Transient, MaxRetries: 2}, []error{errBusy, errBusy, errBusy, errBusy}, 3, ErrSpent, true},
		{"max retries below zero: one attempt", Policy{Retry: Transient, MaxRetries: -1}, []error{errBusy}, 1, ErrSpent, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCaller(New(Config{}))
				s := &script{start: time.Now(), errs: tc.errs}
				tr := &Tries{}
				err := c.Call(t.Context(), tc.pol, tr, s.op)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("Call = %v, want %v", err, tc.want)
				}
				if tc.want == ErrSpent && !errors.Is(err, errBusy) {
					t.Errorf("spent: %v does not wrap the last failure", err)
				}
				if n := len(s.times()); n != tc.attempts {
					t.Errorf("%d attempts, want %d", n, tc.attempts)
				}
				if tr.Failed != tc.attempts-boolInt(err == nil) {
					t.Errorf("Failed = %d after %d attempts", tr.Failed, tc.attempts)
				}
				if tr.owed != tc.owed {
					t.Errorf("backoff owed %v, want %v", tr.owed, tc.owed)
				}
			})
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// An ambiguous create comes back at once; the look-up that settles it, on the same work,
// first waits out the backoff the failure asked for, and counts as its retry.
func TestAmbiguousThenSettlingLookUpBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var slept []time.Duration
		c := newCaller(New(Config{}))
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			return Sleep(ctx, d)
		}
		var retried []int
		c.OnRetry = func(failed int, err error) { retried = append(retried, failed) }
		start := time.Now()
		tr := &Tries{}
		create := &script{start: start, errs: []error{&callErr{class: Ambiguous, retry: 3 * time.Second}}}
		if err := c.Call(t.Context(), createPolicy, tr, create.op); ClassOf(err) != Ambiguous {
			t.Fatalf("create: %v, want the ambiguous failure back", err)
		}
		lookup := &script{start: start}
		if err := c.Call(t.Context(), readPolicy, tr, lookup.op); err != nil {
			t.Fatal(err)
		}
		if at := lookup.times(); len(at) != 1 || at[0] != 3*time.Second {
			t.Errorf("look-up at %v, want 3s: after the ambiguous answer's Retry-After", at)
		}
		if len(slept) != 1 || len(retried) != 1 || retried[0] != 1 || c.Counters.Retries.Load() != 1 {
			t.Errorf("slept %v, retries heard %v counted %d; want one backoff, heard and counted", slept, retried, c.Counters.Retries.Load())
		}
		// A success owes nothing: the next call goes at once.
		again := &script{start: start}
		must(t, c.Call(t.Context(), createPolicy, tr, again.op))
		if at := again.times(); len(at) != 1 || at[0] != 3*time.Second {
			t.Errorf("create after the look-up at %v, want 3s (no second backoff)", at)
		}
	})
}

// A settling look-up is made once even when the work's retries are spent (and only then);
// anything else then gives up without a request.
func TestSettlesWithRetriesSpent(t *testing.T) {
	for _, settles := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			c := newCaller(New(Config{}))
			start := time.Now()
			tr := &Tries{}
			create := &script{start: start, errs: []error{errUnclear}}
			if err := c.Call(t.Context(), Policy{Retry: Retryable}, tr, create.op); ClassOf(err) != Ambiguous {
				t.Fatalf("create: %v", err)
			}
			lookup := &script{start: start, errs: []error{errBusy}} // and it fails too
			err := c.Call(t.Context(), Policy{Retry: Transient, Settles: settles}, tr, lookup.op)
			want := 0
			if settles {
				want = 1 // once, not retried: its failure spends nothing more
			}
			if n := len(lookup.times()); n != want || !errors.Is(err, ErrSpent) {
				t.Fatalf("settles %v: look-up made %d times (%v) with the retries spent, want %d", settles, n, err, want)
			}
			resend := &script{start: start}
			err = c.Call(t.Context(), Policy{Retry: Retryable}, tr, resend.op)
			if !errors.Is(err, ErrSpent) || len(resend.times()) != 0 {
				t.Errorf("create again with the retries spent: %v after %d requests, want ErrSpent and none", err, len(resend.times()))
			}
		})
	}
}

// Until a request leaves, Unsent ends the wait: the work is given back, never sent.
func TestUnsentGivesBackBeforeSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 1})
		p.Backoff(time.Minute) // every call held for a minute
		c := newCaller(p)
		stop, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		s := &script{start: time.Now()}
		tr := &Tries{Unsent: stop}
		err := c.Call(t.Context(), createPolicy, tr, s.op)
		if !errors.Is(err, context.Canceled) || tr.Sent || len(s.times()) != 0 || c.Counters.Requests.Load() != 0 {
			t.Errorf("stopped while held: %v, sent %v, %d attempts; want canceled and nothing sent", err, tr.Sent, len(s.times()))
		}
	})
}

// The gate bounds calls in flight whatever the pacer allows.
func TestCallHonoursTheGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &Caller{Pacer: New(Config{}), Gate: NewGate(3), Counters: &Counters{}}
		var mu sync.Mutex
		in, most := 0, 0
		op := func(context.Context) error {
			mu.Lock()
			in++
			most = max(most, in)
			mu.Unlock()
			time.Sleep(time.Second)
			mu.Lock()
			in--
			mu.Unlock()
			return nil
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if err := c.Call(t.Context(), createPolicy, &Tries{}, op); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if most != 3 || c.Counters.Requests.Load() != 10 {
			t.Errorf("at most %d in flight over %d requests, want 3 over 10", most, c.Counters.Requests.Load())
		}
	})
}
