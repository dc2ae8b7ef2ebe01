package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/mapping"
)

// importFlags are import's: validate's and what only a run that writes takes.
type importFlags struct {
	inputFlags
	apiFlags
	out                          string
	concurrency, limit           int
	maxDuration                  time.Duration
	maxPause, unreachable        time.Duration
	restart, jsonOut, noProgress bool
	verbose, noPrecheck          bool
	noReport, useSandbox         bool
	metricsFile                  string
	strictFields                 bool
	devUserCap                   int
}

// maxConcurrency bounds --concurrency: every slot is a goroutine and a connection, and Clerk's
// production limit (100 requests/s) is sustained by a few hundred even at 2 s latency.
const maxConcurrency = 1024

func (e *environment) importCommand() *command {
	var f importFlags
	fs := newFlagSet("import", e.stdout)
	f.inputFlags.register(fs)
	fs.StringVar(&f.out, "out", "", "run `folder` (default userimport-runs/<input base name>, or DIR-refeed for a file in run folder DIR); re-running with it resumes")
	fs.BoolVar(&f.restart, "restart", false, "start a new run: the old run folder is kept, renamed")
	fs.intVar(&f.devUserCap, "dev-user-cap", clerk.DefaultDevUserCap, 0, maxInt, "a whole number of users ≥ 0 (0: no warning)",
		"warn before the first create when a development instance would hold more users than this (Clerk's documents say 100 and 500)")
	fs.intVar(&f.limit, "limit", 0, 0, maxInt, "a whole number of rows ≥ 0 (0: all)", "take at most `N` rows this run, then exit 75")
	fs.durationVar(&f.maxDuration, "max-duration", 0, 0, "a duration with a unit, e.g. 45m or 2h (0: no limit)",
		"stop taking rows after this long, finish in-flight ones, exit 75")
	fs.durationVar(&f.maxPause, "max-pause", 5*time.Minute, time.Second, "a duration with a unit, e.g. 5m or 1h",
		"longest pause a 429's Retry-After may impose; a longer one stops the run (exit 75) and says when to come back")
	fs.durationVar(&f.unreachable, "unreachable-after", 30*time.Second, 100*time.Millisecond, "a duration with a unit, e.g. 30s or 2m",
		"stop the run (exit 75) once the API has given no answer at all for this long")
	fs.BoolVar(&f.useSandbox, "sandbox", false, "import into an in-process Clerk-compatible sandbox whose users are kept in the run folder (rehearsal, demo)")
	f.apiFlags.register(fs, true)
	fs.intVar(&f.concurrency, "concurrency", 0, 0, maxConcurrency, fmt.Sprintf("a whole number of requests from 1 to %d (0: adapt)", maxConcurrency),
		"requests in flight (default: what sustains --rate at the latency observed)")
	fs.BoolVar(&f.noPrecheck, "no-precheck", false, "do not look rows up by external_id (100 a request) before creating them")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object on stdout on every exit (docs/json-output.md); all human output goes to stderr")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar, even on a terminal")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "verbose: info-level logs on stderr")
	fs.BoolVar(&f.noReport, "no-report", false, "do not write the run folder's report.html at the end")
	registerStrictFields(fs, &f.strictFields)
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics to this `file` every 30 s and at the end (node_exporter textfile collector)")
	fs.group("Run folder", "out", "restart", "limit", "max-duration", "sandbox")
	fs.group("Clerk", "secret-key-file", "rate", "concurrency", "max-retries", "request-timeout", "max-rate", "max-pause", "unreachable-after", "no-precheck", "strict-fields", "dev-user-cap")
	fs.group("Output", "json", "no-progress", "verbose", "no-report", "metrics-file")
	return &command{
		name: "import", args: "[flags] FILE|-|DATABASE_URL|clerk:", flags: fs,
		summary: "import users into Clerk, or resume the run in --out",
		notes: "The secret key comes from CLERK_SECRET_KEY or --secret-key-file; CLERK_API_URL overrides Clerk's.\n" +
			"Run the same command again to resume a stopped or interrupted run.\n" +
			"Before the first create it reads the instance's sign-up settings: rows the instance would refuse are\n" +
			"failed unsent, and fields it cannot store are dropped, both journaled with the reason (--strict-fields).",
		examples: []string{
			"# rehearse against an in-process sandbox first",
			"userimport import --sandbox --preset auth0 users.json",
			"# import an Auth0 export, an hour at a time",
			"userimport import --preset auth0 --max-duration 1h --out runs/auth0 users.json",
			"# read a CSV from stdin; the summary as JSON for cron",
			"gunzip -c users.csv.gz | userimport import --format csv --json - > last.json",
		},
		run: func(ctx context.Context, args []string) error { return e.importRun(ctx, &f, args) },
	}
}

const maxInt = int(^uint(0) >> 1)

func (e *environment) importRun(ctx context.Context, f *importFlags, args []string) error {
	if e.res == nil {
		e.res = &runResult{cmd: "import"}
	}
	e.res.json, e.res.sandbox = f.jsonOut, f.useSandbox
	if len(args) > 0 {
		e.res.input = args[0]
	}
	if err := f.inputFlags.checkArgs("import", args); err != nil {
		return err
	}
	m, preset, err := e.loadMapping(&f.inputFlags)
	if err != nil {
		return err
	}
	targetKey, _ := e.secretKey(f.keyFile) // its errors are doImport's to report
	// From the first read on: a signal while stdin's first bytes trickle in ends the command too.
	ctx, stop, release := signals(ctx)
	defer release()
	in, err := e.openSource(ctx, args[0], &f.inputFlags, m, sourceEnv{targetKey: targetKey, maxRetries: f.maxRetries,
		requestTimeout: f.requestTimeout, count: true, stop: stop})
	if err := e.stoppedOpening(stop, in, err); err != nil {
		return err
	}
	defer in.Close()
	return e.doImport(ctx, stop, f, in, m, preset)
}

// stoppedOpening is what ends a command whose source has been opened (in, err): interrupted
// when a signal came while it opened (stdin's first bytes trickling in, a file's first read),
// before any folder was made or row taken; else err, nil when in opened.
func (e *environment) stoppedOpening(stop <-chan struct{}, in *input, err error) error {
	select {
	case <-stop:
		if in != nil {
			in.Close()
		}
		e.printf(e.stderr, "userimport: interrupted while opening the input: no row was taken, nothing was sent\n")
		return outcome(runfolder.RunInterrupted, nil)
	default:
		return err
	}
}

func (e *environment) doImport(ctx context.Context, stop <-chan struct{}, f *importFlags, in *input, m *mapping.Mapping, preset string) error {
	key, err := e.secretKey(f.keyFile)
	if err != nil {
		return err
	}
	apiURL := e.apiURL()
	if f.useSandbox {
		key = sandboxKey // the sandbox's state is the instance, whatever key the environment holds
	}
	if key == "" {
		return errors.New("no secret key: set CLERK_SECRET_KEY or --secret-key-file (or rehearse with --sandbox)")
	}
	var target *clerk.Client
	var pc *pacer.Pacer
	if !f.useSandbox { // a bad API URL is refused before any folder is made
		if target, pc, err = e.target(apiURL, key, &f.apiFlags); err != nil {
			return err
		}
	}

	out := f.out
	if out == "" {
		out = defaultOut(in.path)
	}
	e.res.runFolder = out
	if err := guardInput(in.path, out, f.restart, f.metricsFile); err != nil {
		return err
	}
	if f.restart {
		if err := setAside(out); err != nil {
			return err
		}
	}
	if err := makeRunDir(out); err != nil {
		return err
	}
	lock, stale, err := runfolder.AcquireLock(out)
	if err != nil {
		return err
	}
	defer lock.Release()
	header := runfolder.Header{
		Tool: "userimport", Version: version, Input: in.path, InputSHA256: in.sha256,
		Format: string(in.format), Mapping: f.mappingFile, Preset: preset, MappingSHA256: sha256Hex(m.Spec()),
		APIURL: clerk.DisplayURL(apiURL), Sandbox: f.useSandbox, KeyFingerprint: clerk.Fingerprint(key), RerunFlags: rerunFlags(f), // no query or user info: never a token
	}
	err = e.runLocked(ctx, stop, f, in, m, out, stale, header, key, target, pc)
	if err != nil && e.res.sum == nil { // refused in the folder: its summary.json says so too
		e.writeRefusedSummary(out, err)
	}
	return err
}

// runLocked runs the import once the run folder is held.
func (e *environment) runLocked(ctx context.Context, stop <-chan struct{}, f *importFlags, in *input, m *mapping.Mapping, out string, stale int,
	header runfolder.Header, key string, target *clerk.Client, pc *pacer.Pacer) error {
	if err := checkFolderMapping(out, header); err != nil {
		return err
	}
	apiURL := header.APIURL
	if f.useSandbox {
		sb, url, err := startSandbox(filepath.Join(out, runfolder.SandboxStateFile))
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer sb.Close() // saves its users to the state file
		if target, pc, err = e.target(url, key, &f.apiFlags); err != nil {
			return err
		}
		apiURL, header.APIURL = url, sandboxTarget
	}

	con := newConsole(e.stderr)
	log, closeLog, err := newLogger(out, con, f.verbose)
	if err != nil {
		return err
	}
	defer closeLog()
	if stale > 0 {
		log.Warn(fmt.Sprintf("took over a stale lock left by process %d", stale))
	}

	joins, closeJoins, err := openJoins(ctx, &f.inputFlags, m, out)
	if err != nil {
		return err
	}
	defer closeJoins()

	terminal := !f.noProgress && isTerminal(e.stderr)
	rep := newReporter(e.stderr, terminal, in.rows, in.size, in.counter.Pos, log)
	counters := &importer.Counters{}
	rep.showTraffic(&counters.Counters)
	con.attach(rep)
	sayStopping(ctx, stop, con, "requests", counters.InFlight.Load)
	fit := &importer.Fit{Strict: f.strictFields, NoSkipPassword: f.presetOpts.NoSkipPasswordRequirement} // its settings are read in the pre-flight
	stopMetrics := e.liveMetrics(f.metricsFile, out, rep, counters, log)
	sum, runErr := importer.Run(ctx, importer.Config{
		OutDir: out,
		Header: header,
		Source: in.reader, Format: in.format, HeaderlessCSV: in.headerless, Keyed: in.keyed, Mapping: m, Joins: joins, Target: target, Pacer: pc,
		Precheck: !f.noPrecheck, Concurrency: f.concurrency, MaxRetries: f.maxRetries, Limit: f.limit, MaxDuration: f.maxDuration,
		MaxPause: f.maxPause, Unreachable: f.unreachable,
		Stop: stop, Log: log, Progress: rep, Counters: counters, Fit: fit, AllowNoExternalID: f.allowNoExternalID,
		Preflight: func(ctx context.Context, doneBefore int) error {
			if err := pc.Wait(ctx); err != nil {
				return err
			}
			users, err := target.Count(ctx)
			var ce *clerk.Error
			if errors.As(err, &ce) && ce.Fatal() {
				if ce.Status >= 300 && ce.Status < 400 { // a redirect: the URL is wrong, not the key
					return err
				}
				return fmt.Errorf("Clerk refused the key (fingerprint %s): %w", clerk.Fingerprint(key), err)
			}
			if err != nil {
				log.Warn("pre-flight check failed; going on: " + err.Error())
			} else if isDevInstance(apiURL, key) && in.rows > 0 {
				if w := clerk.DevCapWarning(users, in.rows, doneBefore, f.devUserCap); w != "" {
					log.Warn(w) // the instance's own 403 user_quota_exceeded still stops the run cleanly
				}
			}
			return e.importReadiness(ctx, fit, target, pc, in.path, out, &f.inputFlags, m, stop, log)
		},
	})
	con.detach()
	rep.Close()
	stopMetrics()
	e.importReadinessEnd(fit, in.path, log)
	if sum == nil {
		return runErr
	}
	if sum.RunStatus == "" && runErr != nil { // it failed before it could start: say so, not "0 rows"
		sum.RunStatus, sum.Fatal = runfolder.RunFatal, e.errorText(runErr)
	}
	result := outcome(sum.RunStatus, runErr)
	sum.ExitCode = exitCode(result)
	sum.Left = rowsLeft(sum, in.rows) // rows never read count too
	e.res.sum = sum
	if err := runfolder.WriteSummary(out, sum); err != nil {
		log.Error("write summary: " + err.Error())
	} else {
		e.res.summaryFile = filepath.Join(out, runfolder.SummaryFile)
	}
	reportPath := e.finalReport(f, out, sum, log)
	e.res.report = reportPath
	if runErr != nil && sum.RunStatus != runfolder.RunFatal && sum.Fatal == "" { // else the summary says it
		log.Error("run ended with an error: " + runErr.Error())
	}
	if sum.FailedFile != "" {
		e.res.refeed = runfolder.ShellJoin(runfolder.RefeedArgs(out, header, sum.FailedFile))
	}
	e.report(f.jsonOut, out, in, sum)
	warnJoins(e.stderr, sum.Joins)
	con.more(sum.FailedFile)
	if reportPath != "" && !f.jsonOut {
		e.printf(e.stdout, "report: %s\n", reportPath)
	}
	return result
}

// report prints the run's outcome in a few human lines: on stdout, or stderr with --json (whose
// object run prints on stdout).
func (e *environment) report(jsonOut bool, out string, in *input, sum *runfolder.Summary) {
	w := e.stdout
	if jsonOut {
		w = e.stderr
	}
	if sum.RunStatus == runfolder.RunAlready {
		e.printf(w, "already complete: every row of %s is in Clerk (%s); nothing to do\n", in.path, rows(sum.DoneBefore))
		return
	}
	c := sum.Counts
	e.printf(w, "%s: %s: %d created, %d exists, %d failed, %d invalid, %d duplicate",
		strings.ReplaceAll(string(sum.RunStatus), "_", " "), rows(sum.Rows), c[runfolder.StatusCreated], c[runfolder.StatusExists],
		c[runfolder.StatusFailed], c[runfolder.StatusInvalid], c[runfolder.StatusDuplicate])
	if n := c[runfolder.StatusSkipped]; n > 0 {
		e.printf(w, ", %d skipped", n) // left out by the preset on purpose (soft-deleted, anonymous): not failures
	}
	if sum.DoneBefore > 0 {
		e.printf(w, "; %d done by an earlier run", sum.DoneBefore)
	}
	e.printf(w, " (%s, %.1f creates/s, %d requests, %d retries, %d 429s)\n", sum.Elapsed, sum.CreateRate, sum.Requests, sum.Retries, sum.Status429)
	if sum.Fatal != "" {
		e.printf(e.stderr, "userimport: stopped: %s\n", sum.Fatal)
	}
	if len(sum.UnreadFields) > 0 {
		e.printf(w, "warning: columns the mapping never reads: %s\n", clipList(sum.UnreadFields, 20))
	}
	e.printf(w, "run folder: %s\n", out)
	if sum.FailedFile != "" {
		e.printf(w, "rows not imported are in %s: fix them and run: %s\n", sum.FailedFile, e.res.refeed)
	}
	switch sum.RunStatus {
	case runfolder.RunStopped, runfolder.RunInterrupted, runfolder.RunFatal:
		if quotaReached(sum) {
			e.printf(w, "%s\n", quotaAdvice(out, sum.Left))
		} else if sum.Left > 0 {
			e.printf(w, "%s left: run the same command again to continue\n", rows(sum.Left))
		}
	}
}

// setAside renames an existing run folder so --restart starts afresh and keeps the old one.
func setAside(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	to := dir + "." + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(dir, to); err != nil {
		return fmt.Errorf("--restart: %w", err)
	}
	return nil
}

// isDevInstance: a development key against Clerk itself (a sandbox or proxy sets its own cap).
func isDevInstance(apiURL, key string) bool {
	return strings.HasPrefix(key, "sk_test_") && strings.TrimSuffix(apiURL, "/") == defaultAPIURL
}
