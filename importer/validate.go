package importer

import (
	"context"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// ValidateConfig is one validate: the read, map and check stages of a run, and nothing sent.
type ValidateConfig struct {
	Source  source.Reader
	Format  source.Format
	Mapping *mapping.Mapping
	Joins   Joiner // as Config.Joins
	// Target, when given, is asked by external_id (100 a request, read-only) which users the
	// instance already holds; Pacer paces those look-ups and must then be set too.
	Target Target
	Pacer  *pacer.Pacer
	Stop   <-chan struct{} // closed on the first signal: stop reading
	Log    *zap.Logger
	// DupDir, when set, is where the duplicate table moves past dupset.FileMin, as an import's
	// does (import's readiness pass reads the whole file: in memory it held 30 MB at 1M rows).
	DupDir string
	// Fit, when set, classifies every valid row against the instance's settings as import
	// would; rows the instance would refuse are counted failed.
	Fit *Fit
	// Rows, when known (a database's count of the query), is how many rows the source holds:
	// the duplicate table is sized for them up front instead of growing on the way.
	Rows int
	// AllowNoExternalID accepts an input none of whose rows maps an external_id; without it
	// Validate returns ErrNoExternalID for one (a wrong preset, most likely).
	AllowNoExternalID bool
}

// Validate reads, maps and checks every row as Run would, writing no run folder and creating no
// user. The summary counts rows "valid" (they would be sent), invalid, duplicate, and with a
// Target exists; Fields says how many valid rows carry each field.
func Validate(ctx context.Context, cfg ValidateConfig) (*runfolder.Summary, error) {
	start := time.Now()
	var lookups *lookupWatch
	if cfg.Target != nil {
		// An import goes on when a pre-check look-up fails (each row meets its own 422 later);
		// validate would count those rows valid and say none is in the instance, which is not so.
		lookups = &lookupWatch{Target: cfg.Target}
		cfg.Target = lookups
	}
	r := newRunner(Config{OutDir: cfg.DupDir, Source: cfg.Source, Format: cfg.Format, Mapping: cfg.Mapping, Joins: cfg.Joins, Target: cfg.Target,
		Pacer: cfg.Pacer, Precheck: cfg.Target != nil, Stop: cfg.Stop, Log: cfg.Log, Fit: cfg.Fit}, start)
	r.dryRun = true
	if rc, ok := cfg.Source.(recycler); ok && cfg.Target == nil && !cfg.Fit.active() {
		// A valid row is dropped once counted: no look-up batch, no readiness tally, no
		// journal or failed file holds anything of it, so its memory can take a later row.
		r.recycle = rc
	}
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	r.stopIntake = stopIntake
	if lookups != nil {
		lookups.stop = stopIntake // one failure makes the answer wrong: read no further
	}
	if cfg.Rows > 0 {
		if err := r.dups.Reserve(cfg.Rows); err != nil { // a table in a file could not be made
			r.setFatal(err)
		}
	}
	go func() {
		select {
		case <-cfg.Stop:
			stopIntake()
		case <-intake.Done():
		}
	}()
	_, readErr := r.feed(intake, nil) // a dry run's dispatch counts rows, never sends them
	r.dups.Close()

	status, err := runfolder.RunComplete, error(nil)
	c := r.snapshotCounts()
	switch {
	case r.fatalErr != nil: // a look-up refused the key, say
		status, err = runfolder.RunFatal, fmt.Errorf("%w: %w", ErrFatal, r.fatalErr)
	case readErr != nil && intake.Err() == nil:
		status, err = runfolder.RunFatal, readErr
	case lookups != nil && lookups.failed() != nil:
		status, err = runfolder.RunFatal, fmt.Errorf("%w: could not ask the instance which users it already holds: %w", ErrFatal, lookups.failed())
	case intake.Err() != nil:
		status = runfolder.RunInterrupted
	case c[runfolder.StatusInvalid]+c[runfolder.StatusDuplicate]+c[runfolder.StatusFailed] > 0:
		status = runfolder.RunWithFailures
	}
	if mapped, none := r.noExternalID(); none && err == nil && !cfg.AllowNoExternalID && status != runfolder.RunInterrupted {
		err = fmt.Errorf("%w: none of the %d mapped rows has one; is the --preset or --mapping right for this file? "+
			"(without external_id a re-run cannot recognise the users it created; --allow-no-external-id accepts it)", ErrNoExternalID, mapped)
	}
	sum := &runfolder.Summary{StartedAt: start.UTC()}
	r.summarize(sum, status, err, start)
	return sum, err
}

// lookupWatch keeps the first error a look-up by external_id met.
type lookupWatch struct {
	Target
	stop func()
	mu   sync.Mutex
	err  error
}

func (w *lookupWatch) FindByExternalID(ctx context.Context, ids []string) (map[string]string, error) {
	found, err := w.Target.FindByExternalID(ctx, ids)
	if err != nil && ctx.Err() == nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		w.stop()
	}
	return found, err
}

func (w *lookupWatch) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
