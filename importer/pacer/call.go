package pacer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Class is what a failed call's error says about sending it again. The client decides it once,
// where the response is seen; ClassOf only reads the error's answers.
type Class uint8

const (
	Permanent Class = 1 << iota // refused: sending it again changes nothing
	Retryable                   // nothing was done: safe to send again
	Throttled                   // a Retryable refusal by the rate limit (HTTP 429)
	Ambiguous                   // it may have been done: settle it before sending again
	Fatal                       // every call will fail the same way: stop
)

// Transient are the classes worth another attempt after a backoff.
const Transient = Retryable | Throttled | Ambiguous

// The behaviours ClassOf reads off an error; an error with none of them is Permanent.
type (
	retryableError  interface{ Retryable() bool }
	throttledError  interface{ Throttled() bool }
	ambiguousError  interface{ Ambiguous() bool }
	fatalError      interface{ Fatal() bool }
	retryAfterError interface{ RetryAfter() time.Duration }
)

func answers[T any](err error, test func(T) bool) bool {
	var t T
	return errors.As(err, &t) && test(t)
}

// ClassOf is err's class: Fatal, Throttled, Retryable, Ambiguous or Permanent, in that order
// of precedence. A nil error has none (0).
func ClassOf(err error) Class {
	switch {
	case err == nil:
		return 0
	case answers(err, fatalError.Fatal):
		return Fatal
	case answers(err, throttledError.Throttled):
		return Throttled
	case answers(err, retryableError.Retryable):
		return Retryable
	case answers(err, ambiguousError.Ambiguous):
		return Ambiguous
	default:
		return Permanent
	}
}

// RetryAfter is the server's Retry-After carried by err, or 0.
func RetryAfter(err error) time.Duration {
	var e retryAfterError
	if errors.As(err, &e) {
		return e.RetryAfter()
	}
	return 0
}

// Policy is how Call treats one kind of call's failures. It is data, so each kind of call
// states its rules in one place and the loop that applies them is written once.
type Policy struct {
	// Retry are the classes sent again after a backoff; a failure of any other class returns
	// to the caller at once (Fatal always does).
	Retry Class
	// PauseAll are the classes whose Retry-After holds every call and lowers the rate (a 429);
	// any other failure's Retry-After holds only the call that saw it (a 503's).
	PauseAll Class
	// MaxRetries is how many failed attempts a piece of work may make after its first, over
	// every call made for it; below 0 counts as 0.
	MaxRetries int
	// Settles marks a look-up that settles an uncertain outcome: its first attempt is made even
	// when the work's retries are spent, since it cannot create anything twice.
	Settles bool
}

// Idempotent is the policy of a call that may safely be made twice (a read, a delete, an
// update to fixed values): every transient failure is tried again; a 429 pauses every call.
func Idempotent(maxRetries int) Policy {
	return Policy{Retry: Transient, PauseAll: Throttled, MaxRetries: maxRetries}
}

// NotIdempotent is the policy of a call that must never be repeated blind (a create): only a
// refusal that did nothing is tried again; an ambiguous failure comes back to be settled.
func NotIdempotent(maxRetries int) Policy {
	return Policy{Retry: Retryable | Throttled, PauseAll: Throttled, MaxRetries: maxRetries}
}

// Tries is one piece of work's account over the calls made for it (a row's creates and
// look-ups share one): failed attempts for the give-up rule, whether a request may have left,
// and the failure whose backoff the next attempt owes, whichever call makes it.
type Tries struct {
	// Unsent, when set, is the context waits use until a request leaves, so a stop can still
	// give the work back untouched. After that only Call's ctx ends them.
	Unsent context.Context
	Failed int  // failed attempts so far
	Sent   bool // a request may have reached the server
	last   error
	owed   bool // the next attempt backs off from last
}

// ErrSpent is wrapped, with the last failure, by Call's error when the work's retries are spent.
var ErrSpent = errors.New("retries spent")

// Counters count a run's API traffic; they are read live for metrics.
type Counters struct {
	Requests  atomic.Int64 // requests sent
	Status429 atomic.Int64 // refusals by the rate limit (Throttled)
	Retries   atomic.Int64 // attempts made again after a failure
}

// Backoff bounds for retries that carry no Retry-After.
const (
	BackoffBase = 500 * time.Millisecond
	BackoffMax  = 30 * time.Second
)

// Caller is the one path every API call of a run takes: the pacer's slot, the in-flight gate,
// the counters, Retry-After pauses, backoff with jitter and the give-up rule. Pacer, Gate and
// Counters must be set; it is safe for concurrent use.
type Caller struct {
	Pacer    *Pacer
	Gate     *Gate
	Counters *Counters
	// Sleep waits out a backoff (default Sleep); tests replace it. It returns early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, hears of each failure about to be tried again (the journal keeps them).
	OnRetry func(failed int, err error)
	// OnPause, if set, hears of each pause of every call (the report's time line shows them).
	OnPause func(err error)
}

// Call makes op under the pacer and the gate, and makes it again as pol says until it
// succeeds, fails in a class pol does not retry, or t's retries are spent (the error then
// wraps ErrSpent). Errors from waits are ctx's (or t.Unsent's before anything was sent).
// op must honour its ctx.
func (c *Caller) Call(ctx context.Context, pol Policy, t *Tries, op func(context.Context) error) error {
	for first := true; ; first = false {
		if t.Failed > max(pol.MaxRetries, 0) && !(first && pol.Settles) {
			return fmt.Errorf("%w: %w", ErrSpent, t.last)
		}
		if t.owed {
			if err := c.backoff(ctx, pol, t); err != nil {
				return err
			}
		}
		err := c.attempt(ctx, pol, t, op)
		if err == nil {
			t.owed = false
			return nil
		}
		if ctx.Err() != nil || !t.Sent { // a wait ended: nothing to retry
			return err
		}
		class := ClassOf(err)
		t.Failed++
		t.last, t.owed = err, class&Transient != 0
		if class&pol.Retry == 0 || class == Fatal {
			return err
		}
	}
}

// attempt waits for a slot and makes op once, counting it and telling the pacer how it went.
func (c *Caller) attempt(ctx context.Context, pol Policy, t *Tries, op func(context.Context) error) error {
	waitCtx := ctx
	if !t.Sent && t.Unsent != nil {
		waitCtx = t.Unsent
	}
	if err := c.Pacer.Wait(waitCtx); err != nil {
		return err
	}
	if err := c.Gate.Acquire(ctx); err != nil {
		return err
	}
	c.Counters.Requests.Add(1)
	t.Sent = true
	began := time.Now()
	err := op(ctx)
	latency := time.Since(began)
	c.Gate.Release()
	rate, ready := c.Pacer.Pace()
	c.Gate.Observe(latency, rate, ready)
	switch {
	case err == nil:
		c.Pacer.Success()
	case ClassOf(err)&pol.PauseAll != 0:
		// The rate limit spoke: hold every caller and lower the rate. Counted wherever seen,
		// retried or not.
		if ClassOf(err) == Throttled {
			c.Counters.Status429.Add(1)
		}
		c.Pacer.Backoff(max(RetryAfter(err), time.Second))
		if c.OnPause != nil {
			c.OnPause(err)
		}
	}
	return err
}

// backoff waits before the next attempt: nothing more when the failure paused every caller
// (the pacer's gate holds this one too), else its Retry-After, else jittered backoff.
func (c *Caller) backoff(ctx context.Context, pol Policy, t *Tries) error {
	t.owed = false
	c.Counters.Retries.Add(1)
	if c.OnRetry != nil {
		c.OnRetry(t.Failed, t.last)
	}
	if ClassOf(t.last)&pol.PauseAll != 0 {
		return ctx.Err()
	}
	d := Jitter(t.Failed, BackoffBase, BackoffMax, rand.Float64)
	if ra := RetryAfter(t.last); ra > 0 {
		d = min(ra, BackoffMax)
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	return sleep(ctx, d)
}
