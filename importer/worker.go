package importer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/runfolder"
)

const lookupBatch = 100 // Clerk takes up to 100 external_ids per GET /v1/users

// Backoff bounds for retries that carry no Retry-After.
var (
	backoffBase = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// call paces one API call and makes it; every call of the run goes through the pacer.
func (r *runner) call(ctx context.Context, fn func(context.Context) error) error {
	if err := r.cfg.Pacer.Wait(ctx); err != nil {
		return err
	}
	return r.do(ctx, fn)
}

// do makes a call whose pacer slot is already taken, counts it, and tells the pacer how it went.
func (r *runner) do(ctx context.Context, fn func(context.Context) error) error {
	if err := r.gate.acquire(ctx); err != nil {
		return err
	}
	r.Requests.Add(1)
	began := time.Now()
	err := fn(ctx)
	r.gate.release()
	r.gate.observe(time.Since(began), r.cfg.Pacer.Rate())
	switch {
	case err == nil:
		r.cfg.Pacer.Success()
	case statusOf(err) == 429:
		// Only a 429 speaks of the rate limit: pause every worker and lower the rate. A 503's
		// Retry-After holds just the row that saw it (see wait).
		r.Status429.Add(1)
		r.cfg.Pacer.Backoff(max(retryAfter(err), time.Second))
		r.journal.Write(runfolder.Event{Event: runfolder.EventThrottled}) // for the report's time line; not row state
	}
	return err
}

func statusOf(err error) int {
	var d detailedError
	if errors.As(err, &d) {
		s, _, _, _ := d.Details()
		return s
	}
	return 0
}

// wait sleeps before retry attempt n, unless a Retry-After already paused the pacer.
func (r *runner) wait(ctx context.Context, attempt int, err error) error {
	r.Retries.Add(1)
	r.journal.Write(runfolder.Event{Event: runfolder.EventRetry, Error: rowError(err), Attempts: attempt})
	if statusOf(err) == 429 {
		return ctx.Err() // the pacer's gate holds every worker for Retry-After
	}
	d := pacer.Jitter(attempt, backoffBase, backoffMax, rand.Float64)
	if ra := retryAfter(err); ra > 0 {
		d = min(ra, backoffMax)
	}
	return r.cfg.Sleep(ctx, d)
}

// importRow creates one user, retrying what is safe to retry and settling every uncertain
// outcome by a look-up before anything is sent again. Until its first request leaves, a row
// can still be given back untouched when the run is asked to stop (intake ends); once sent, it
// is seen through to an outcome unless the run is aborted (ctx ends).
func (r *runner) importRow(ctx, intake context.Context, jb job) {
	uncertain := jb.wasPending // an earlier session sent it and never heard back
	sentAmbiguous := false
	attempts := 0
	var lastErr error
	// left ends the row without an outcome: a row never sent is simply not taken this session;
	// one sent keeps its write-ahead mark, and the next run settles it by look-up.
	left := func() {
		if attempts == 0 && !jb.wasPending {
			r.count(statusLeft)
		} else {
			r.count(runfolder.StatusPending)
		}
	}
	if intake.Err() != nil {
		left()
		return
	}
	for {
		if uncertain {
			waitCtx := ctx
			if attempts == 0 {
				waitCtx = intake
			}
			if err := r.cfg.Pacer.Wait(waitCtx); err != nil {
				left()
				return
			}
			id, found, err := r.lookup(ctx, jb)
			if err != nil {
				if r.stopOn(err) || ctx.Err() != nil {
					left()
					return
				}
				attempts++
				if attempts > r.cfg.MaxRetries {
					r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: attempts, Error: unsettled(err)})
					return
				}
				if r.wait(ctx, attempts, err) != nil {
					left()
					return
				}
				continue
			}
			if found {
				r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: attempts, Settled: "lookup"})
				return
			}
			uncertain = false
		}
		if attempts > r.cfg.MaxRetries {
			r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: attempts, Error: rowError(lastErr)})
			return
		}
		waitCtx := ctx
		if attempts == 0 && !jb.wasPending {
			waitCtx = intake // not sent yet: a stop may still give it back
		}
		if err := r.cfg.Pacer.Wait(waitCtx); err != nil {
			left()
			return
		}
		if attempts == 0 || sentAmbiguous {
			// Write ahead: the mark is on disk before the request can reach Clerk.
			if err := r.journal.Write(runfolder.Event{Row: jb.rec.Num, Line: jb.rec.Line, ExternalID: jb.extID, Status: runfolder.StatusPending}); err != nil {
				r.setFatal(err)
				left()
				return
			}
		}
		var id string
		err := r.do(ctx, func(ctx context.Context) error {
			var err error
			r.Creates.Add(1)
			id, err = r.cfg.Target.Create(ctx, jb.params)
			return err
		})
		attempts++
		lastErr = err
		switch {
		case err == nil:
			settled := ""
			if sentAmbiguous {
				settled = "retry"
			}
			r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: attempts, Settled: settled})
			return
		case ctx.Err() != nil || r.stopOn(err):
			left() // the write-ahead mark lets the next run settle it
			return
		case isAmbiguous(err):
			r.cfg.Log.Debug("uncertain create, settling by look-up", zap.Int("line", jb.rec.Line), zap.Int("attempt", attempts), zap.Error(err))
			uncertain, sentAmbiguous = true, true
			if r.wait(ctx, attempts, err) != nil {
				left()
				return
			}
		case isRetryable(err):
			if r.wait(ctx, attempts, err) != nil {
				left()
				return
			}
		case isIdentifierTaken(err) && jb.extID != "":
			// An identifier is taken: by this very user if its external_id finds it (adopted,
			// or our own earlier uncertain create), else by someone else and the row fails.
			if werr := r.cfg.Pacer.Wait(ctx); werr != nil {
				left()
				return
			}
			id, found, lerr := r.lookup(ctx, jb)
			switch {
			case lerr == nil && found && sentAmbiguous:
				r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: attempts, Settled: "identifier_exists"})
			case lerr == nil && found:
				r.settle(jb, runfolder.Event{Status: runfolder.StatusExists, UserID: id, Attempts: attempts})
			default:
				r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: attempts, Error: rowError(err)})
			}
			return
		default:
			r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: attempts, Error: rowError(err)})
			return
		}
	}
}

// stopOn reports whether err ends the whole run (401, 403, quota), and records it.
func (r *runner) stopOn(err error) bool {
	if isFatal(err) {
		r.setFatal(err)
		return true
	}
	return r.halted()
}

func isIdentifierTaken(err error) bool {
	var d detailedError
	if !errors.As(err, &d) {
		return false
	}
	_, code, _, _ := d.Details()
	return code == "form_identifier_exists"
}

func unsettled(err error) *runfolder.RowError {
	re := rowError(err)
	re.Message = "could not learn whether the user was created: " + re.Message
	return re
}

// lookup finds the row's user by external_id, else by primary email. The caller has taken
// the pacer slot.
func (r *runner) lookup(ctx context.Context, jb job) (id string, found bool, err error) {
	switch {
	case jb.extID != "":
		var m map[string]string
		err = r.do(ctx, func(ctx context.Context) error {
			var err error
			m, err = r.cfg.Target.FindByExternalID(ctx, []string{jb.extID})
			return err
		})
		id, found = m[jb.extID]
	case jb.params.PrimaryEmail() != "":
		err = r.do(ctx, func(ctx context.Context) error {
			var err error
			id, found, err = r.cfg.Target.FindByEmail(ctx, jb.params.PrimaryEmail())
			return err
		})
	default:
		err = errors.New("the row has neither external_id nor email to look it up by")
	}
	return id, found, err
}

// settlePending asks the target, in batches, about rows an earlier session left pending, so
// that those created already are recorded without being sent again.
func (r *runner) settlePending(ctx context.Context) error {
	if r.cfg.Target == nil || r.cfg.DryRun || len(r.resume.pending) == 0 {
		return nil
	}
	byID := make(map[string]int, len(r.resume.pending))
	var ids []string
	for row, ext := range r.resume.pending {
		if ext != "" {
			byID[ext] = row
			ids = append(ids, ext)
		}
	}
	for len(ids) > 0 {
		n := min(lookupBatch, len(ids))
		batch := ids[:n]
		var found map[string]string
		var err error
		for attempt := 1; ; attempt++ {
			err = r.call(ctx, func(ctx context.Context) error {
				var err error
				found, err = r.cfg.Target.FindByExternalID(ctx, batch)
				return err
			})
			if err == nil || isFatal(err) || attempt > r.cfg.MaxRetries || ctx.Err() != nil {
				break
			}
			if r.wait(ctx, attempt, err) != nil {
				break
			}
		}
		if err != nil {
			if isFatal(err) {
				return err
			}
			// Leave them pending: each is settled one by one when the stream reaches it.
			r.cfg.Log.Warn("batched look-up of pending rows failed", zap.Error(err))
			return nil
		}
		for ext, uid := range found {
			row := byID[ext]
			delete(r.resume.pending, row)
			r.resume.done.set(row) // the stream skips it; counted below as created this session
			if err := r.journal.Write(runfolder.Event{Row: row, ExternalID: ext, Status: runfolder.StatusCreated, UserID: uid, Settled: "lookup"}); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
			r.count(runfolder.StatusCreated)
		}
		ids = ids[n:]
	}
	return nil
}
