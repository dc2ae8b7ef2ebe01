package pacer

import (
	"context"
	"math"
	"sync"
	"time"
)

// MaxInflight bounds the requests in flight (Clerk's production limit is 100 requests/s: 256
// in flight covers 1.7 s of latency at that pace, and sends a 1000-request burst in four
// round trips).
const MaxInflight = 256

// guessLatency is what an adaptive gate assumes until the first answers say otherwise.
const guessLatency = 300 * time.Millisecond

// Gate bounds the requests in flight. With a fixed limit it is --concurrency; adaptive, it
// follows the latency the run observes, so the pool holds exactly what sustains the pacer's
// rate (Concurrency) without flooding a slow server with idle connections.
type Gate struct {
	mu       sync.Mutex
	cond     chan struct{} // closed and replaced whenever a slot frees or the limit moves
	limit    int
	used     int
	adaptive bool
	ewma     time.Duration // smoothed latency of calls
}

// NewGate is a gate of a fixed limit (at least 1).
func NewGate(limit int) *Gate {
	return &Gate{cond: make(chan struct{}), limit: max(1, limit)}
}

// NewAdaptiveGate is a gate whose limit sustains rate at the latency observed.
func NewAdaptiveGate(rate float64) *Gate {
	return &Gate{cond: make(chan struct{}), limit: Concurrency(rate, guessLatency), adaptive: true}
}

// Acquire waits for a slot, or for ctx to end.
func (g *Gate) Acquire(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.used < g.limit {
			g.used++
			g.mu.Unlock()
			return nil
		}
		wake := g.cond
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Release gives back a slot Acquire took.
func (g *Gate) Release() {
	g.mu.Lock()
	g.used--
	g.broadcastLocked()
	g.mu.Unlock()
}

func (g *Gate) broadcastLocked() {
	close(g.cond)
	g.cond = make(chan struct{})
}

// Observe folds one call's latency in and, when adaptive, resizes the limit for rate plus
// ready, the slots the pacer's bucket holds now: a burst of them may all go within one
// round trip (a full production budget is 1000 at once), then the limit shrinks back to
// what the rate alone needs.
func (g *Gate) Observe(latency time.Duration, rate float64, ready int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ewma == 0 {
		g.ewma = latency
	} else {
		g.ewma = (g.ewma*7 + latency) / 8
	}
	if !g.adaptive {
		return
	}
	if want := min(MaxInflight, Concurrency(rate, g.ewma)+max(0, ready)); want != g.limit {
		g.limit = want
		g.broadcastLocked()
	}
}

// Current is the limit and the smoothed latency, for the summary.
func (g *Gate) Current() (limit int, latency time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.ewma
}

// Concurrency is how many requests must be in flight to sustain rate at the given latency:
// Little's law with 50% headroom for latency swings, plus 2, at most MaxInflight. Rate <= 0
// (unlimited) gives MaxInflight. The one formula: the adaptive gate and main's fixed pools use it.
func Concurrency(rate float64, latency time.Duration) int {
	if rate <= 0 || math.IsInf(rate, 1) || math.IsNaN(rate) {
		return MaxInflight
	}
	n := math.Ceil(rate*latency.Seconds()*1.5-1e-9) + 2 // the epsilon absorbs float noise (24.000000000000004)
	if n > MaxInflight {
		return MaxInflight
	}
	return max(1, int(n))
}
