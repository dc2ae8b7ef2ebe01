package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/runfolder"
)

// undoFlags are undo's.
type undoFlags struct {
	apiFlags
	yes, dryRun, jsonOut, noProgress bool
}

func (e *environment) undoCommand() *command {
	var f undoFlags
	fs := newFlagSet("undo", e.stdout)
	fs.StringVar(&f.keyFile, "secret-key-file", "", "read the Clerk secret key from this `file` instead of CLERK_SECRET_KEY")
	fs.rateVar(&f.rate, &f.rateAuto, "API requests per second, or auto (default from the key)")
	fs.BoolVarP(&f.yes, "yes", "y", false, "delete without asking (required when stdin is not a terminal)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "list the users that would be deleted (line, external_id, user id); delete nothing")
	fs.BoolVar(&f.jsonOut, "json", false, "print the summary as JSON on stdout; all human output goes to stderr")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar, even on a terminal")
	return &command{
		name: "undo", args: "[flags] OUT_DIR", flags: fs,
		summary: "delete the users a run created (never users it found already there)",
		notes: "The key must be the one the run used; a --sandbox run's users are deleted from the sandbox state in its folder, with no key.\n" +
			"On a terminal it asks first; elsewhere give --yes.\n" +
			"Run it again to continue an interrupted undo; a later import of the folder creates the deleted users again.",
		examples: []string{
			"userimport undo --dry-run userimport-runs/users",
			"userimport undo userimport-runs/users",
			"userimport undo --yes --rate 20 --secret-key-file ~/.clerk-key runs/nightly",
		},
		run: func(ctx context.Context, args []string) error { return e.undoRun(ctx, &f, args) },
	}
}

// stdinTerminal says whether undo may ask on stdin; tests replace it.
var stdinTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// undoResult is undo --json's object (docs/json-output.md, docs/json-output.schema.json): one on
// every exit, a usage error and a refusal included; every count, zeros too.
type undoResult struct {
	SchemaVersion int            `json:"schema_version"`
	Command       string         `json:"command"`
	Status        string         `json:"status"`
	ExitCode      int            `json:"exit_code"`
	RunFolder     string         `json:"run_folder"`
	DryRun        bool           `json:"dry_run"`
	ToDelete      int            `json:"to_delete"`
	Counts        map[string]int `json:"counts"`
	DoneBefore    int            `json:"done_before"`
	Left          int            `json:"left"`
	Requests      int64          `json:"requests"`
	Status429     int64          `json:"status_429"`
	Retries       int64          `json:"retries"`
	Elapsed       string         `json:"elapsed"`
	ElapsedSec    float64        `json:"elapsed_seconds"`
	Error         string         `json:"error,omitempty"`
}

// undoRun deletes the users a run created, refusing another instance's key.
func (e *environment) undoRun(ctx context.Context, f *undoFlags, args []string) (err error) {
	var sum *importer.UndoSummary
	if e.res != nil { // what --json says
		e.res.json, e.res.ran, e.res.dryRun = f.jsonOut, true, f.dryRun
		defer func() { e.res.undo = sum }()
	}
	if len(args) != 1 {
		return &usageError{cmd: "undo", msg: fmt.Sprintf("undo takes the run folder, got %d arguments", len(args))}
	}
	dir := args[0]
	if e.res != nil {
		e.res.runFolder = dir
	}
	out := e.stdout // human output; stderr with --json
	if f.jsonOut {
		out = e.stderr
	}
	first, _, ferr := runfolder.FirstHeader(dir) // no folder, no journal: no header, not a sandbox run
	key, apiURL := sandboxKey, sandboxTarget     // a --sandbox run: its users are in the folder's state
	if !first.Sandbox {
		if key, err = e.secretKey(f.keyFile); err != nil {
			return err
		}
		if key == "" {
			return errors.New("no secret key: set CLERK_SECRET_KEY or --secret-key-file")
		}
		apiURL = e.apiURL()
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a run folder (give the --out folder of an import)", dir)
	}
	if ferr != nil {
		return fmt.Errorf("read run folder %s: %w", dir, ferr)
	}
	var target *clerk.Client
	if !first.Sandbox {
		if target, err = clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: 30 * time.Second}); err != nil {
			return err
		}
	}
	lock, _, err := runfolder.AcquireLock(dir)
	if err != nil {
		return err
	}
	defer lock.Release()
	if first.Sandbox {
		sb, url, err := undoSandbox(dir)
		if err != nil {
			return err
		}
		defer sb.Close() // saves the state without the deleted users
		if target, err = clerk.New(clerk.Config{URL: url, Key: key, RequestTimeout: 30 * time.Second}); err != nil {
			return err
		}
	}
	r := f.pace(key)
	ctx, stop, release := signals(ctx)
	defer release()

	where := clerk.DisplayURL(apiURL)
	counters := &pacer.Counters{}
	prog := &lateProgress{}
	var rep atomic.Pointer[reporter]
	defer func() {
		if p := rep.Load(); p != nil {
			p.Close()
		}
	}()
	con := newConsole(e.stderr)
	sayStopping(ctx, stop, con, "deletes", counters.InFlight.Load)
	sum, err = importer.Undo(ctx, importer.UndoConfig{
		OutDir: dir, KeyFingerprint: clerk.Fingerprint(key), APIURL: where, Target: target,
		Pacer: pacer.New(r), Concurrency: pacer.Concurrency(r.Rate, time.Second), MaxRetries: 5,
		Counters: counters, Stop: stop, Progress: prog, DryRun: f.dryRun,
		List: func(it importer.UndoItem) {
			e.printf(out, "would delete: line %d · external_id %s · %s\n", it.Line, orDash(it.ExternalID), it.UserID)
		},
		Confirm: func(n int) (bool, error) {
			if !f.yes {
				ok, err := e.confirmUndo(n, dir, where, key)
				if !ok || err != nil {
					return ok, err
				}
			}
			p := newUndoReporter(e.stderr, !f.noProgress && isTerminal(e.stderr), n, counters, zap.NewNop())
			rep.Store(p)
			prog.r.Store(p)
			con.attach(p)
			return true, nil
		},
	})
	con.detach()
	if p := rep.Swap(nil); p != nil {
		p.Close()
	}
	if sum != nil {
		e.undoReport(out, dir, where, f.dryRun, sum)
	}
	switch {
	case errors.Is(err, importer.ErrNotConfirmed):
		return errors.New("undo: not confirmed: nothing deleted")
	case sum != nil && sum.Interrupted, errors.Is(err, context.Canceled):
		return outcome(runfolder.RunInterrupted, nil)
	case err != nil:
		return prefixed("undo", err)
	case sum.Failed > 0:
		return outcome(runfolder.RunWithFailures, nil)
	}
	return nil
}

// confirmUndo asks on the terminal (default no); without one it refuses: --yes is required.
func (e *environment) confirmUndo(n int, dir, where, key string) (bool, error) {
	if !stdinTerminal(e.stdin) {
		return false, &usageError{cmd: "undo", flag: "--yes", msg: fmt.Sprintf(
			"is required when stdin is not a terminal: undo would delete %d users from %s (key %s); see them first with --dry-run",
			n, where, clerk.Fingerprint(key))}
	}
	e.printf(e.stderr, "Delete %d users that %s created from %s (key %s)? [y/N] ", n, dir, where, clerk.Fingerprint(key))
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 1<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// undoReport prints what the undo did, or would do.
func (e *environment) undoReport(w io.Writer, dir, where string, dryRun bool, sum *importer.UndoSummary) {
	if dryRun {
		e.printf(w, "dry run: undo %s would delete %d users from %s (%d deleted by an earlier undo); nothing was sent\n",
			dir, sum.ToDelete, where, sum.DoneBefore)
		return
	}
	e.printf(w, "undo %s: %d deleted, %d already gone, %d failed, %d deleted by an earlier undo",
		dir, sum.Deleted, sum.AlreadyGone, sum.Failed, sum.DoneBefore)
	if sum.Left > 0 {
		e.printf(w, ", %d left", sum.Left)
	}
	e.printf(w, " (%s, %d requests, %d retries, %d 429s)\n", sum.Elapsed.Round(time.Millisecond), sum.Requests, sum.Retries, sum.Status429)
	if sum.Left > 0 {
		e.printf(w, "%d users left: run the same command again to continue\n", sum.Left)
	}
	if sum.Failed > 0 {
		e.printf(w, "failed deletes are in %s/%s; run the same command again to retry them\n", dir, runfolder.UndoFile)
	}
}

// undoOutput is undo --json's object for an undo that ended with err and exits with code.
func (r *runResult) undoOutput(err error, code int, errText string) undoResult {
	res := undoResult{SchemaVersion: jsonSchemaVersion, Command: "undo", RunFolder: r.runFolder, DryRun: r.dryRun, ExitCode: code,
		Counts: map[string]int{"deleted": 0, "gone": 0, "failed": 0}, Error: errText}
	sum := r.undo
	var oe *outcomeError
	_, usage := asUsage(err)
	switch {
	case usage:
		res.Status = jsonUsageError
	case errors.As(err, &oe):
		res.Status = string(oe.status)
	case err != nil && sum == nil: // nothing was deleted: no key, no run, a lock, another instance, not confirmed
		res.Status = jsonRefused
	case err != nil:
		res.Status = string(runfolder.RunFatal)
	case r.dryRun:
		res.Status = "dry_run"
	default:
		res.Status = string(runfolder.RunComplete)
	}
	if sum != nil {
		res.ToDelete, res.DoneBefore, res.Left = sum.ToDelete, sum.DoneBefore, sum.Left
		res.Counts["deleted"], res.Counts["gone"], res.Counts["failed"] = sum.Deleted, sum.AlreadyGone, sum.Failed
		res.Requests, res.Status429, res.Retries = sum.Requests, sum.Status429, sum.Retries
		res.Elapsed, res.ElapsedSec = sum.Elapsed.Round(time.Millisecond).String(), sum.Elapsed.Seconds()
	}
	return res
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lateProgress forwards to the reporter once the confirmation has started it.
type lateProgress struct{ r atomic.Pointer[reporter] }

func (p *lateProgress) Row(s runfolder.Status) {
	if r := p.r.Load(); r != nil {
		r.Row(s)
	}
}
