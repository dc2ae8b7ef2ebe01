package importer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
)

// UndoFile journals an undo, so an interrupted one resumes where it stopped.
const UndoFile = "undo.jsonl"

// Deleter removes users; Clerk's DELETE /v1/users/{id}.
type Deleter interface {
	Delete(ctx context.Context, userID string) error
}

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
}

// UndoSummary says what an undo did.
type UndoSummary struct {
	Deleted, AlreadyGone, Failed, DoneBefore int
	Requests, Status429, Retries             int64 // the API traffic, counted as an import counts it
}

// ErrOtherInstance refuses an undo with a key other than the run's.
var ErrOtherInstance = errors.New("the secret key is not the one this run used")

// Undo deletes every user the run folder's journal records as created (never the adopted,
// `exists` ones), paced like any run.
func Undo(ctx context.Context, cfg UndoConfig) (*UndoSummary, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	journalPath := filepath.Join(cfg.OutDir, JournalFile)
	f, err := openRunFile(journalPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no run (no %s)", cfg.OutDir, JournalFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()

	// What an earlier undo already deleted.
	done := newIDSet()
	undoPath := filepath.Join(cfg.OutDir, UndoFile)
	if uf, err := openRunFile(undoPath); err == nil {
		rerr := readJournal(uf, func(Header) {}, func(e Event) {
			if e.Status == "deleted" || e.Status == "gone" {
				done.add(e.UserID)
			}
		})
		uf.Close()
		if rerr != nil {
			return nil, rerr
		}
	}

	// Refuse before any delete when any session of the run used another key or instance.
	var mismatch error
	if err := readJournal(f, func(h Header) {
		if h.KeyFingerprint != cfg.KeyFingerprint || h.APIURL != cfg.APIURL {
			mismatch = fmt.Errorf("%w (run: key %s at %s; now: key %s at %s)", ErrOtherInstance,
				h.KeyFingerprint, h.APIURL, cfg.KeyFingerprint, cfg.APIURL)
		}
	}, func(Event) {}); err != nil {
		return nil, err
	}
	if mismatch != nil {
		return nil, mismatch
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}

	j, err := OpenJournal(undoPath)
	if err != nil {
		return nil, err
	}
	if cfg.Pacer == nil {
		cfg.Pacer = pacer.New(pacer.Config{})
	}
	cfg.Concurrency = max(1, cfg.Concurrency)
	if cfg.Counters == nil {
		cfg.Counters = &pacer.Counters{}
	}
	calls := &pacer.Caller{Pacer: cfg.Pacer, Gate: pacer.NewGate(cfg.Concurrency), Counters: cfg.Counters, Sleep: cfg.Sleep}
	// A delete is idempotent: an uncertain one is simply sent again (a 404 then means done).
	pol := pacer.Idempotent(cfg.MaxRetries)
	sum := &UndoSummary{}
	var deleted, gone, failed atomic.Int64
	var fatal atomic.Pointer[error]
	ids := make(chan string, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				status, err := deleteOne(ctx, calls, pol, cfg.Target, id)
				e := Event{UserID: id, Status: status}
				switch status {
				case "deleted":
					deleted.Add(1)
				case "gone":
					gone.Add(1)
				default:
					failed.Add(1)
					e.Error = rowError(err)
					if pacer.ClassOf(err) == pacer.Fatal {
						fatal.CompareAndSwap(nil, &err)
					}
				}
				if werr := j.Write(e); werr != nil {
					fatal.CompareAndSwap(nil, &werr)
				}
			}
		}()
	}
	rerr := readJournal(f, func(Header) {}, func(e Event) {
		if e.Status != StatusCreated || e.UserID == "" || ctx.Err() != nil || fatal.Load() != nil {
			return
		}
		if done.has(e.UserID) {
			sum.DoneBefore++
			return
		}
		done.add(e.UserID) // a row settled twice names its user twice
		select {
		case ids <- e.UserID:
		case <-ctx.Done():
		}
	})
	close(ids)
	wg.Wait()
	sum.Deleted, sum.AlreadyGone, sum.Failed = int(deleted.Load()), int(gone.Load()), int(failed.Load())
	sum.Requests, sum.Status429, sum.Retries = cfg.Counters.Requests.Load(), cfg.Counters.Status429.Load(), cfg.Counters.Retries.Load()
	cerr := j.Close()
	if p := fatal.Load(); p != nil {
		return sum, fmt.Errorf("%w: %w", ErrFatal, *p)
	}
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, errors.Join(rerr, cerr)
}

// deleteOne deletes one user through the run's call path: gone when it was already.
func deleteOne(ctx context.Context, calls *pacer.Caller, pol pacer.Policy, d Deleter, id string) (string, error) {
	var t pacer.Tries
	err := calls.Call(ctx, pol, &t, func(ctx context.Context) error { return d.Delete(ctx, id) })
	var nf notFoundError
	switch {
	case err == nil:
		return "deleted", nil
	case errors.As(err, &nf) && nf.NotFound():
		return "gone", nil
	default:
		return "failed", err
	}
}
