package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/userimport/userimport/report"
)

// R1's targets (issue 8): a 1,000,000-row journal renders in under 10 s within 100 MB.
const (
	r1Rows         = 1_000_000
	r1MaxSeconds   = 10.0
	r1MaxRSSMB     = 100.0
	r1GeneratedDir = "r1-run"
)

// runR1 writes a realistic journal of a million rows (failures, 429s, retries) and times
// `userimport report` on it, as a separate process so its peak RSS is its own.
func runR1(ctx context.Context, e *env, f *figure) error {
	dir := filepath.Join(e.tmp, r1GeneratedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	n := e.n(r1Rows)
	if err := report.GenerateJournal(dir, n); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	pr, err := runUserimport(ctx, e, nil, "report", dir)
	if err != nil {
		return err
	}
	if pr.exit != 0 {
		return fmt.Errorf("report exited %d: %s", pr.exit, lastLine(pr.stderr))
	}
	if _, err := os.Stat(filepath.Join(dir, report.ReportFile)); err != nil {
		return fmt.Errorf("no report written: %w", err)
	}
	e.notef("r1: %d-row journal rendered in %.2fs, CPU %.2fs, peak RSS %.1f MB", n, pr.wall.Seconds(), pr.cpu.Seconds(), mb(pr.rssKiB))
	if !pr.peakKnown() {
		return fmt.Errorf("report's Maxrss %d KiB is not above this process's own peak %d KiB: not its own", pr.rssKiB, pr.floorKiB)
	}
	f.add(pr.wall.Seconds() < r1MaxSeconds, "%d-row journal in %.2f s (target < %.0f s)", n, pr.wall.Seconds(), r1MaxSeconds)
	f.add(mb(pr.rssKiB) < r1MaxRSSMB, "peak RSS = %.1f MB (target < %.0f MB)", mb(pr.rssKiB), r1MaxRSSMB)
	return nil
}
