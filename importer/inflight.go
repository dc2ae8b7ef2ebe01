package importer

import (
	"context"
	"math"
	"sync"
	"time"
)

// inflight bounds the requests in flight. With a fixed limit it is --concurrency; adaptive, it
// follows the latency the run observes, so the pool holds exactly what sustains the pacer's
// rate (rate × latency, with headroom) without flooding a slow server with idle connections.
type inflight struct {
	mu       sync.Mutex
	cond     chan struct{} // closed and replaced whenever a slot frees or the limit moves
	limit    int
	used     int
	adaptive bool
	ewma     time.Duration // smoothed latency of calls
	max      int
}

func newInflight(limit, max int, adaptive bool) *inflight {
	return &inflight{cond: make(chan struct{}), limit: limit, max: max, adaptive: adaptive}
}

// acquire waits for a slot, or for ctx to end.
func (g *inflight) acquire(ctx context.Context) error {
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

func (g *inflight) release() {
	g.mu.Lock()
	g.used--
	g.broadcastLocked()
	g.mu.Unlock()
}

func (g *inflight) broadcastLocked() {
	close(g.cond)
	g.cond = make(chan struct{})
}

// observe folds one call's latency in and, when adaptive, resizes the limit for rate.
func (g *inflight) observe(latency time.Duration, rate float64) {
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
	want := sustaining(rate, g.ewma, g.max)
	if want != g.limit {
		g.limit = want
		g.broadcastLocked()
	}
}

// sustaining is the in-flight count that holds rate at latency: Little's law with half again
// as headroom for latency swings, at least 2, at most max.
func sustaining(rate float64, latency time.Duration, max int) int {
	n := int(math.Ceil(rate*latency.Seconds()*1.5)) + 2
	return min(max, n)
}

func (g *inflight) current() (limit int, latency time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit, g.ewma
}
