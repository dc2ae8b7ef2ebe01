package pacer

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestGateAdaptsToLatencyAndWakesWaiters(t *testing.T) {
	g := NewAdaptiveGate(10) // starts at what 10 req/s needs at 300ms: 7
	g.limit = 2
	ctx := context.Background()
	must(t, g.Acquire(ctx))
	must(t, g.Acquire(ctx))
	got := make(chan error, 1)
	go func() { got <- g.Acquire(ctx) }()
	select {
	case <-got:
		t.Fatal("a third request went out with a limit of 2")
	case <-time.After(50 * time.Millisecond):
	}
	// Slow answers at 50 requests/s need more in flight: the waiter is let through.
	g.Observe(400*time.Millisecond, 50, 0)
	select {
	case err := <-got:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("raising the limit did not wake the waiter")
	}
	if limit, latency := g.Current(); limit != 32 || latency != 400*time.Millisecond {
		t.Errorf("limit %d latency %v, want 32 at 400ms", limit, latency)
	}

	// A fixed limit (--concurrency) never moves, and a cancelled wait returns.
	f := NewGate(1)
	must(t, f.Acquire(ctx))
	f.Observe(time.Second, 100, 500)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := f.Acquire(cctx); err == nil {
		t.Fatal("a fixed limit of 1 let a second request out")
	}
	f.Release()
	must(t, f.Acquire(ctx))
}

func TestAdaptiveGateStartsAtTheGuess(t *testing.T) {
	if limit, _ := NewAdaptiveGate(10).Current(); limit != Concurrency(10, guessLatency) || limit != 7 {
		t.Errorf("adaptive gate at 10 req/s starts at %d, want 7 (10 x 0.3s x 1.5 + 2)", limit)
	}
	if limit, _ := NewAdaptiveGate(0).Current(); limit != MaxInflight {
		t.Errorf("adaptive gate with no rate limit starts at %d, want %d", limit, MaxInflight)
	}
}

func TestConcurrency(t *testing.T) {
	for _, tc := range []struct {
		rate    float64
		latency time.Duration
		want    int
	}{
		{80, 200 * time.Millisecond, 26}, // 80*0.2*1.5 = 24, +2
		{8, 200 * time.Millisecond, 5},   // ceil(2.4) = 3, +2
		{0.5, 10 * time.Millisecond, 3},
		{1e6, time.Second, 256},
		{0, time.Second, 256},
		{10, 0, 2},
		{100, 200 * time.Millisecond, 32}, // Little's law: 20 in flight, +50%, +2
		{8, 50 * time.Millisecond, 3},
	} {
		if got := Concurrency(tc.rate, tc.latency); got != tc.want {
			t.Errorf("Concurrency(%v, %v) = %d, want %d", tc.rate, tc.latency, got, tc.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A burst needs room: while the pacer's bucket holds slots, the adaptive gate lets that many
// more out (up to MaxInflight), then shrinks back to what the rate alone needs.
func TestAdaptiveGateMakesRoomForABurst(t *testing.T) {
	g := NewAdaptiveGate(100)
	g.Observe(80*time.Millisecond, 100, 975) // 100/s at 80ms needs 14; the burst wants 975 more
	if limit, _ := g.Current(); limit != MaxInflight {
		t.Errorf("limit %d with a burst of 975 ready, want MaxInflight %d", limit, MaxInflight)
	}
	g.Observe(80*time.Millisecond, 100, 30)
	if limit, _ := g.Current(); limit != Concurrency(100, 80*time.Millisecond)+30 || limit != 44 {
		t.Errorf("limit %d with 30 slots ready, want 14 + 30", limit)
	}
	g.Observe(80*time.Millisecond, 100, 0)
	if limit, _ := g.Current(); limit != 14 {
		t.Errorf("limit %d once the burst is spent, want 14 (100/s x 80ms x 1.5 + 2)", limit)
	}
}

// The pacer's Ready is what the gate is told: the bucket's slots, none during a pause or
// when unlimited.
func TestReadyCountsTheBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(Config{Rate: 10, Burst: 100})
		for range 10 {
			must(t, p.Wait(t.Context()))
		}
		if got := p.Ready(); got != 88 { // 100 less 2 kept back, less 10 taken
			t.Errorf("Ready = %d, want 88", got)
		}
		p.Backoff(time.Second)
		if got := p.Ready(); got != 0 {
			t.Errorf("Ready during a pause = %d, want 0", got)
		}
		time.Sleep(time.Second)
		if got := p.Ready(); got != 1 {
			t.Errorf("Ready as the pause ends = %d, want 1 (the bucket refills from one slot)", got)
		}
		if got := New(Config{}).Ready(); got != 0 {
			t.Errorf("unlimited Ready = %d, want 0", got)
		}
	})
}
