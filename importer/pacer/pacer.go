// Package pacer is the one path every API call of a run takes. Pacer spaces the calls: one
// token bucket for all of them (a burst of a window's budget, then the rate), a shared pause
// gate that a 429's Retry-After closes for every worker, and AIMD on the rate (halve on 429,
// creep back up on sustained success; in auto mode, probe above the starting rate). Gate bounds
// the calls in flight. Caller.Call makes a call through both and retries it as a Policy says:
// which classes of failure are tried again, whose Retry-After pauses everyone, when to give up.
package pacer

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	floorRate     = 0.5                    // req/s the rate never halves below
	increaseStep  = 0.05                   // of Config.Rate, per increase
	increaseEvery = time.Second            // at most one increase per this
	probeEvery    = 250 * time.Millisecond // auto mode, until the first 429: one step per this
	defaultPause  = 1 * time.Second        // a 429 without Retry-After still pauses everyone
	autoMaxFactor = 10                     // auto mode's default ceiling, x Config.Rate
	// burstSlack is how much of a burst the bucket keeps back, in time at Config.Rate. A
	// window's budget matched slot for slot leaves no room: the first request's extra latency
	// (a dial, a TLS handshake) puts the server's bucket that far behind ours, and the first
	// slot after the burst meets a 429 that halves the rate (measured: one in the first
	// second of a 300-user development run). 200 ms is 20 of 1000, 2 of 100.
	burstSlack = 200 * time.Millisecond
)

// Config sets the pace. Rate <= 0 means unlimited: no spacing, no AIMD, pauses still apply.
type Config struct {
	// Rate is the requests per second to start at and, unless Auto, the ceiling AIMD climbs
	// back to after a 429.
	Rate float64
	// Burst is the server's budget that may go at once (Clerk's limit is a budget per 10 s
	// window, so the documented pace is Rate with the window's budget as the burst). The
	// bucket holds that less 200 ms of Rate (see burstSlack) and starts full; after a 429's
	// pause it refills from one slot, not from full. Default 1: smooth, no slack.
	Burst int
	// Auto lets the rate probe above Rate, in steps of 5% of Rate, while no 429 comes back
	// (one step per 250 ms of success; after the first 429, one per second as AIMD), up to MaxRate.
	Auto bool
	// MaxRate is Auto's ceiling; <= 0 means 10 x Rate. Ignored unless Auto.
	MaxRate float64
	Now     func() time.Time // optional clock for reading time; waits still use timers (tests use synctest)
}

// Stats is a snapshot of the pacer's counters.
type Stats struct {
	Waits     int64   // Wait calls granted a slot
	Pauses    int64   // Backoff calls (429s seen)
	Decreases int64   // AIMD halvings
	Increases int64   // AIMD steps up
	Rate      float64 // current rate, req/s (+Inf when unlimited)
}

// Pacer is safe for concurrent use; one is shared by every worker of a run.
type Pacer struct {
	now   func() time.Time
	base  float64 // Config.Rate: what the additive step is a share of
	max   float64 // the ceiling: Config.Rate, or MaxRate in auto mode
	floor float64
	burst int
	auto  bool

	mu         sync.Mutex
	lim        *rate.Limiter
	cur        float64
	epoch      uint64    // bumped when slots booked earlier became too early (rate cut, pause)
	pauseUntil time.Time // the gate: no slot is granted before this
	holdUntil  time.Time // no second halving before this: one decrease per Retry-After window
	lastChange time.Time
	successes  int
	throttled  bool // a 429 has come back: auto mode stops its fast probing
	stats      Stats
}

// New builds a Pacer running at cfg.Rate, its bucket full.
func New(cfg Config) *Pacer {
	p := &Pacer{now: cfg.Now, base: cfg.Rate, burst: cfg.Burst}
	if p.now == nil {
		p.now = time.Now
	}
	if p.burst < 1 {
		p.burst = 1
	}
	if p.base <= 0 || math.IsInf(p.base, 1) || math.IsNaN(p.base) {
		p.base = math.Inf(1)
	}
	p.max = p.base
	if cfg.Auto && !math.IsInf(p.base, 1) {
		p.auto = true
		p.max = cfg.MaxRate
		if !(p.max > 0) || math.IsInf(p.max, 1) { // also NaN
			p.max = p.base * autoMaxFactor
		}
		p.max = math.Max(p.max, p.base)
	}
	if p.burst > 1 && !math.IsInf(p.base, 1) {
		p.burst = max(1, p.burst-int(math.Ceil(p.base*burstSlack.Seconds()-1e-9)))
	}
	p.floor = math.Min(floorRate, p.base)
	p.cur = p.base
	p.lim = rate.NewLimiter(p.limit(), p.burst)
	p.lastChange = p.now()
	return p
}

func (p *Pacer) limit() rate.Limit {
	if math.IsInf(p.cur, 1) {
		return rate.Inf
	}
	return rate.Limit(p.cur)
}

// Wait blocks until the pause gate is open and a slot is free, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.mu.Lock()
		now := p.now()
		if now.Before(p.pauseUntil) {
			d := p.pauseUntil.Sub(now)
			p.mu.Unlock()
			if err := Sleep(ctx, d); err != nil {
				return err
			}
			continue // the pause may have been extended meanwhile
		}
		lim, epoch := p.lim, p.epoch
		r := lim.ReserveN(now, 1)
		d := r.DelayFrom(now)
		if d == 0 {
			p.stats.Waits++
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()

		if err := Sleep(ctx, d); err != nil {
			p.mu.Lock()
			if p.lim == lim {
				r.CancelAt(p.now()) // hand the slot back to the waiters behind us
			}
			p.mu.Unlock()
			return err
		}
		p.mu.Lock()
		if p.epoch == epoch {
			p.stats.Waits++
			p.mu.Unlock()
			return nil
		}
		// The slot was booked at a rate the server has since refused: book again under the new terms.
		p.mu.Unlock()
	}
}

// Sleep waits for d, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff records a 429: every waiter is held until now+retryAfter (a later pause extends the
// gate, an earlier one never shortens it), and the rate halves once per such window.
func (p *Pacer) Backoff(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = defaultPause
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.stats.Pauses++
	p.successes = 0
	p.throttled = true
	if until := now.Add(retryAfter); until.After(p.pauseUntil) {
		p.pauseUntil = until
	}
	if !now.Before(p.holdUntil) && !math.IsInf(p.cur, 1) && p.cur > p.floor {
		p.cur = math.Max(p.cur/2, p.floor)
		p.stats.Decreases++
		p.holdUntil = p.pauseUntil
		p.lastChange = now
	}
	// SetLimit would not re-time slots already booked; a fresh bucket plus the epoch bump does.
	// It refills from one slot at the pause's end: the server's own budget is spent, and a
	// full bucket would send a window's burst straight into the next 429.
	p.lim = rate.NewLimiter(p.limit(), p.burst)
	if p.burst > 1 {
		p.lim.ReserveN(p.pauseUntil, p.burst-1)
	}
	p.epoch++
}

// Success records a request the server accepted. After a second's worth of successes at the
// current rate, and at least a second since the last change, the rate steps up by 5% of
// Config.Rate, never above the ceiling. In auto mode, until the first 429, a quarter second's
// worth and a quarter second suffice: it finds a raised limit within seconds, not minutes.
func (p *Pacer) Success() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur >= p.max {
		return
	}
	p.successes++
	now := p.now()
	every := increaseEvery
	if p.auto && !p.throttled {
		every = probeEvery
	}
	need := max(1, int(p.cur*every.Seconds()))
	// Measured from the end of the last pause: successes of requests in flight at a 429 prove little.
	since := p.lastChange
	if p.pauseUntil.After(since) {
		since = p.pauseUntil
	}
	if p.successes < need || now.Sub(since) < every {
		return
	}
	p.cur = math.Min(p.max, p.cur+p.base*increaseStep)
	p.lim.SetLimitAt(now, p.limit()) // slots booked at the lower rate stay later: safe
	p.successes = 0
	p.lastChange = now
	p.stats.Increases++
}

// Rate is the current rate in requests per second.
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Ready is how many slots the bucket holds now (0 when unlimited or paused): a burst the
// in-flight gate must make room for.
func (p *Pacer) Ready() int {
	_, ready := p.Pace()
	return ready
}

// Pace is Rate and Ready under one lock: what the adaptive gate sizes itself for after each call.
func (p *Pacer) Pace() (rate float64, ready int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if math.IsInf(p.cur, 1) || p.burst == 1 {
		return p.cur, 0 // a bucket of one slot is no burst
	}
	now := p.now()
	if now.Before(p.pauseUntil) {
		return p.cur, 0
	}
	return p.cur, max(0, int(p.lim.TokensAt(now)))
}

// Stats returns a snapshot of the counters.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Rate = p.cur
	return s
}

// Jitter is exponential backoff with full jitter: a uniform pick in [0, min(max, base*2^attempt)).
// attempt counts from 0; rnd returns [0,1) and defaults to math/rand; max <= 0 means no cap.
func Jitter(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	if base <= 0 {
		return 0
	}
	if max <= 0 {
		max = math.MaxInt64
	}
	ceil := min(base, max)
	for i := 0; i < attempt && ceil < max; i++ {
		if ceil > max/2 {
			ceil = max
			break
		}
		ceil *= 2
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	switch {
	case f < 0 || math.IsNaN(f):
		f = 0
	case f >= 1:
		f = math.Nextafter(1, 0)
	}
	return time.Duration(f * float64(ceil))
}
