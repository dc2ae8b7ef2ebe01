package pacer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
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
	Halted                      // the run stops cleanly: see HaltError
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
	unansweredError interface{ Unanswered() bool }
)

func answers[T any](err error, test func(T) bool) bool {
	var t T
	return errors.As(err, &t) && test(t)
}

// ClassOf is err's class: Halted, Fatal, Throttled, Retryable, Ambiguous or Permanent, in that
// order of precedence. A nil error has none (0).
func ClassOf(err error) Class {
	var he *HaltError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &he):
		return Halted
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

// Unanswered reports a failure that got no answer at all (refused, reset, timed out).
func Unanswered(err error) bool { return answers(err, unansweredError.Unanswered) }

// HaltError ends a run cleanly, Caller's verdict on every call rather than one call's failure:
// the server asked to be called back later than MaxPause allows, or the API has not answered for
// Unreachable. The call it ends did nothing (a refusal, or no answer); the next run continues.
type HaltError struct {
	Reason string    // what to tell the operator
	Until  time.Time // when the server asked to be called back; zero when it did not say
	Err    error     // the failure that decided it
}

func (e *HaltError) Error() string { return e.Reason + " (last: " + e.Err.Error() + ")" }
func (e *HaltError) Unwrap() error { return e.Err }

// Tries is one piece of work's account over the calls made for it (a row's creates and
// look-ups share one): failed attempts for the give-up rule, whether a request may have left,
// and the failure whose backoff the next attempt owes, whichever call makes it.
type Tries struct {
	// Unsent, when set, is the context waits use until a request leaves, so a stop can still
	// give the work back untouched. After that only Call's ctx ends them.
	Unsent context.Context
	Failed int // failed attempts so far
	// Sent: a request may have reached the server's state. An attempt refused with nothing
	// done (a retryable refusal, a 429, a connection refused) leaves it as it was.
	Sent bool
	last error
	owed bool // the next attempt backs off from last
}

// ErrSpent is wrapped, with the last failure, by Call's error when the work's retries are spent.
var ErrSpent = errors.New("retries spent")

// Counters count a run's API traffic; they are read live for metrics.
type Counters struct {
	Requests  atomic.Int64 // requests sent
	Status429 atomic.Int64 // refusals by the rate limit (Throttled)
	Retries   atomic.Int64 // attempts made again after a failure
	InFlight  atomic.Int64 // requests sent and not yet answered (a stop waits for them)
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
	// MaxPause is the longest Retry-After that pauses every call; a longer one halts the run
	// (HaltError) rather than hold it for hours. 0: no limit.
	MaxPause time.Duration
	// Unreachable halts the run once calls have failed with no answer at all (Unanswered) for
	// this long, with at least minMisses of them and no answer in between. 0: never.
	Unreachable time.Duration

	mu       sync.Mutex
	halt     *HaltError // sticky: once halted, every call returns it
	misses   int        // consecutive unanswered failures, over every call
	missFrom time.Time  // when the first of them came
}

// minMisses is the fewest consecutive unanswered failures that can say the API is unreachable,
// however long they took: one slow timeout is not an outage.
const minMisses = 3

// Call makes op under the pacer and the gate, and makes it again as pol says until it
// succeeds, fails in a class pol does not retry, or t's retries are spent (the error then
// wraps ErrSpent). Errors from waits are ctx's (or t.Unsent's before anything was sent).
// op must honour its ctx.
func (c *Caller) Call(ctx context.Context, pol Policy, t *Tries, op func(context.Context) error) error {
	for first := true; ; first = false {
		if h := c.halted(); h != nil {
			return h
		}
		if t.Failed > max(pol.MaxRetries, 0) && !(first && pol.Settles) {
			return fmt.Errorf("%w: %w", ErrSpent, t.last)
		}
		if t.owed {
			if err := c.backoff(ctx, pol, t); err != nil {
				return err
			}
		}
		err, made := c.attempt(ctx, pol, t, op)
		if err == nil {
			t.owed = false
			return nil
		}
		if ctx.Err() != nil || !made { // a wait ended: nothing to retry
			return err
		}
		class := ClassOf(err)
		t.Failed++
		t.last, t.owed = err, class&Transient != 0
		if class&pol.Retry == 0 || class&(Fatal|Halted) != 0 {
			return err
		}
	}
}

// waitCtx is what t's waits end with: until a request may have reached the server, a stop
// (t.Unsent) ends them at once, since there is nothing to see through.
func waitCtx(ctx context.Context, t *Tries) context.Context {
	if !t.Sent && t.Unsent != nil {
		return t.Unsent
	}
	return ctx
}

// attempt waits for a slot and makes op once, counting it and telling the pacer how it went;
// made says whether op ran.
func (c *Caller) attempt(ctx context.Context, pol Policy, t *Tries, op func(context.Context) error) (err error, made bool) {
	wctx := waitCtx(ctx, t)
	if err := c.Pacer.Wait(wctx); err != nil {
		return err, false
	}
	if err := c.Gate.Acquire(wctx); err != nil {
		return err, false
	}
	c.Counters.Requests.Add(1)
	sentBefore := t.Sent
	t.Sent = true
	began := time.Now()
	c.Counters.InFlight.Add(1)
	err = op(ctx)
	latency := time.Since(began)
	c.Counters.InFlight.Add(-1)
	c.Gate.Release()
	rate, ready := c.Pacer.Pace()
	c.Gate.Observe(latency, rate, ready)
	if err != nil && !sentBefore && ClassOf(err)&(Retryable|Throttled) != 0 {
		t.Sent = false // refused with nothing done: the work is as untouched as before
	}
	if h := c.observe(err, began); h != nil {
		if ClassOf(err) == Throttled {
			c.Counters.Status429.Add(1)
		}
		return h, true // no pause: the run stops instead of waiting it out
	}
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
	return err, true
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
	return sleep(waitCtx(ctx, t), d)
}

func (c *Caller) halted() *HaltError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.halt
}

// observe keeps the account of answers across every call and decides a halt: a Retry-After
// past MaxPause, or no answer for Unreachable, counted from when the first unanswered request
// of the run of them left (a timeout's wait counts). It returns the halt, if there is one.
func (c *Caller) observe(err error, began time.Time) *HaltError {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.misses = 0
		return nil // a success stands, halted or not
	case c.halt != nil:
		return c.halt
	case !Unanswered(err):
		c.misses = 0
		if ra := RetryAfter(err); c.MaxPause > 0 && ra > c.MaxPause && ClassOf(err) == Throttled {
			until := now.Add(ra).UTC().Truncate(time.Second)
			c.halt = &HaltError{Until: until, Err: err, Reason: fmt.Sprintf(
				"the API asked to be called back at %s (in %s), later than --max-pause %s allows: run the same command again after that",
				until.Format(time.RFC3339), ra.Round(time.Second), c.MaxPause)}
		}
		return c.halt
	}
	if c.misses == 0 || began.Before(c.missFrom) {
		c.missFrom = began
	}
	c.misses++
	if c.Unreachable > 0 && c.misses >= minMisses && now.Sub(c.missFrom) >= c.Unreachable {
		c.halt = &HaltError{Err: err, Reason: fmt.Sprintf(
			"the API is unreachable: %d requests in a row got no answer over %s: check the network and CLERK_API_URL, then run the same command again",
			c.misses, now.Sub(c.missFrom).Round(time.Second))}
	}
	return c.halt
}
