package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// inputFlags say how to read and map the input: shared by import and validate.
type inputFlags struct {
	preset, mappingFile, format string
	maxRecordSize               int
	presetOpts                  mapping.PresetOptions
	encoding, delimiter         string
	lazyQuotes                  bool
	allowNoExternalID           bool
	joins                       []string // --join values: FILE or NAME=FILE
	signerKeyFile               string   // --firebase-signer-key-file
	signerKeyValue              string   // --firebase-signer-key: refused, a secret is no flag value
	sourceFlags
}

func (f *inputFlags) register(fs *flagSet) {
	fs.StringVar(&f.preset, "preset", "", "source `name`: native (default), clerk, auth0, firebase, supabase, authjs, cognito, betterauth")
	fs.StringVar(&f.mappingFile, "mapping", "", "JSON mapping `file` from input columns/keys to Clerk fields")
	fs.StringVar(&f.format, "format", "", "input `format`: csv, jsonl or json (default: read from the content)")
	fs.StringVar(&f.encoding, "encoding", "", "input `encoding`: utf-8 (default; UTF-16 found by its BOM), latin1, windows-1252, iso-8859-15")
	fs.StringVar(&f.delimiter, "csv-delimiter", "", "CSV field `separator`: one character, or comma, semicolon, tab, pipe (default: read from the header line)")
	fs.BoolVar(&f.lazyQuotes, "csv-lazy-quotes", false, "read bare quotes inside CSV fields as text (the firebase and cognito presets turn it on)")
	fs.StringArrayVar(&f.joins, "join", nil, "a second `file` joined to each record by the preset's key, e.g. Auth0's password hashes (repeatable; NAME=FILE when it declares several joins)")
	fs.Lookup("join").DefValue = "" // not "[]" in the help
	fs.intVar(&f.maxRecordSize, "max-record-size", source.DefaultMaxRecordSize, 1, 1<<30, "a size in bytes from 1 to 1073741824", "largest input record in `bytes`")
	fs.StringVar(&f.signerKeyFile, "firebase-signer-key-file", "", "read the Firebase project's scrypt signer key (base64) from this `file`; or FIREBASE_SIGNER_KEY")
	// The key itself is a secret: a flag value would show in ps and the shell's history. The
	// old flag stays known, hidden, so that it is refused with what to do instead.
	fs.StringVar(&f.signerKeyValue, "firebase-signer-key", "", "")
	_ = fs.MarkHidden("firebase-signer-key")
	fs.StringVar(&f.presetOpts.FirebaseSaltSeparator, "firebase-salt-separator", "", "Firebase scrypt salt separator (base64); or FIREBASE_SALT_SEPARATOR")
	fs.intVar(&f.presetOpts.FirebaseRounds, "firebase-rounds", 0, 0, math.MaxInt32, "a whole number of rounds ≥ 0", "Firebase scrypt rounds; or FIREBASE_ROUNDS")
	fs.intVar(&f.presetOpts.FirebaseMemCost, "firebase-mem-cost", 0, 0, math.MaxInt32, "a whole number ≥ 0", "Firebase scrypt memory cost; or FIREBASE_MEM_COST")
	fs.StringVar(&f.presetOpts.CognitoPoolID, "cognito-pool-id", "", "Cognito user pool id, for awscognito lazy password migration")
	fs.StringVar(&f.presetOpts.CognitoClientID, "cognito-client-id", "", "Cognito app client id, for awscognito lazy password migration")
	fs.BoolVar(&f.presetOpts.NoSkipPasswordRequirement, "no-skip-password-requirement", false,
		"do not send skip_password_requirement for users with no password (the instance then refuses them if it requires one)")
	fs.BoolVar(&f.presetOpts.RestrictionChecks, "restriction-checks", false,
		"apply the instance's allowlist, blocklist and disposable-email rules to imported users (default: skip_restriction_checks, as Clerk's CLI)")
	fs.BoolVar(&f.allowNoExternalID, "allow-no-external-id", false, "accept an input whose rows map no external_id (validate refuses one; import warns)")
	fs.group("Input", "preset", "mapping", "join", "format", "encoding", "csv-delimiter", "csv-lazy-quotes", "max-record-size")
	f.sourceFlags.register(fs)
	fs.group("Password hashes", "firebase-signer-key-file", "firebase-salt-separator", "firebase-rounds", "firebase-mem-cost", "cognito-pool-id", "cognito-client-id")
	fs.group("Mapping", "no-skip-password-requirement", "restriction-checks", "allow-no-external-id")
}

// checkArgs refuses anything but one SOURCE argument, then checks the input flags against
// each other (check) and against the SOURCE's kind (checkSource).
func (f *inputFlags) checkArgs(cmd string, args []string) error {
	if len(args) != 1 {
		return &usageError{cmd: cmd, msg: fmt.Sprintf("%s takes one input file (or - for stdin), got %d arguments", cmd, len(args))}
	}
	if err := f.check(cmd); err != nil {
		return err
	}
	return f.checkSource(cmd, args[0])
}

// check refuses flag combinations no single value shows wrong.
func (f *inputFlags) check(cmd string) error {
	if f.signerKeyValue != "" {
		return &usageError{cmd: cmd, flag: "--firebase-signer-key", msg: "takes no value: the signer key is a secret, which ps and the shell's history would show; " +
			"give it in FIREBASE_SIGNER_KEY or with --firebase-signer-key-file FILE"}
	}
	if f.preset != "" && f.mappingFile != "" {
		return &usageError{cmd: cmd, flag: "--preset", msg: "and --mapping cannot both be given: give one"}
	}
	if f.delimiter != "" {
		if _, err := source.ParseDelimiter(f.delimiter); err != nil {
			return &usageError{cmd: cmd, flag: "--csv-delimiter", msg: fmt.Sprintf("takes one character, or comma, semicolon, tab or pipe (got %q)", f.delimiter)}
		}
	}
	if f.encoding != "" {
		if _, err := source.Open(strings.NewReader("a\n"), source.Options{Format: source.CSV, Encoding: f.encoding}); err != nil {
			return &usageError{cmd: cmd, flag: "--encoding", msg: fmt.Sprintf("takes utf-8, utf-16le, utf-16be, latin1, windows-1252 or iso-8859-15 (got %q)", f.encoding)}
		}
	}
	switch source.Format(f.format) {
	case "", source.CSV, source.JSONL, source.JSON:
		return nil
	}
	return &usageError{cmd: cmd, flag: "--format", msg: fmt.Sprintf("takes csv, jsonl or json (got %q)", f.format)}
}

// loadMapping resolves --preset / --mapping into a compiled mapping and, for a preset, its name.
func (e *environment) loadMapping(f *inputFlags) (*mapping.Mapping, string, error) {
	if f.signerKeyFile != "" {
		key, err := e.readSecretFile("Firebase signer key file", f.signerKeyFile)
		if err != nil {
			return nil, "", err
		}
		if key == "" {
			return nil, "", fmt.Errorf("Firebase signer key file %s is empty", f.signerKeyFile)
		}
		f.presetOpts.FirebaseSignerKey = key
	}
	fillPresetEnv(&f.presetOpts, e.getenv)
	if f.mappingFile != "" {
		b, err := os.ReadFile(f.mappingFile)
		if err != nil {
			return nil, "", fmt.Errorf("read mapping: %w", err)
		}
		m, err := mapping.Parse(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.mappingFile, err) // err says "mapping: …"
		}
		return checkJoins(m.Bind(f.presetOpts), "", f)
	}
	name := f.preset
	if name == "" {
		name = "native"
	}
	if name == "firebase" && f.presetOpts.FirebaseSignerKey == "" {
		// Each such row says "preset option firebase_signer_key is required": say where it goes.
		e.printf(e.stderr, "userimport: warning: no FIREBASE_SIGNER_KEY (or --firebase-signer-key-file): rows with a password hash "+
			"will be invalid (missing_option); the Firebase console shows it under Authentication › Users › ⋮ › Password hash parameters\n")
	}
	m, err := mapping.Preset(name, f.presetOpts)
	if err != nil {
		return nil, "", err
	}
	return checkJoins(m, name, f)
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

// input is an opened, format-detected input with what the run header needs.
type input struct {
	path   string
	format source.Format
	// headerless: a CSV read under the mapping's own column names (it had no header line), so
	// its failed rows are written without one either.
	headerless bool
	sha256     string
	size       int64
	rows       int // records, counted by the import's first read; 0 when not counted
	counter    *countingReader
	reader     source.Reader
	closer     io.Closer
	keyed      bool // no stable lines (database, clerk:, stdin): rows are matched by key
	// stdin ("-") is abandoned on the first signal, so a read blocked on it ends intake.
	stdin *stopReader
}

func (in *input) Close() error {
	in.reader.Close()
	if in.closer != nil {
		return in.closer.Close()
	}
	return nil
}

// openInput opens and format-detects the input; stdin is read when path is "-". With prepass
// (import), one first read of a file both hashes it (the run folder is keyed on the input's
// content, not its name) and counts its rows (progress in rows, the development-instance
// check); validate needs neither.
func openInput(path string, stdin *stopReader, stop <-chan struct{}, fl *inputFlags, m *mapping.Mapping, prepass bool) (*input, error) {
	in := &input{path: path}
	var err error
	// The content decides the format; --format overrides it, and the name is only a hint (Auth0
	// names its NDJSON export <tenant>.json.gz). gzip is found by its magic bytes.
	opts := source.Options{Format: source.Format(fl.format), MaxRecordSize: fl.maxRecordSize,
		Encoding: fl.encoding, LazyQuotes: fl.lazyQuotes}
	readerOptions(&opts, m)
	if fl.delimiter != "" {
		d, err := source.ParseDelimiter(fl.delimiter)
		if err != nil {
			return nil, err
		}
		opts.Delimiter = d
	}
	if opts.Format == "" && path != "-" {
		opts.Hint, _, _ = source.Detect(path)
	}
	var r io.Reader
	if stdin != nil { // stdin, or a pipe by name: read once
		// unhashed: a re-run skips only the external_ids the folder already holds
		in.stdin = stdin
		in.closer, r = in.stdin, in.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		if prepass {
			h := sha256.New()
			pf := &stoppable{r: f, stop: stop} // a big file's first read ends on the first signal
			in.rows = source.Count(io.TeeReader(pf, h), opts)
			_, err := io.Copy(h, pf) // whatever the count left unread
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
	in.counter = &countingReader{R: r}
	in.reader, err = source.Open(in.counter, opts)
	if err != nil {
		if in.closer != nil {
			in.closer.Close()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	det, _ := source.DetectedOf(in.reader)
	in.format, in.headerless = det.Format, det.Layout >= 0
	if err := checkHeader(in, m); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

func runName(path string) string {
	if n, ok := sourceRunName(path); ok {
		return n
	}
	if path == "-" || strings.HasPrefix(path, "/dev/fd/") || strings.HasPrefix(path, "/proc/self/fd/") {
		return "stdin" // <(cmd) names a descriptor, not the input
	}
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".csv", ".jsonl", ".ndjson", ".json"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// stoppable reads r until stop is closed, then fails every read.
type stoppable struct {
	r    io.Reader
	stop <-chan struct{}
}

func (s *stoppable) Read(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, errStdinStopped
	default:
		return s.r.Read(p)
	}
}
