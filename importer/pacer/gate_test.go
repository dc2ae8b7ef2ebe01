package pacer

import (
	"context"
	"testing"
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
