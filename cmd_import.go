package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

const defaultAPIURL = "https://api.clerk.com/v1"

// environment is what run was given: the process's streams and environment, so tests can call
// run directly.
type environment struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e *environment) printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}

// refuse prints a refusal and returns exit code 2.
func (e *environment) refuse(format string, args ...any) int {
	e.printf(e.stderr, "userimport: "+format+"\n", args...)
	return exitRefused
}

type importFlags struct {
	preset, mappingFile, format, out, keyFile string
	rate                                      float64
	concurrency, maxRetries, limit            int
	maxRecordSize                             int
	requestTimeout, maxDuration               time.Duration
	restart, jsonOut, noProgress, verbose     bool
	noPrecheck, noReport                      bool
	metricsFile                               string
	useSandbox                                bool
	presetOpts                                mapping.PresetOptions
}

func (f *importFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.preset, "preset", "", "source `name`: native (default), clerk, auth0, firebase, supabase, authjs, cognito")
	fs.StringVar(&f.mappingFile, "mapping", "", "JSON mapping `file` from input columns/keys to Clerk fields")
	fs.StringVar(&f.format, "format", "", "input format: csv, jsonl or json (default from the file extension)")
	fs.StringVar(&f.out, "out", "", "run `folder` (default userimport-runs/<input base name>); re-running with it resumes")
	fs.StringVar(&f.keyFile, "secret-key-file", "", "read the Clerk secret key from this `file` instead of CLERK_SECRET_KEY")
	fs.Float64Var(&f.rate, "rate", 0, "API requests per second, every call counted (default 80 for sk_live_, 8 for sk_test_)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "requests in flight (default: what sustains --rate at the latency observed)")
	fs.IntVar(&f.maxRetries, "max-retries", 5, "retries per row for transient failures")
	fs.DurationVar(&f.requestTimeout, "request-timeout", 30*time.Second, "timeout per API request")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "stop taking rows after this long, finish in-flight ones, exit 75")
	fs.IntVar(&f.limit, "limit", 0, "take at most N rows this run, then exit 75")
	fs.IntVar(&f.maxRecordSize, "max-record-size", 1<<20, "largest input record in bytes")
	fs.BoolVar(&f.restart, "restart", false, "start a new run: the old run folder is kept, renamed")
	fs.BoolVar(&f.jsonOut, "json", false, "print the summary as JSON on stdout; all human output goes to stderr")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar, even on a terminal")
	fs.BoolVar(&f.verbose, "v", false, "verbose: info-level logs on stderr")
	fs.BoolVar(&f.noPrecheck, "no-precheck", false, "do not look rows up by external_id (100 a request) before creating them")
	fs.BoolVar(&f.noReport, "no-report", false, "do not write the run folder's report.html at the end")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics to this `file` every 30 s and at the end (node_exporter textfile collector)")
	fs.BoolVar(&f.useSandbox, "sandbox", false, "import into an in-process Clerk-compatible sandbox (rehearsal, demo)")
	fs.StringVar(&f.presetOpts.FirebaseSignerKey, "firebase-signer-key", "", "Firebase project's scrypt signer key (base64); or FIREBASE_SIGNER_KEY")
	fs.StringVar(&f.presetOpts.FirebaseSaltSeparator, "firebase-salt-separator", "", "Firebase scrypt salt separator (base64); or FIREBASE_SALT_SEPARATOR")
	fs.IntVar(&f.presetOpts.FirebaseRounds, "firebase-rounds", 0, "Firebase scrypt rounds; or FIREBASE_ROUNDS")
	fs.IntVar(&f.presetOpts.FirebaseMemCost, "firebase-mem-cost", 0, "Firebase scrypt memory cost; or FIREBASE_MEM_COST")
	fs.StringVar(&f.presetOpts.CognitoPoolID, "cognito-pool-id", "", "Cognito user pool id, for awscognito lazy password migration")
	fs.StringVar(&f.presetOpts.CognitoClientID, "cognito-client-id", "", "Cognito app client id, for awscognito lazy password migration")
}

func (e *environment) importCmd(ctx context.Context, args []string, validateOnly bool) int {
	name := "import"
	if validateOnly {
		name = "validate"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f importFlags
	f.register(fs)
	fs.Usage = func() {
		e.printf(e.stderr, "Usage: userimport %s [flags] FILE|-\n\nThe secret key comes from CLERK_SECRET_KEY or --secret-key-file; CLERK_API_URL overrides Clerk's.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitRefused
	}
	if fs.NArg() != 1 {
		return e.refuse("%s takes one input file (or - for stdin), got %d arguments", name, fs.NArg())
	}
	input := fs.Arg(0)

	m, preset, err := e.loadMapping(&f)
	if err != nil {
		return e.refuse("%v", err)
	}
	in, err := openInput(input, e.stdin, f.format, f.maxRecordSize, m, !validateOnly)
	if err != nil {
		return e.refuse("%v", err)
	}
	defer in.Close()

	if validateOnly {
		return e.validate(ctx, &f, in, m)
	}
	return e.doImport(ctx, &f, in, m, preset)
}

// loadMapping resolves --preset / --mapping into a compiled mapping and, for a preset, its name.
func (e *environment) loadMapping(f *importFlags) (*mapping.Mapping, string, error) {
	if f.preset != "" && f.mappingFile != "" {
		return nil, "", errors.New("give --preset or --mapping, not both")
	}
	if f.mappingFile != "" {
		b, err := os.ReadFile(f.mappingFile)
		if err != nil {
			return nil, "", fmt.Errorf("read mapping: %w", err)
		}
		m, err := mapping.Parse(b)
		if err != nil {
			return nil, "", fmt.Errorf("mapping %s: %w", f.mappingFile, err)
		}
		fillPresetEnv(&f.presetOpts, e.getenv)
		return m.Bind(f.presetOpts), "", nil
	}
	name := f.preset
	if name == "" {
		name = "native"
	}
	fillPresetEnv(&f.presetOpts, e.getenv)
	m, err := mapping.Preset(name, f.presetOpts)
	if err != nil {
		return nil, "", err
	}
	return m, name, nil
}

// input is an opened, format-detected input with what the run header needs.
type input struct {
	path    string
	format  source.Format
	sha256  string
	size    int64
	rows    int // records, counted by the import's first read; 0 when not counted
	counter *importer.CountingReader
	reader  source.Reader
	closer  io.Closer
}

func (in *input) Close() error {
	in.reader.Close()
	if in.closer != nil {
		return in.closer.Close()
	}
	return nil
}

// openInput opens and format-detects the input. With prepass (import), one first read of a
// file both hashes it (the run folder is keyed on the input's content, not its name) and counts
// its rows (progress in rows, the development-instance check); validate needs neither.
func openInput(path string, stdin io.Reader, format string, maxRecord int, m *mapping.Mapping, prepass bool) (*input, error) {
	in := &input{path: path}
	var gz bool
	var err error
	if format != "" {
		in.format = source.Format(format)
		gz = strings.HasSuffix(path, ".gz")
		switch in.format {
		case source.CSV, source.JSONL, source.JSON:
		default:
			return nil, fmt.Errorf("unknown --format %q: want csv, jsonl or json", format)
		}
	} else if path == "-" {
		return nil, errors.New("reading stdin needs --format csv, jsonl or json")
	} else if in.format, gz, err = source.Detect(path); err != nil {
		return nil, fmt.Errorf("%w (give --format)", err)
	}
	opts := source.Options{Format: in.format, Gzip: gz, MaxRecordSize: maxRecord}
	if in.format == source.CSV {
		opts.Header = m.CSVHeader() // header-less exports (Firebase's CSV) name their columns here
	}
	var r io.Reader
	if path == "-" {
		r = stdin // unhashed: a re-run skips only the external_ids the folder already holds
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		if prepass {
			h := sha256.New()
			in.rows = source.Count(io.TeeReader(f, h), opts)
			_, err := io.Copy(h, f) // whatever the count left unread
			if err == nil {
				in.size, err = f.Seek(0, io.SeekCurrent)
			}
			if err == nil {
				_, err = f.Seek(0, io.SeekStart)
			}
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("read input: %w", err)
			}
			in.sha256 = hex.EncodeToString(h.Sum(nil))
		}
		in.closer, r = f, f
	}
	in.counter = &importer.CountingReader{R: r}
	in.reader, err = source.Open(in.counter, opts)
	if err != nil {
		if in.closer != nil {
			in.closer.Close()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// apiURL is CLERK_API_URL, or Clerk's.
func (e *environment) apiURL() string {
	if u := strings.TrimSpace(e.getenv("CLERK_API_URL")); u != "" {
		return u
	}
	return defaultAPIURL
}

// target connects to Clerk (or CLERK_API_URL) with key, paced by --rate or the key's default.
func (e *environment) target(apiURL, key string, f *importFlags) (*clerk.Client, *pacer.Pacer, error) {
	t, err := clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: f.requestTimeout})
	if err != nil {
		return nil, nil, err
	}
	rate := f.rate
	if rate <= 0 {
		rate = clerk.DefaultRate(key)
	}
	return t, pacer.New(pacer.Config{Rate: rate}), nil
}

// secretKey reads the key from --secret-key-file or CLERK_SECRET_KEY.
func (e *environment) secretKey(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(e.getenv("CLERK_SECRET_KEY")), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("secret key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("secret key file: %w", err)
	}
	if !st.Mode().IsRegular() { // /dev/zero or a FIFO would never end
		return "", fmt.Errorf("secret key file %s is not a regular file", file)
	}
	if st.Mode().Perm()&0o077 != 0 {
		e.printf(e.stderr, "userimport: warning: %s is readable by others (mode %v); chmod 600 it\n", file, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10)) // a key is ~50 bytes
	if err != nil {
		return "", fmt.Errorf("secret key file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (e *environment) doImport(ctx context.Context, f *importFlags, in *input, m *mapping.Mapping, preset string) int {
	key, err := e.secretKey(f.keyFile)
	if err != nil {
		return e.refuse("%v", err)
	}
	apiURL := e.apiURL()
	if f.useSandbox {
		sb, url, sbKey, err := startSandbox(key)
		if err != nil {
			return e.refuse("sandbox: %v", err)
		}
		defer sb.Close()
		apiURL, key = url, sbKey
	}
	if key == "" {
		return e.refuse("no secret key: set CLERK_SECRET_KEY or --secret-key-file (or rehearse with --sandbox)")
	}
	target, pc, err := e.target(apiURL, key, f)
	if err != nil {
		return e.refuse("%v", err)
	}

	out := f.out
	if out == "" {
		out = filepath.Join("userimport-runs", runName(in.path))
	}
	if f.restart {
		if err := setAside(out); err != nil {
			return e.refuse("%v", err)
		}
	}
	if err := runfolder.MakeDir(out); err != nil {
		return e.refuse("%v", err)
	}
	lock, stale, err := runfolder.AcquireLock(out)
	if err != nil {
		return e.refuse("%v", err)
	}
	defer lock.Release()

	log, closeLog, err := newLogger(out, e.stderr, f.verbose)
	if err != nil {
		return e.refuse("%v", err)
	}
	defer closeLog()
	if stale > 0 {
		log.Warn(fmt.Sprintf("took over a stale lock left by process %d", stale))
	}

	ctx, stop, release := signals(ctx)
	defer release()

	terminal := !f.noProgress && isTerminal(e.stderr)
	rep := importer.NewReporter(e.stderr, terminal, in.rows, in.size, in.counter.Pos, log)
	counters := &importer.Counters{}
	stopMetrics := e.liveMetrics(f.metricsFile, out, rep, counters, log)
	sum, runErr := importer.Run(ctx, importer.Config{
		OutDir: out,
		Header: runfolder.Header{
			Tool: "userimport", Version: version, Input: in.path, InputSHA256: in.sha256,
			Format: string(in.format), Mapping: f.mappingFile, Preset: preset, MappingSHA256: sha256Hex(m.Spec()),
			APIURL: apiURL, Sandbox: f.useSandbox, KeyFingerprint: clerk.Fingerprint(key),
		},
		Source: in.reader, Format: in.format, HeaderlessCSV: m.CSVHeader() != nil, Mapping: m, Target: target, Pacer: pc,
		Precheck: !f.noPrecheck, Concurrency: f.concurrency, MaxRetries: f.maxRetries, Limit: f.limit, MaxDuration: f.maxDuration,
		Stop: stop, Log: log, Progress: rep, Counters: counters,
		Preflight: func(ctx context.Context, doneBefore int) error {
			if err := pc.Wait(ctx); err != nil {
				return err
			}
			users, err := target.Count(ctx)
			var ce *clerk.Error
			if errors.As(err, &ce) && ce.Fatal() {
				return fmt.Errorf("Clerk refused the key (fingerprint %s): %w", clerk.Fingerprint(key), err)
			}
			if err != nil {
				log.Warn("pre-flight check failed; going on: " + err.Error())
				return nil
			}
			if isDevInstance(apiURL, key) && in.rows > 0 {
				return devCapCheck(users, in.rows, doneBefore)
			}
			return nil
		},
	})
	rep.Close()
	stopMetrics()
	if sum == nil {
		return e.refuse("%v", runErr)
	}
	code := exitCode(sum.RunStatus)
	sum.ExitCode = code
	if err := runfolder.WriteSummary(out, sum); err != nil {
		log.Error("write summary: " + err.Error())
	}
	reportPath := e.finalReport(f, out, sum, log)
	if runErr != nil && sum.RunStatus != runfolder.RunFatal {
		log.Error("run ended with an error: " + runErr.Error())
	}
	e.report(f.jsonOut, out, in, sum)
	if reportPath != "" && !f.jsonOut {
		e.printf(e.stdout, "report: %s\n", reportPath)
	}
	return code
}

func exitCode(status runfolder.RunStatus) int {
	switch status {
	case runfolder.RunComplete, runfolder.RunAlready:
		return exitOK
	case runfolder.RunWithFailures:
		return exitRowsFailed
	case runfolder.RunStopped:
		return exitStopped
	case runfolder.RunInterrupted:
		return exitInterrupted
	default:
		return exitRefused
	}
}

// report prints the run's outcome: JSON on stdout with --json, else a few human lines.
func (e *environment) report(jsonOut bool, out string, in *input, sum *runfolder.Summary) {
	if jsonOut {
		b, _ := json.MarshalIndent(sum, "", "  ")
		e.printf(e.stdout, "%s\n", b)
	}
	w := e.stdout
	if jsonOut {
		w = e.stderr
	}
	if sum.RunStatus == runfolder.RunAlready {
		e.printf(w, "already complete: every row of %s is in Clerk (%d rows); nothing to do\n", in.path, sum.DoneBefore)
		return
	}
	c := sum.Counts
	e.printf(w, "%s: %d rows: %d created, %d exists, %d failed, %d invalid, %d duplicate",
		strings.ReplaceAll(string(sum.RunStatus), "_", " "), sum.Rows, c[runfolder.StatusCreated], c[runfolder.StatusExists],
		c[runfolder.StatusFailed], c[runfolder.StatusInvalid], c[runfolder.StatusDuplicate])
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
		e.printf(w, "rows not imported are in %s: fix them and run: userimport import %s\n", sum.FailedFile, sum.FailedFile)
	}
	switch sum.RunStatus {
	case runfolder.RunStopped, runfolder.RunInterrupted, runfolder.RunFatal:
		if sum.Left > 0 {
			e.printf(w, "%d rows left: run the same command again to continue\n", sum.Left)
		}
	}
}

func runName(path string) string {
	if path == "-" {
		return "stdin"
	}
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".csv", ".jsonl", ".ndjson", ".json"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
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

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		fd, ok := l.fd()
		return ok && term.IsTerminal(int(fd))
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startSandbox runs an in-process sandbox on loopback for --sandbox.
func startSandbox(key string) (*sandbox.Server, string, string, error) {
	if key == "" || !strings.HasPrefix(key, "sk_test_") {
		key = "sk_test_sandbox_rehearsal"
	}
	// Paced like a development instance, so a rehearsal meets the limits it will meet in Clerk.
	sb, err := sandbox.New(sandbox.Options{Key: key, Limit: 100, Window: 10 * time.Second})
	if err != nil {
		return nil, "", "", err
	}
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		return nil, "", "", err
	}
	return sb, url, key, nil
}

func fillPresetEnv(o *mapping.PresetOptions, getenv func(string) string) {
	if o.FirebaseSignerKey == "" {
		o.FirebaseSignerKey = getenv("FIREBASE_SIGNER_KEY")
	}
	if o.FirebaseSaltSeparator == "" {
		o.FirebaseSaltSeparator = getenv("FIREBASE_SALT_SEPARATOR")
	}
	if o.FirebaseRounds == 0 {
		fmt.Sscan(getenv("FIREBASE_ROUNDS"), &o.FirebaseRounds)
	}
	if o.FirebaseMemCost == 0 {
		fmt.Sscan(getenv("FIREBASE_MEM_COST"), &o.FirebaseMemCost)
	}
}

// sortedKeys is for stable human output.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// devInstanceCap is how many users a Clerk development instance holds.
const devInstanceCap = 100

// isDevInstance: a development key against Clerk itself (a sandbox or proxy sets its own cap).
func isDevInstance(apiURL, key string) bool {
	return strings.HasPrefix(key, "sk_test_") && strings.TrimSuffix(apiURL, "/") == defaultAPIURL
}

// devCapCheck refuses, before the first create, an import that cannot fit a development
// instance, rather than failing with user_quota_exceeded a hundred rows in.
func devCapCheck(users, rows, doneBefore int) error {
	if toCome := rows - doneBefore; users+toCome > devInstanceCap {
		return fmt.Errorf("a development instance holds at most %d users: it has %d and the input %d more (use a production instance, sk_live_)",
			devInstanceCap, users, toCome)
	}
	return nil
}

// clipList joins the first n items and says how many more there are: a file with 100,000
// columns must not print them all.
func clipList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s … and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
