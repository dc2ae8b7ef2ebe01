package importer

import (
	"context"
	"fmt"
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
	// Target, when given, is asked by external_id (100 a request, read-only) which users the
	// instance already holds; Pacer paces those look-ups and must then be set too.
	Target Target
	Pacer  *pacer.Pacer
	Stop   <-chan struct{} // closed on the first signal: stop reading
	Log    *zap.Logger
}

// Validate reads, maps and checks every row as Run would, writing no run folder and creating no
// user. The summary counts rows "valid" (they would be sent), invalid, duplicate, and with a
// Target exists; Fields says how many valid rows carry each field.
func Validate(ctx context.Context, cfg ValidateConfig) (*Summary, error) {
	start := time.Now()
	r := newRunner(Config{Source: cfg.Source, Format: cfg.Format, Mapping: cfg.Mapping, Target: cfg.Target,
		Pacer: cfg.Pacer, Precheck: cfg.Target != nil, Stop: cfg.Stop, Log: cfg.Log}, start)
	r.dryRun, r.fields = true, map[string]int{}
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	r.stopIntake = stopIntake
	go func() {
		select {
		case <-cfg.Stop:
			stopIntake()
		case <-intake.Done():
		}
	}()
	_, readErr := r.feed(intake, nil) // a dry run's dispatch counts rows, never sends them
	r.dups.close()

	status, err := RunComplete, error(nil)
	c := r.snapshotCounts()
	switch {
	case r.fatalErr != nil: // a look-up refused the key, say
		status, err = RunFatal, fmt.Errorf("%w: %w", ErrFatal, r.fatalErr)
	case readErr != nil && intake.Err() == nil:
		status, err = RunFatal, readErr
	case intake.Err() != nil:
		status = RunInterrupted
	case c[StatusInvalid]+c[StatusDuplicate] > 0:
		status = RunWithFailures
	}
	sum := &Summary{StartedAt: start.UTC()}
	r.summarize(sum, status, err, start)
	return sum, err
}
