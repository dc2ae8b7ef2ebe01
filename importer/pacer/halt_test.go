package pacer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// unanswered is a connection refused: retryable (nothing was sent) and no answer at all.
type unanswered struct{}

func (unanswered) Error() string    { return "connection refused" }
func (unanswered) Retryable() bool  { return true }
func (unanswered) Unanswered() bool { return true }

// A 429 asking for a day, beyond MaxPause, halts at once: no pause is taken, the 429 is counted,
// the work stays untouched, and every later call returns the same halt without being made.
func TestRetryAfterBeyondMaxPauseHalts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 100})
		c := newCaller(p)
		c.MaxPause = 5 * time.Minute
		start := time.Now()
		s := &script{start: start, errs: []error{&callErr{class: Throttled, retry: 24 * time.Hour}}}
		tr := &Tries{}
		err := c.Call(t.Context(), createPolicy, tr, s.op)
		var he *HaltError
		if !errors.As(err, &he) || ClassOf(err) != Halted {
			t.Fatalf("Call = %v, want a HaltError", err)
		}
		if time.Since(start) != 0 {
			t.Errorf("halting took %v: it must not wait the pause out", time.Since(start))
		}
		if want := start.Add(24 * time.Hour).UTC().Truncate(time.Second); !he.Until.Equal(want) {
			t.Errorf("Until = %v, want %v", he.Until, want)
		}
		if !strings.Contains(he.Error(), "--max-pause 5m0s") || !strings.Contains(he.Error(), he.Until.Format(time.RFC3339)) {
			t.Errorf("message %q should say when to call back and which limit stopped it", he.Error())
		}
		if tr.Sent {
			t.Error("a 429 did nothing, yet the work counts as sent")
		}
		if st := p.Stats(); st.Pauses != 0 {
			t.Errorf("the pacer paused %d times for a pause nobody will wait out", st.Pauses)
		}
		if n := c.Counters.Status429.Load(); n != 1 {
			t.Errorf("429s counted %d, want 1", n)
		}
		other := &script{start: start}
		if err := c.Call(t.Context(), readPolicy, &Tries{}, other.op); !errors.As(err, &he) || len(other.times()) != 0 {
			t.Errorf("after a halt, another call gave %v after %d attempts; want the halt, none made", err, len(other.times()))
		}
	})
}

// A Retry-After within MaxPause is waited out as before.
func TestRetryAfterWithinMaxPauseWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCaller(New(Config{Rate: 100}))
		c.MaxPause = 5 * time.Minute
		s := &script{start: time.Now(), errs: []error{&callErr{class: Throttled, retry: 4 * time.Minute}}}
		if err := c.Call(t.Context(), createPolicy, &Tries{}, s.op); err != nil {
			t.Fatal(err)
		}
		if at := s.times(); len(at) != 2 || at[1] != 4*time.Minute {
			t.Errorf("attempts at %v, want the second after 4m", at)
		}
	})
}

// Calls that get no answer at all halt the run once Unreachable has passed with at least
// minMisses of them; an answer in between starts the count again.
func TestUnreachableHalts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCaller(New(Config{}))
		c.Unreachable = 10 * time.Second
		start := time.Now()
		errs := make([]error, 50)
		for i := range errs {
			errs[i] = unanswered{}
		}
		s := &script{start: start, errs: errs}
		tr := &Tries{}
		err := c.Call(t.Context(), Idempotent(100), tr, s.op)
		var he *HaltError
		if !errors.As(err, &he) || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("Call = %v, want an unreachable halt naming the last failure", err)
		}
		at := s.times()
		if len(at) < minMisses || at[len(at)-1] < 10*time.Second {
			t.Errorf("halted after %d attempts at %v: want at least %d over 10s", len(at), at, minMisses)
		}
		if at[len(at)-1] > 40*time.Second {
			t.Errorf("halted only at %v", at[len(at)-1])
		}
		if tr.Sent {
			t.Error("work refused before a byte was written counts as sent")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		c := newCaller(New(Config{}))
		c.Unreachable = 10 * time.Second
		for range 4 { // three misses over 8s, then an answer: never 10s without one
			s := &script{start: time.Now(), errs: []error{unanswered{}, unanswered{}, unanswered{}}}
			c.Sleep = func(ctx context.Context, d time.Duration) error { return Sleep(ctx, 4*time.Second) }
			if err := c.Call(t.Context(), Idempotent(5), &Tries{}, s.op); err != nil {
				t.Fatalf("halted though an answer came every 8s: %v", err)
			}
		}
	})
}

// Until a request may have reached the server, a stop (Tries.Unsent) ends every wait at once:
// a pause, a backoff sleep, a wait for a slot. Work that may have been done waits on.
func TestStopEndsWaitsOfUntouchedWork(t *testing.T) {
	for _, tc := range []struct {
		name string
		errs []error
		pol  Policy
		sent bool // the work may have been done: the stop does not end its waits
	}{
		{"a 429's pause", []error{&callErr{class: Throttled, retry: 4 * time.Minute}}, createPolicy, false},
		{"a 503's backoff", []error{&callErr{class: Retryable, retry: 20 * time.Second}}, createPolicy, false},
		{"no answer's backoff", []error{unanswered{}, unanswered{}, unanswered{}, unanswered{}, unanswered{}}, createPolicy, false},
		{"after an ambiguous read", []error{errUnclear, &callErr{class: Retryable, retry: 20 * time.Second}}, readPolicy, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCaller(New(Config{Rate: 100}))
				c.MaxPause = 5 * time.Minute
				stop, cancel := context.WithCancel(t.Context())
				time.AfterFunc(time.Second, cancel)
				start := time.Now()
				s := &script{start: start, errs: tc.errs}
				tr := &Tries{Unsent: stop}
				err := c.Call(t.Context(), tc.pol, tr, s.op)
				took := time.Since(start)
				if tc.sent {
					if err != nil || took <= time.Second {
						t.Errorf("work that may have been done: Call = %v after %v; want it seen through", err, took)
					}
					return
				}
				if !errors.Is(err, context.Canceled) || took != time.Second {
					t.Errorf("Call = %v after %v; want the stop's error at 1s", err, took)
				}
				if tr.Sent {
					t.Error("work refused untouched counts as sent")
				}
			})
		})
	}
}
