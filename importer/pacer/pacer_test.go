package pacer

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// grants records when (fake time since start) and to which worker each slot was handed.
type grants struct {
	mu    sync.Mutex
	start time.Time
	at    []time.Duration
	by    []int
}

func (g *grants) add(worker int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.at = append(g.at, time.Since(g.start))
	g.by = append(g.by, worker)
}

func (g *grants) snapshot() ([]time.Duration, []int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Duration(nil), g.at...), append([]int(nil), g.by...)
}

// workers starts n goroutines that take slots until ctx ends; wait returns their Wait errors.
func workers(ctx context.Context, p *Pacer, n int, g *grants) (wait func() []error) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			for {
				if err := p.Wait(ctx); err != nil {
					errs[i] = err
					return
				}
				g.add(i)
			}
		})
	}
	return func() []error { wg.Wait(); return errs }
}

func TestAchievedRateMatchesRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 10})
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 6, g)
		time.Sleep(10*time.Second - time.Nanosecond) // window [0, 10s)
		cancel()
		wait()

		at, _ := g.snapshot()
		// One slot at t=0 from the burst, then one per 100ms: 100 slots in [0, 10s).
		if len(at) != 100 {
			t.Errorf("slots in 10s at 10 req/s = %d, want 100", len(at))
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i] - at[i-1]; gap < 100*time.Millisecond {
				t.Fatalf("slots %d and %d only %v apart, want >= 100ms", i-1, i, gap)
			}
		}
		if s := p.Stats(); s.Waits != int64(len(at)) || s.Rate != 10 {
			t.Errorf("Stats = %+v, want %d waits at rate 10", s, len(at))
		}
	})
}

func TestBurstAllowsThatManyAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 2, Burst: 5}) // the bucket keeps back 200ms at 2/s: one slot
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 8, g)
		time.Sleep(time.Second - time.Nanosecond)
		cancel()
		wait()
		at, _ := g.snapshot()
		var atZero int
		for _, d := range at {
			if d == 0 {
				atZero++
			}
		}
		if atZero != 4 || len(at) != 5 { // 4 at once, then one more at 500ms
			t.Errorf("burst 4 at 2 req/s: %d at t=0, %d in the first second; want 4 and 5 (%v)", atZero, len(at), at)
		}
	})
}

func TestBackoffPausesEveryWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 50})
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		const n = 5
		wait := workers(ctx, p, n, g)

		time.Sleep(time.Second)
		p.Backoff(3 * time.Second) // the gate closes at t=1s until t=4s
		time.Sleep(500 * time.Millisecond)
		p.Backoff(time.Second) // a shorter Retry-After must not reopen it at t=2.5s
		time.Sleep(3 * time.Second)
		cancel()
		wait()

		at, by := g.snapshot()
		seenAfter := map[int]bool{}
		var before int
		for i, d := range at {
			if d > time.Second && d < 4*time.Second {
				t.Fatalf("worker %d got a slot at %v, inside the 429 pause [1s, 4s)", by[i], d)
			}
			if d <= time.Second {
				before++
			}
			if d >= 4*time.Second {
				seenAfter[by[i]] = true
			}
		}
		if before < 40 {
			t.Errorf("only %d slots before the pause, want about 50", before)
		}
		if len(seenAfter) != n {
			t.Errorf("%d of %d workers resumed after the pause", len(seenAfter), n)
		}
		if s := p.Stats(); s.Pauses != 2 || s.Decreases != 1 {
			t.Errorf("Stats = %+v, want 2 pauses and 1 decrease (same window)", s)
		}
	})
}

func TestBackoffWithoutRetryAfterStillPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 100})
		start := time.Now()
		p.Backoff(0)
		if err := p.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != defaultPause {
			t.Errorf("first slot after Backoff(0) at %v, want %v", got, defaultPause)
		}
	})
}

// The x/time/rate sharp edge: slots booked before a rate cut must not be released at the old rate.
func TestRateCutRetimesBookedSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 10})
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 30, g) // 30 workers book slots up to 2.9s ahead at 10 req/s

		time.Sleep(50 * time.Millisecond)
		p.Backoff(500 * time.Millisecond) // rate 5, gate until 550ms
		time.Sleep(3 * time.Second)
		cancel()
		wait()

		at, _ := g.snapshot()
		var after []time.Duration
		for _, d := range at {
			if d > 50*time.Millisecond {
				after = append(after, d)
			}
		}
		if len(after) == 0 || after[0] < 550*time.Millisecond {
			t.Fatalf("slots after the 429 start at %v, want >= 550ms", after)
		}
		for i := 1; i < len(after); i++ {
			if gap := after[i] - after[i-1]; gap < 200*time.Millisecond {
				t.Fatalf("after the cut to 5 req/s, slots at %v and %v are %v apart (old bookings released at 10 req/s)",
					after[i-1], after[i], gap)
			}
		}
		// From 550ms to 3.05s at 5 req/s: 1 + 2.5s*5 = 13 slots (12 spaced + the burst slot).
		if len(after) < 12 || len(after) > 13 {
			t.Errorf("%d slots after the cut, want 12-13 (%v)", len(after), after)
		}
	})
}

func TestAIMDHalvesThenRecoversToCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 8})
		p.Backoff(time.Second)
		if got := p.Rate(); got != 4 {
			t.Fatalf("after one 429: rate %v, want 4", got)
		}
		p.Backoff(time.Second) // same window: in-flight requests' 429s must not halve again
		if got := p.Rate(); got != 4 {
			t.Fatalf("second 429 in the same window: rate %v, want 4", got)
		}
		time.Sleep(time.Second)
		p.Backoff(time.Second)
		if got := p.Rate(); got != 2 {
			t.Fatalf("429 in the next window: rate %v, want 2", got)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		prev, reached := p.Rate(), time.Duration(0)
		start := time.Now()
		for ctx.Err() == nil {
			if err := p.Wait(ctx); err != nil {
				break
			}
			p.Success()
			r := p.Rate()
			if r > 8 {
				t.Fatalf("rate %v above the ceiling 8", r)
			}
			if r < prev {
				t.Fatalf("rate fell from %v to %v without a 429", prev, r)
			}
			if r == 8 && reached == 0 {
				reached = time.Since(start)
			}
			prev = r
		}
		if reached == 0 {
			t.Fatalf("rate never recovered to 8 (ended at %v)", p.Rate())
		}
		if reached < 10*time.Second {
			t.Errorf("recovered from 2 to 8 in %v: additive increase should take about 15 steps of a second", reached)
		}
		s := p.Stats()
		if s.Decreases != 2 || s.Pauses != 3 || s.Increases < 15 || s.Rate != 8 {
			t.Errorf("Stats = %+v, want 2 decreases, 3 pauses, >=15 increases, rate 8", s)
		}
	})
}

func TestRateNeverBelowFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 80})
		for range 20 {
			p.Backoff(time.Second)
			time.Sleep(time.Second)
		}
		if got := p.Rate(); got != floorRate {
			t.Errorf("after 20 windows of 429s: rate %v, want the floor %v", got, floorRate)
		}
	})
}

func TestSuccessAtCeilingIsNoop(t *testing.T) {
	p := New(Config{Rate: 8})
	for range 100 {
		p.Success()
	}
	if s := p.Stats(); s.Rate != 8 || s.Increases != 0 {
		t.Errorf("Stats = %+v, want rate 8 and no increases", s)
	}
}

func TestCancelEndsEveryWaitPromptly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backoff time.Duration // 0: workers are queued in the limiter; else held at the gate
	}{{"queued for slots", 0}, {"held at the gate", time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := New(Config{Rate: 0.1}) // one slot per 10s: 20 waiters queue for 200s
				if tc.backoff > 0 {
					p.Backoff(tc.backoff)
				}
				ctx, cancel := context.WithCancel(t.Context())
				const n = 20
				ended := make(chan time.Duration, n)
				errs := make(chan error, n)
				start := time.Now()
				for range n {
					go func() {
						var err error
						for err == nil {
							err = p.Wait(ctx)
						}
						errs <- err
						ended <- time.Since(start)
					}()
				}
				time.Sleep(time.Second)
				cancel()
				for range n {
					if err := <-errs; !errors.Is(err, context.Canceled) {
						t.Errorf("Wait returned %v, want context.Canceled", err)
					}
					if d := <-ended; d != time.Second {
						t.Errorf("a waiter ended at %v, want at the cancel (1s)", d)
					}
				}
			})
		})
	}
}

func TestCanceledWaiterGivesBackItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 1})
		start := time.Now()
		if err := p.Wait(t.Context()); err != nil { // the burst slot, at t=0
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- p.Wait(ctx) }() // books the slot at t=1s
		time.Sleep(500 * time.Millisecond)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled Wait: %v", err)
		}
		if err := p.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("next slot at %v, want 1s (the canceled booking handed back)", got)
		}
	})
}

func TestUnlimited(t *testing.T) {
	p := New(Config{})
	for range 1000 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	p.Backoff(time.Second)
	if !math.IsInf(p.Rate(), 1) {
		t.Errorf("unlimited pacer: rate %v after a 429, want +Inf (no AIMD)", p.Rate())
	}
}

func TestInjectedClock(t *testing.T) {
	// With a clock frozen inside a 429 pause, Wait must stay blocked until ctx ends.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := New(Config{Rate: 5, Now: func() time.Time { return now }})
	p.Backoff(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait during a paused fake clock: %v, want deadline exceeded", err)
	}
}

func TestJitter(t *testing.T) {
	half := func() float64 { return 0.5 }
	base, ceil := 100*time.Millisecond, 10*time.Second
	for _, tc := range []struct {
		attempt int
		rnd     func() float64
		want    time.Duration
	}{
		{0, half, 50 * time.Millisecond},
		{1, half, 100 * time.Millisecond},
		{3, half, 400 * time.Millisecond},
		{20, half, 5 * time.Second}, // capped
		{10000, half, 5 * time.Second},
		{3, func() float64 { return 0 }, 0},
		{0, func() float64 { return 1 }, 100*time.Millisecond - 1}, // never the full ceiling
	} {
		if got := Jitter(tc.attempt, base, ceil, tc.rnd); got != tc.want {
			t.Errorf("Jitter(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
	for range 1000 {
		if d := Jitter(4, base, ceil, nil); d < 0 || d >= 1600*time.Millisecond {
			t.Fatalf("Jitter(4) with default rnd = %v, want in [0, 1.6s)", d)
		}
	}
	if d := Jitter(200, time.Second, 0, half); d <= 0 {
		t.Errorf("uncapped Jitter overflowed: %v", d)
	}
}

func TestNoIncreaseUntilASecondAfterThePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 8})
		p.Backoff(3 * time.Second) // rate 4, gate until 3s
		time.Sleep(3500 * time.Millisecond)
		for range 10 {
			p.Success() // late answers to requests sent before or just after the pause
		}
		if got := p.Rate(); got != 4 {
			t.Fatalf("rate %v at 3.5s, want 4: no increase within a second of the pause ending", got)
		}
		time.Sleep(500 * time.Millisecond)
		p.Success()
		if got := p.Rate(); got != 4.4 {
			t.Errorf("rate %v at 4s after 11 successes, want 4.4 (one step of 5%% of 8)", got)
		}
	})
}

// The documented pace: a production window's budget at once (less the 200ms kept back), then
// the rate, slot by slot.
func TestBurstThenSteadyRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 100, Burst: 1000})
		if got := p.Ready(); got != 980 {
			t.Fatalf("a fresh bucket holds %d slots, want 980 (1000 less 200ms at 100/s)", got)
		}
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 300, g)
		time.Sleep(10*time.Second - time.Nanosecond)
		cancel()
		wait()
		at, _ := g.snapshot()
		var atZero int
		for _, d := range at {
			if d == 0 {
				atZero++
			}
		}
		if atZero != 980 {
			t.Errorf("%d slots at t=0, want the burst of 980", atZero)
		}
		steady := at[atZero:]
		for i := 1; i < len(steady); i++ {
			if gap := steady[i] - steady[i-1]; gap < 10*time.Millisecond-time.Microsecond { // float rounding
				t.Fatalf("after the burst, slots %v and %v are only %v apart, want >= 10ms", steady[i-1], steady[i], gap)
			}
		}
		// In [0, 10s): the burst, then one slot per 10ms from 10ms on: 999 more.
		if len(steady) != 999 {
			t.Errorf("%d slots after the burst in 10s, want 999 at 100/s", len(steady))
		}
		if p.Ready() != 0 {
			t.Errorf("Ready = %d with every slot taken, want 0", p.Ready())
		}
	})
}

// A 429 after the burst: every worker waits out Retry-After, the rate halves, and the bucket
// refills from one slot, not from full (a full bucket would send a burst into the next 429).
// Then successes creep the rate back to the ceiling, never above it.
func TestBackoffAfterBurstRefillsFromOneSlotAndCreepsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 100, Burst: 1000})
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 50, g)
		time.Sleep(time.Second)
		p.Backoff(2 * time.Second) // at t=1s: held until 3s, rate 50
		time.Sleep(3*time.Second - time.Nanosecond)
		cancel()
		wait()
		at, _ := g.snapshot()
		var after []time.Duration
		for _, d := range at {
			if d > time.Second && d < 3*time.Second {
				t.Fatalf("a slot at %v, inside the pause [1s, 3s)", d)
			}
			if d >= 3*time.Second {
				after = append(after, d)
			}
		}
		if len(after) == 0 || after[0] != 3*time.Second {
			t.Fatalf("first slot after the pause at %v, want 3s", after)
		}
		for i := 1; i < len(after); i++ {
			if gap := after[i] - after[i-1]; gap < 20*time.Millisecond-time.Microsecond {
				t.Fatalf("after the pause, slots %v and %v are %v apart: a burst, want >= 20ms (50/s)", after[i-1], after[i], gap)
			}
		}
		if len(after) != 50 { // the one slot at 3s, then 49 more at 50/s in [3s, 4s)
			t.Errorf("%d slots in the second after the pause, want 50", len(after))
		}
		if s := p.Stats(); s.Rate != 50 || s.Decreases != 1 {
			t.Fatalf("Stats = %+v, want rate 50 after one decrease", s)
		}

		// Creep back: one step of 5/s (5% of 100) per second of successes, up to 100.
		ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		start, reached := time.Now(), time.Duration(0)
		for ctx.Err() == nil && p.Wait(ctx) == nil {
			p.Success()
			if r := p.Rate(); r > 100 {
				t.Fatalf("rate %v above the ceiling 100", r)
			} else if r == 100 && reached == 0 {
				reached = time.Since(start)
			}
		}
		if reached < 9*time.Second || reached > 12*time.Second {
			t.Errorf("rate back to 100 after %v, want about 10s (10 steps of a second)", reached)
		}
	})
}

// runAt takes slots and reports each as a success for d, then returns the rate.
func runAt(t *testing.T, p *Pacer, d time.Duration) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for p.Wait(ctx) == nil {
		p.Success()
	}
	return p.Rate()
}

// --rate auto: while no 429 comes back, the rate climbs above the documented limit by 5% of
// it every 250ms, up to MaxRate; a 429 pauses and halves it, and from then on it climbs one
// step a second, as AIMD.
func TestAutoProbesUpToMaxRateAndHalvesOn429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 100, Burst: 1000, Auto: true, MaxRate: 200})
		if got := runAt(t, p, 2*time.Second+time.Millisecond); got < 125 || got > 140 {
			t.Fatalf("auto rate after 2s without a 429: %v, want about 135 (5/s a quarter second)", got)
		}
		if got := runAt(t, p, 10*time.Second); got != 200 {
			t.Fatalf("auto rate after 12s: %v, want the ceiling 200", got)
		}
		if s := p.Stats(); s.Increases != 20 {
			t.Errorf("%d increases from 100 to 200, want 20 steps of 5", s.Increases)
		}

		start := time.Now()
		p.Backoff(time.Second)
		if got := p.Rate(); got != 100 {
			t.Fatalf("after a 429 at 200/s: rate %v, want 100", got)
		}
		if err := p.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("the 429 held the next slot %v, want its Retry-After, 1s", waited)
		}
		// One step a second from now on: 5 steps in 5s (the first a second after the pause).
		if got := runAt(t, p, 5*time.Second+time.Millisecond); got < 120 || got > 125 {
			t.Errorf("auto rate 5s after the 429: %v, want 120-125 (a step of 5 a second)", got)
		}
	})
}

func TestAutoDefaults(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want float64 // the ceiling
	}{
		{Config{Rate: 100, Auto: true}, 1000},                  // 10x the documented limit
		{Config{Rate: 10, Auto: true, MaxRate: 5}, 10},         // never below the starting rate
		{Config{Rate: 100, Auto: false, MaxRate: 500}, 100},    // MaxRate only with Auto
		{Config{Rate: 100, Auto: true, MaxRate: 250}, 250},     // as given
		{Config{Auto: true, MaxRate: 250}, math.Inf(1)},        // unlimited stays unlimited
		{Config{Rate: 1, Auto: true, MaxRate: math.NaN()}, 10}, // NaN: the default
	} {
		if got := New(tc.cfg).max; got != tc.want {
			t.Errorf("New(%+v) ceiling %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

// An explicit --rate is smooth (Burst 1): it keeps to its rate from the first second, leaving
// the rest of the window's budget to the instance's own traffic.
func TestExplicitRateIsSmooth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 60})
		g := &grants{start: time.Now()}
		ctx, cancel := context.WithCancel(t.Context())
		wait := workers(ctx, p, 20, g)
		time.Sleep(time.Second - time.Nanosecond)
		cancel()
		wait()
		if at, _ := g.snapshot(); len(at) != 60 || p.Ready() != 0 {
			t.Errorf("%d slots in the first second at --rate 60 (Ready %d), want 60 and no burst", len(at), p.Ready())
		}
	})
}
