package main

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/report"
)

func (e *environment) reportCommand() *command {
	return &command{
		name: "report", args: "OUT_DIR", flags: newFlagSet("report", e.stdout),
		summary:  "write OUT_DIR/report.html from the run folder: rates, failures, what to do next",
		examples: []string{"userimport report userimport-runs/users"},
		run:      e.reportRun,
	}
}

// reportRun writes RUN/report.html from the run folder's journal and summary.
func (e *environment) reportRun(_ context.Context, args []string) error {
	if len(args) != 1 {
		return &usageError{cmd: "report", msg: "report takes the run folder"}
	}
	path, err := report.WriteReport(args[0])
	if err != nil {
		return prefixed("report", err)
	}
	e.printf(e.stdout, "report: %s\n", path)
	return nil
}

// finalReport writes report.html (unless --no-report) and the metrics file from the finished
// run folder; neither may fail the run.
func (e *environment) finalReport(f *importFlags, out string, sum *importer.Summary, log *zap.Logger) (path string) {
	if f.noReport && f.metricsFile == "" || sum.RunStatus == importer.RunAlready {
		return ""
	}
	// The run's heap is garbage now: give it back to the OS, so that the report's per-row
	// arrays (3 bytes a row) grow a small heap, not the run's one past its peak (a million
	// rows: 6 MB more peak RSS without this).
	debug.FreeOSMemory()
	m, err := report.Build(out)
	if err != nil {
		log.Warn("report: " + err.Error())
		return ""
	}
	if !f.noReport {
		if path, err = report.WriteModel(out, m); err != nil {
			log.Warn("report: " + err.Error())
		}
	}
	if f.metricsFile != "" {
		mt := m.Metrics()
		mt.ExitCode, mt.EndTime = sum.ExitCode, sum.FinishedAt
		if err := report.WriteMetrics(f.metricsFile, mt); err != nil {
			log.Warn("metrics: " + err.Error())
		}
	}
	return path
}

// liveMetrics writes the metrics file every 30 s while the run goes on; the returned func stops it.
func (e *environment) liveMetrics(path, out string, rep *reporter, c *importer.Counters, log *zap.Logger) func() {
	if path == "" {
		return func() {}
	}
	write := func() {
		err := report.WriteMetrics(path, report.Metrics{
			Run: filepath.Base(out), Counts: rep.Counts(), Running: true,
			Requests: c.Requests.Load(), Status429: c.Status429.Load(), Retries: c.Retries.Load(),
		})
		if err != nil {
			log.Warn("metrics: " + err.Error())
		}
	}
	write()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				write()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
