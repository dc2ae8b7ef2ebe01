package importer

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
)

// Every request of a run goes through r.calls (pacer.Call) under one of these policies; what
// stays here is the order of a row's steps and the rule that settles an uncertain create by
// look-up, never by sending it blind.
type policies struct {
	create   pacer.Policy // refused untouched: sent again; ambiguous: back to importRow to settle
	lookup   pacer.Policy // a read: every transient failure is tried again
	precheck pacer.Policy // one try: each row still meets its own conflict-then-look-up path
}

func newPolicies(maxRetries int) policies {
	lookup := pacer.Idempotent(maxRetries)
	lookup.Settles = true // after an ambiguous create, the look-up is made even with no retries left
	return policies{
		create:   pacer.NotIdempotent(maxRetries),
		lookup:   lookup,
		precheck: pacer.Idempotent(0),
	}
}

// newCaller builds the run's one call path; its hooks journal retries and pauses for the report.
func (r *runner) newCaller(gate *pacer.Gate) *pacer.Caller {
	return &pacer.Caller{
		Pacer: r.cfg.Pacer, Gate: gate, Counters: &r.Counters.Counters, Sleep: r.cfg.Sleep,
		MaxPause: r.cfg.MaxPause, Unreachable: r.cfg.Unreachable,
		OnRetry: func(failed int, err error) {
			r.journal.Write(runfolder.Event{Event: runfolder.EventRetry, Error: rowError(err), Attempts: failed})
		},
		OnPause: func(error) { r.journal.Write(runfolder.Event{Event: runfolder.EventThrottled}) }, // the time line, not row state
	}
}

// importRow creates one user: settle an earlier session's uncertain send, create, settle an
// ambiguous create by look-up (and create again only if the user is not there), adopt on a
// conflict, record. Until its first request leaves, a row can still be given back untouched
// when the run is asked to stop (intake ends); once sent, it is seen through to an outcome
// unless the run is aborted (ctx ends).
func (r *runner) importRow(ctx, intake context.Context, jb job) {
	t := pacer.Tries{Unsent: intake}
	if intake.Err() != nil {
		r.leave(jb, &t)
		return
	}
	if jb.wasPending && r.settledByLookup(ctx, jb, &t) { // an earlier session sent it, never heard back
		return
	}
	ambiguous := false // a create of this session may have reached the instance
	for {
		id, err := r.create(ctx, jb, &t)
		switch {
		case err == nil:
			settled := ""
			if ambiguous {
				settled = "retry"
			}
			r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: t.Failed + 1, Settled: settled})
			return
		case r.stopped(ctx, &t, err):
			r.leave(jb, &t) // the write-ahead mark lets the next run settle it
			return
		case errors.Is(err, pacer.ErrSpent) && !t.Sent && pacer.Unanswered(err):
			// Every attempt went unanswered before anything was done (connection refused): the
			// row was never sent, so it is left for the next run, not failed.
			r.leave(jb, &t)
			return
		case errors.Is(err, pacer.ErrSpent):
			r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: t.Failed, Error: rowError(err)})
			return
		case pacer.ClassOf(err) == pacer.Ambiguous:
			r.cfg.Log.Debug("uncertain create, settling by look-up", zap.Int("line", jb.rec.Line), zap.Int("attempt", t.Failed), zap.Error(err))
			ambiguous = true
			if r.settledByLookup(ctx, jb, &t) {
				return
			} // not there: sent again, a new write-ahead mark first
		default:
			if param, ok := conflict(err); ok && jb.extID != "" {
				r.adopt(ctx, jb, &t, ambiguous, param, err)
				return
			}
			r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: t.Failed, Error: rowError(err)})
			return
		}
	}
}

// create sends the row's create, its write-ahead mark on disk before the request can reach
// the instance. Its retries inside Call need no new mark: nothing but an outcome follows it.
func (r *runner) create(ctx context.Context, jb job, t *pacer.Tries) (id string, err error) {
	unsent, mark := !t.Sent, true
	err = r.calls.Call(ctx, r.pol.create, t, func(ctx context.Context) error {
		if mark {
			mark = false
			if err := r.journal.Write(runfolder.Event{Row: jb.rec.Num, Line: jb.rec.Line, ExternalID: jb.extID, Key: jb.key, Status: runfolder.StatusPending}); err != nil {
				return &markError{err}
			}
		}
		r.Creates.Add(1)
		var err error
		id, err = r.cfg.Target.Create(ctx, jb.params)
		return err
	})
	if err != nil && unsent {
		if me := (*markError)(nil); errors.As(err, &me) {
			t.Sent = false // the mark failed, so nothing left: the row is given back
		}
	}
	return id, err
}

// markError is a write-ahead mark that could not be written: nothing was sent, and the run stops.
type markError struct{ err error }

func (e *markError) Error() string { return "journal: " + e.err.Error() }
func (e *markError) Unwrap() error { return e.err }
func (e *markError) Fatal() bool   { return true }

// settledByLookup looks the row's user up after an uncertain send and, when it is there,
// records it created; true when the row is done (settled, failed or left).
func (r *runner) settledByLookup(ctx context.Context, jb job, t *pacer.Tries) bool {
	id, found, err := r.lookUp(ctx, jb, t)
	switch {
	case err != nil && r.stopped(ctx, t, err):
		r.leave(jb, t)
	case err != nil && pacer.Unanswered(err):
		r.leave(jb, t) // the API did not answer: its write-ahead mark lets the next run settle it
	case err != nil:
		r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: t.Failed, Error: unsettled(err)})
	case found:
		r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: t.Failed, Settled: "lookup"})
	default:
		return false // not there: it may be sent (again)
	}
	return true
}

// adopt settles a create refused because an identifier is taken: by this very user if its
// external_id finds it (ours from an ambiguous send, or adopted as already there), else by
// someone else, and the row fails with the refusal.
func (r *runner) adopt(ctx context.Context, jb job, t *pacer.Tries, ambiguous bool, param string, refusal error) {
	id, found, err := r.lookUp(ctx, jb, t)
	switch {
	case err != nil && r.stopped(ctx, t, err):
		r.leave(jb, t)
	case err == nil && found && ambiguous:
		r.settle(jb, runfolder.Event{Status: runfolder.StatusCreated, UserID: id, Attempts: t.Failed, Settled: "identifier_exists"})
	case err == nil && found:
		r.settle(jb, runfolder.Event{Status: runfolder.StatusExists, UserID: id, Attempts: t.Failed})
	default:
		if err != nil {
			r.cfg.Log.Debug("look-up after a conflict failed", zap.Int("line", jb.rec.Line), zap.String("param", param), zap.Error(err))
		}
		r.settle(jb, runfolder.Event{Status: runfolder.StatusFailed, Attempts: t.Failed, Error: rowError(refusal)})
	}
}

// leave ends the row without an outcome: a row never sent is simply not taken this session;
// one sent keeps its write-ahead mark, and the next run settles it by look-up.
func (r *runner) leave(jb job, t *pacer.Tries) {
	if !t.Sent && !jb.wasPending {
		r.count(statusLeft)
	} else {
		r.count(runfolder.StatusPending)
	}
}

// stopped reports whether err ends the row for now: the run is aborted, or was asked to stop
// before the row was sent, or err ends the whole run (401, 403, quota, a journal failure).
func (r *runner) stopped(ctx context.Context, t *pacer.Tries, err error) bool {
	if ctx.Err() != nil || !t.Sent && t.Unsent != nil && t.Unsent.Err() != nil {
		return true
	}
	return r.stopOn(err)
}

// stopOn reports whether err ends the whole run (401, 403, quota; or a halt: a Retry-After past
// --max-pause, an unreachable API), and records it.
func (r *runner) stopOn(err error) bool {
	if pacer.ClassOf(err)&(pacer.Fatal|pacer.Halted) != 0 {
		r.setFatal(err)
		return true
	}
	return r.halted()
}

func unsettled(err error) *runfolder.RowError {
	re := rowError(err)
	re.Message = "could not learn whether the user was created: " + re.Message
	return re
}

var errNoKey = errors.New("the row has neither external_id nor email to look it up by")

// lookUp finds the row's user by external_id, else by primary email.
func (r *runner) lookUp(ctx context.Context, jb job, t *pacer.Tries) (id string, found bool, err error) {
	switch email := jb.params.PrimaryEmail(); {
	case jb.extID != "":
		err = r.calls.Call(ctx, r.pol.lookup, t, func(ctx context.Context) error {
			m, err := r.cfg.Target.FindByExternalID(ctx, []string{jb.extID})
			id, found = m[jb.extID]
			return err
		})
	case email != "":
		err = r.calls.Call(ctx, r.pol.lookup, t, func(ctx context.Context) error {
			var err error
			id, found, err = r.cfg.Target.FindByEmail(ctx, email)
			return err
		})
	default:
		err = errNoKey
	}
	return id, found, err
}

// settlePending asks the target, in batches, about rows an earlier session left pending, so
// that those created already are recorded without being sent again. Its waits end with intake:
// a look-up left undone leaves its rows pending, nothing lost.
func (r *runner) settlePending(ctx, intake context.Context) error {
	if r.cfg.Target == nil || len(r.resume.pending) == 0 {
		return nil
	}
	byID := make(map[string]int, len(r.resume.pending))
	ids := make([]string, 0, len(r.resume.pending))
	for row, ext := range r.resume.pending {
		if ext != "" {
			byID[ext] = row
			ids = append(ids, ext)
		}
	}
	var werr error
	err := r.findAll(ctx, intake, ids, func(ext, uid string) bool {
		row := byID[ext]
		delete(r.resume.pending, row)
		r.resume.done.set(row) // the stream skips it; counted below as created this session
		if werr = r.journal.Write(runfolder.Event{Row: row, ExternalID: ext, Status: runfolder.StatusCreated, UserID: uid, Settled: "lookup"}); werr != nil {
			werr = fmt.Errorf("journal: %w", werr)
			return false
		}
		r.count(runfolder.StatusCreated)
		return true
	})
	switch {
	case werr != nil:
		return werr
	case err != nil && pacer.ClassOf(err)&(pacer.Fatal|pacer.Halted) != 0:
		return err
	case err != nil && intake.Err() == nil:
		// Leave them pending: each is settled one by one when the stream reaches it.
		r.cfg.Log.Warn("batched look-up of pending rows failed", zap.Error(err))
	}
	return nil
}

// findAll looks ids up by external_id, as many a request as the target takes, and hands each
// one found to found with its user id until found returns false. It stops at a look-up's error;
// its waits end with unsent.
func (r *runner) findAll(ctx, unsent context.Context, ids []string, found func(extID, userID string) bool) error {
	for len(ids) > 0 {
		n := min(r.lookupN, len(ids))
		batch := ids[:n]
		var m map[string]string
		t := pacer.Tries{Unsent: unsent} // a read: nothing to see through once stopped
		err := r.calls.Call(ctx, r.pol.lookup, &t, func(ctx context.Context) error {
			var err error
			m, err = r.cfg.Target.FindByExternalID(ctx, batch)
			return err
		})
		if err != nil {
			return err
		}
		for ext, uid := range m {
			if !found(ext, uid) {
				return nil
			}
		}
		ids = ids[n:]
	}
	return nil
}

// conflict reports a refusal because another user holds an identifier, and which one.
func conflict(err error) (param string, ok bool) {
	var c conflictError
	if errors.As(err, &c) {
		return c.Conflict()
	}
	return "", false
}
