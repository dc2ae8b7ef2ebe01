package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// R2's target (issue 14): resuming an interrupted run peaks within 1.2x of a fresh run of the
// same input, at a million rows and at two.
const (
	r2MaxGrowth = 1.2
	r2Poll      = 50 * time.Millisecond
)

var r2Rows = []int{1_000_000, 2_000_000}

func init() {
	cases = append(cases, bcase{"R2", "resume", runR2})
}

// runR2 imports an N-row CSV fresh into an unlimited sandbox, then imports it again into
// another sandbox, stopped by SIGTERM once the sandbox holds half the users (as Ctrl-C or a
// deploy stops a run: rows in flight are left pending), and resumed with the same command to
// the end. The resume session's peak RSS is set against the fresh run's.
func runR2(ctx context.Context, e *env, f *figure) error {
	for _, rows := range r2Rows {
		if err := r2One(ctx, e, f, e.n(rows)); err != nil {
			return err
		}
	}
	return nil
}

func r2One(ctx context.Context, e *env, f *figure, n int) error {
	file, err := writeCSV(e.tmp, fmt.Sprintf("r2-%d", n), n)
	if err != nil {
		return err
	}
	flags := []string{"--rate", fmt.Sprint(unlimitedRate), "--concurrency", fmt.Sprint(p3Concurrency)}

	fresh, err := r2Fresh(ctx, e, fmt.Sprintf("r2-%d-fresh", n), file, n, flags)
	if err != nil {
		return err
	}

	name := fmt.Sprintf("r2-%d-resumed", n)
	sp, err := startSandbox(ctx, e, name)
	if err != nil {
		return err
	}
	defer sp.stop()
	first, err := r2Interrupted(ctx, e, sp, name, file, flags, n/2)
	if err != nil {
		return err
	}
	st, err := sp.stats(ctx)
	if err != nil {
		return err
	}
	e.notef("%s session 1: SIGTERM at %d users; exit %d, %s, created %d, peak RSS %.1f MB, wall %.2fs",
		name, first.stopAt, first.exit, first.sum.Status, first.sum.Counts["created"], mb(first.rssKiB), first.wall.Seconds())
	if first.exit != 130 || st.Users >= int64(n) {
		return fmt.Errorf("%s: the first session was not interrupted (exit %d, %d of %d users): %s",
			name, first.exit, st.Users, n, lastLine(first.stderr))
	}

	resumed, err := runImportFlags(ctx, e, sp, name, file, benchKey, flags...)
	if err != nil {
		return err
	}
	if resumed.exit != 0 {
		return fmt.Errorf("%s: the resume exited %d: %s", name, resumed.exit, lastLine(resumed.stderr))
	}
	if st, err = sp.stats(ctx); err != nil {
		return err
	}
	sb := sp.stop()
	e.notef("%s session 2: created %d, exists %d; sandbox: %d users, %d created, %d creates sent, peak RSS %.1f MB",
		name, resumed.sum.Counts["created"], resumed.sum.Counts["exists"], st.Users, st.Created, st.Creates, mb(sb.rssKiB))
	if !fresh.peakKnown() || !resumed.peakKnown() || !first.peakKnown() {
		return fmt.Errorf("a run's Maxrss (%d, %d, %d KiB) is not above this process's own peak (%d, %d, %d KiB): not its own",
			fresh.rssKiB, first.rssKiB, resumed.rssKiB, fresh.floorKiB, first.floorKiB, resumed.floorKiB)
	}
	// external_ids are unique in the sandbox: n users from n rows, none refused, is each row once.
	f.add(st.Users == int64(n) && st.Created == int64(n) && st.Creates == st.Created,
		"%s: users %d, created %d, creates sent %d (target %d each)", count(n), st.Users, st.Created, st.Creates, n)
	growth := float64(resumed.rssKiB) / float64(fresh.rssKiB)
	f.add(growth <= r2MaxGrowth, "resume peak RSS %.1f MB (session 1: %.1f MB) / fresh %.1f MB = %.3f (target <= %.1f)",
		mb(resumed.rssKiB), mb(first.rssKiB), mb(fresh.rssKiB), growth, r2MaxGrowth)
	return nil
}

// r2Fresh imports file into a fresh sandbox in one session and checks every row was created.
func r2Fresh(ctx context.Context, e *env, name, file string, n int, flags []string) (*importRun, error) {
	sp, err := startSandbox(ctx, e, name)
	if err != nil {
		return nil, err
	}
	r, err := runImportFlags(ctx, e, sp, name, file, benchKey, flags...)
	sb := sp.stop()
	if err != nil {
		return nil, err
	}
	e.notef("%s: %.0f users/s; sandbox peak RSS %.1f MB", name, float64(n)/r.wall.Seconds(), mb(sb.rssKiB))
	if r.sum.Counts["created"] != n || r.exit != 0 {
		return nil, fmt.Errorf("%s: exit %d, created %d of %d: %s", name, r.exit, r.sum.Counts["created"], n, lastLine(r.stderr))
	}
	return r, nil
}

// stoppedRun is an import session ended by SIGTERM.
type stoppedRun struct {
	*importRun
	stopAt int64 // the sandbox's users when the signal was sent
}

// r2Interrupted runs the import runImportFlags would, and sends it one SIGTERM once the
// sandbox holds at least half users.
func r2Interrupted(ctx context.Context, e *env, sp *sandboxProc, name, file string, flags []string, half int) (*stoppedRun, error) {
	out := filepath.Join(e.tmp, name+".run") // the folder runImportFlags resumes
	args := append([]string{"import", "--json", "--no-progress", "--out", out}, flags...)
	args = append(args, file)
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = childEnv("CLERK_API_URL="+sp.base+"/v1", "CLERK_SECRET_KEY="+benchKey)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	floor := resetPeakRSS()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run userimport: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var stopAt int64
	var err error
	tick := time.NewTicker(r2Poll)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-exited:
			break wait
		case <-tick.C:
			if stopAt > 0 {
				continue
			}
			st, serr := sp.stats(ctx)
			if serr == nil && st.Users >= int64(half) {
				stopAt = st.Users
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
		}
	}
	pr, err := ranUserimport(ctx, cmd, err, time.Since(start), floor, &stdout, &stderr)
	if err != nil {
		return nil, err
	}
	r := &stoppedRun{importRun: &importRun{procRun: pr, out: out}, stopAt: stopAt}
	if err := json.Unmarshal(pr.stdout, &r.sum); err != nil {
		return r, fmt.Errorf("%s: import exited %d without a JSON summary: %s", name, pr.exit, lastLine(pr.stderr))
	}
	return r, nil
}
