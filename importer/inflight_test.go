package importer

import (
	"context"
	"testing"
	"time"
)

func TestSustaining(t *testing.T) {
	for _, c := range []struct {
		rate    float64
		latency time.Duration
		want    int
	}{
		{100, 200 * time.Millisecond, 32}, // Little's law: 20 in flight, +50%, +2
		{8, 50 * time.Millisecond, 3},
		{1e6, time.Second, maxInflight}, // unlimited pace: capped
	} {
		if got := sustaining(c.rate, c.latency, maxInflight); got != c.want {
			t.Errorf("sustaining(%v, %v) = %d, want %d", c.rate, c.latency, got, c.want)
		}
	}
}

func TestInflightAdaptsToLatencyAndWakesWaiters(t *testing.T) {
	g := newInflight(2, maxInflight, true)
	ctx := context.Background()
	must(t, g.acquire(ctx))
	must(t, g.acquire(ctx))
	got := make(chan error, 1)
	go func() { got <- g.acquire(ctx) }()
	select {
	case <-got:
		t.Fatal("a third request went out with a limit of 2")
	case <-time.After(50 * time.Millisecond):
	}
	// Slow answers at 50 requests/s need more in flight: the waiter is let through.
	g.observe(400*time.Millisecond, 50)
	select {
	case err := <-got:
		must(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("raising the limit did not wake the waiter")
	}
	if limit, latency := g.current(); limit != 32 || latency != 400*time.Millisecond {
		t.Errorf("limit %d latency %v, want 32 at 400ms", limit, latency)
	}

	// A fixed limit (--concurrency) never moves, and a cancelled wait returns.
	f := newInflight(1, maxInflight, false)
	must(t, f.acquire(ctx))
	f.observe(time.Second, 100)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := f.acquire(cctx); err == nil {
		t.Fatal("a fixed limit of 1 let a second request out")
	}
	f.release()
	must(t, f.acquire(ctx))
}
