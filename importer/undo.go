package importer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/runfolder"
)

// Deleter removes users; Clerk's DELETE /v1/users/{id}.
type Deleter interface {
	Delete(ctx context.Context, userID string) error
}

// statusGone: undo.jsonl's mark of a user a delete found already gone (a 404).
const statusGone runfolder.Status = "gone"

// UndoConfig is one undo of a run folder.
type UndoConfig struct {
	OutDir         string
	KeyFingerprint string // must match the run's: never delete from another instance
	APIURL         string
	Target         Deleter
	Pacer          *pacer.Pacer // nil: unpaced
	Concurrency    int          // deletes in flight (at least 1)
	MaxRetries     int
	Log            *zap.Logger
	Counters       *pacer.Counters // optional: counted live, as an import's are
	// Sleep waits out a backoff (default pacer.Sleep); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Stop, closed on the first signal, ends the deletes not yet sent: those in flight finish,
	// the rest are counted left for a re-run. ctx ends only on a hard abort.
	Stop <-chan struct{}
	// Confirm, when set, is asked once the users to delete are counted and before any delete;
	// false ends the undo with ErrNotConfirmed, nothing sent.
	Confirm func(toDelete int) (bool, error)
	// DryRun lists (List) what would be deleted and sends nothing.
	DryRun bool
	List   func(UndoItem)
	// Progress, when set, hears of every settled delete (deleted, gone, failed).
	Progress Progress
}

// UndoItem is one user an undo deletes, or would.
type UndoItem struct {
	Row, Line  int
	ExternalID string
	UserID     string
}

// UndoSummary says what an undo did.
type UndoSummary struct {
	ToDelete                           int // users the run created that no earlier undo deleted
	Deleted, AlreadyGone, Failed, Left int // Left: not sent (a stop): a re-run deletes them
	DoneBefore                         int // deleted by an earlier undo
	Requests, Status429, Retries       int64
	Interrupted                        bool // the first signal (or a hard abort) ended it
	Elapsed                            time.Duration
}

// ErrOtherInstance refuses an undo with a key other than the run's.
var ErrOtherInstance = errors.New("the secret key is not the one this run used")

// ErrNotConfirmed ends an undo the operator did not confirm.
var ErrNotConfirmed = errors.New("not confirmed: nothing deleted")

// Undo deletes every user the run folder's journal records as created (never the adopted,
// `exists` ones), paced like any run, and marks each in undo.jsonl so a later import of the
// folder creates it again.
func Undo(ctx context.Context, cfg UndoConfig) (*UndoSummary, error) {
	start := time.Now()
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Progress == nil {
		cfg.Progress = nopProgress{}
	}
	journalPath := filepath.Join(cfg.OutDir, runfolder.ResultsFile)
	f, err := runfolder.OpenFile(journalPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no run (no %s)", cfg.OutDir, runfolder.ResultsFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()

	undoPath := filepath.Join(cfg.OutDir, runfolder.UndoFile)
	done, err := readUndone(undoPath)
	if err != nil {
		return nil, err
	}

	// Refuse before any delete when any session of the run used another key or instance, and
	// count what there is to delete (for the confirmation and the progress bar).
	var mismatch error
	sum := &UndoSummary{}
	seen := newIDSet()
	if err := readJournal(f, func(h runfolder.Header) {
		if h.KeyFingerprint != cfg.KeyFingerprint || runfolder.NormalizeAPIURL(h.APIURL) != runfolder.NormalizeAPIURL(cfg.APIURL) {
			mismatch = fmt.Errorf("%w (run: key %s at %s; now: key %s at %s)", ErrOtherInstance,
				h.KeyFingerprint, h.APIURL, cfg.KeyFingerprint, cfg.APIURL)
		}
	}, func(e runfolder.Event) {
		if e.Status != runfolder.StatusCreated || e.UserID == "" || seen.has(e.UserID) {
			return
		}
		seen.add(e.UserID)
		if done.has(e.UserID) {
			sum.DoneBefore++
			return
		}
		sum.ToDelete++
		if cfg.DryRun && cfg.List != nil {
			cfg.List(UndoItem{Row: e.Row, Line: e.Line, ExternalID: e.ExternalID, UserID: e.UserID})
		}
	}); err != nil {
		return nil, err
	}
	seen = nil
	if mismatch != nil {
		return nil, mismatch
	}
	if cfg.DryRun || sum.ToDelete == 0 {
		sum.Elapsed = time.Since(start)
		return sum, nil
	}
	if cfg.Confirm != nil {
		ok, err := cfg.Confirm(sum.ToDelete)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrNotConfirmed
		}
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	err = runDeletes(ctx, cfg, f, done, sum)
	sum.Elapsed = time.Since(start)
	return sum, err
}

// readUndone is the set of user ids undo.jsonl records deleted or gone.
func readUndone(path string) (*idSet, error) {
	done := newIDSet()
	uf, err := runfolder.OpenFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	defer uf.Close()
	err = readJournal(uf, func(runfolder.Header) {}, func(e runfolder.Event) {
		if (e.Status == runfolder.StatusDeleted || e.Status == statusGone) && e.UserID != "" {
			done.add(e.UserID)
		}
	})
	return done, err
}

// runDeletes sends the deletes: f is the run's journal, done what earlier undos deleted.
func runDeletes(ctx context.Context, cfg UndoConfig, f *os.File, done *idSet, sum *UndoSummary) error {
	undoPath := filepath.Join(cfg.OutDir, runfolder.UndoFile)
	j, err := runfolder.OpenWriter(undoPath)
	if err != nil {
		return err
	}
	if cfg.Pacer == nil {
		cfg.Pacer = pacer.New(pacer.Config{})
	}
	cfg.Concurrency = max(1, cfg.Concurrency)
	if cfg.Counters == nil {
		cfg.Counters = &pacer.Counters{}
	}
	// unsent ends on the first signal: a delete still waiting for its slot is given back.
	unsent, cancelUnsent := context.WithCancel(ctx)
	defer cancelUnsent()
	if cfg.Stop != nil {
		go func() {
			select {
			case <-cfg.Stop:
				cancelUnsent()
			case <-unsent.Done():
			}
		}()
	}
	calls := &pacer.Caller{Pacer: cfg.Pacer, Gate: pacer.NewGate(cfg.Concurrency), Counters: cfg.Counters, Sleep: cfg.Sleep}
	// A delete is idempotent: an uncertain one is simply sent again (a 404 then means done).
	pol := pacer.Idempotent(cfg.MaxRetries)
	var deleted, gone, failed, left atomic.Int64
	var fatal atomic.Pointer[error]
	items := make(chan UndoItem, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				if unsent.Err() != nil || fatal.Load() != nil {
					left.Add(1)
					continue
				}
				status, err := deleteOne(ctx, unsent, calls, pol, cfg.Target, it.UserID)
				e := runfolder.Event{Row: it.Row, Line: it.Line, ExternalID: it.ExternalID, UserID: it.UserID, Status: status}
				switch status {
				case runfolder.StatusDeleted:
					deleted.Add(1)
				case statusGone:
					gone.Add(1)
				case statusLeft: // never sent, or cut off by a hard abort: a re-run sends it
					left.Add(1)
					continue
				default:
					failed.Add(1)
					e.Error = rowError(err)
					if c := pacer.ClassOf(err); c == pacer.Fatal || c == pacer.Halted {
						fatal.CompareAndSwap(nil, &err)
					}
				}
				if werr := j.Write(e); werr != nil {
					fatal.CompareAndSwap(nil, &werr)
				}
				cfg.Progress.Row(status)
			}
		}()
	}
	queued := newIDSet() // a row settled twice names its user twice
	rerr := readJournal(f, func(runfolder.Header) {}, func(e runfolder.Event) {
		if e.Status != runfolder.StatusCreated || e.UserID == "" || done.has(e.UserID) || queued.has(e.UserID) {
			return
		}
		queued.add(e.UserID)
		it := UndoItem{Row: e.Row, Line: e.Line, ExternalID: e.ExternalID, UserID: e.UserID}
		if unsent.Err() != nil || fatal.Load() != nil {
			left.Add(1) // the journal is local: the rest is counted, never sent
			return
		}
		select {
		case items <- it:
		case <-unsent.Done():
			left.Add(1)
		}
	})
	close(items)
	wg.Wait()
	sum.Deleted, sum.AlreadyGone, sum.Failed, sum.Left = int(deleted.Load()), int(gone.Load()), int(failed.Load()), int(left.Load())
	sum.Requests, sum.Status429, sum.Retries = cfg.Counters.Requests.Load(), cfg.Counters.Status429.Load(), cfg.Counters.Retries.Load()
	sum.Interrupted = unsent.Err() != nil && fatal.Load() == nil
	cerr := j.Close()
	if p := fatal.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrFatal, *p)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(rerr, cerr)
}

// deleteOne deletes one user through the run's call path: gone when it was already, left when
// a stop came before it was sent (or a hard abort cut it off).
func deleteOne(ctx, unsent context.Context, calls *pacer.Caller, pol pacer.Policy, d Deleter, id string) (runfolder.Status, error) {
	t := pacer.Tries{Unsent: unsent}
	err := calls.Call(ctx, pol, &t, func(ctx context.Context) error { return d.Delete(ctx, id) })
	var nf notFoundError
	switch {
	case err == nil:
		return runfolder.StatusDeleted, nil
	case errors.As(err, &nf) && nf.NotFound():
		return statusGone, nil
	case ctx.Err() != nil, unsent.Err() != nil && !t.Sent:
		return statusLeft, err
	default:
		return runfolder.StatusFailed, err
	}
}
