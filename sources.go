package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/importer/source/clerksrc"
	"github.com/userimport/userimport/importer/source/db"
	"github.com/userimport/userimport/mapping"
)

// SOURCE is a file, - (stdin), a database URL or clerk: (another Clerk instance). This file
// turns the last two into an input like a file's: a reader of JSON records, a row count for
// progress, the identity the run folder keeps instead of the content's sha256, and the name
// shown everywhere (a database's URL with its password removed).

// sourceFlags say how a SOURCE that is not a file is read.
type sourceFlags struct {
	query           string
	sourceKeyFile   string
	sourceIDAsExtID bool
}

func (f *sourceFlags) register(fs *flagSet) {
	fs.StringVar(&f.query, "query", "", "database SOURCE: the `SQL` to read (default: the supabase, authjs or betterauth preset's own)")
	fs.StringVar(&f.sourceKeyFile, "source-secret-key-file", "", "read the database password, or the clerk: source instance's secret key, from this `file`")
	fs.BoolVar(&f.sourceIDAsExtID, "source-id-as-external-id", false, "clerk: SOURCE: external_id is the source user's id, even when it has its own")
	fs.group("Database or Clerk source", "query", "source-secret-key-file", "source-id-as-external-id")
}

type sourceKind int

const (
	kindFile sourceKind = iota
	kindStdin
	kindDatabase
	kindClerk
)

// clerkSource is the SOURCE that names another Clerk instance.
const clerkSource = "clerk:"

func kindOf(arg string) sourceKind {
	switch {
	case arg == "-":
		return kindStdin
	case arg == clerkSource:
		return kindClerk
	case db.IsURL(arg):
		return kindDatabase
	}
	return kindFile
}

// checkSource refuses source flags that the SOURCE kind cannot use, and gives clerk: its
// preset when neither --preset nor --mapping is given.
func (f *inputFlags) checkSource(cmd, arg string) error {
	k := kindOf(arg)
	switch {
	case f.query != "" && k != kindDatabase:
		return &usageError{cmd: cmd, flag: "--query", msg: "reads a database: give a postgres://, mysql:// or sqlite: SOURCE, or drop it"}
	case f.sourceIDAsExtID && k != kindClerk:
		return &usageError{cmd: cmd, flag: "--source-id-as-external-id", msg: "is for the clerk: SOURCE only"}
	case f.sourceKeyFile != "" && k != kindDatabase && k != kindClerk:
		return &usageError{cmd: cmd, flag: "--source-secret-key-file", msg: "is for a database or clerk: SOURCE only"}
	}
	if k == kindClerk && f.preset == "" && f.mappingFile == "" {
		f.preset = "clerk" // the User object's fields, as clerksrc shapes them
	}
	return nil
}

// sourceEnv is what opening a database or Clerk source needs beyond the input flags.
type sourceEnv struct {
	targetKey      string // refused as the clerk: source's key
	maxRetries     int
	requestTimeout time.Duration
	count          bool // count the rows: import's progress, validate's duplicate table (a database's only)
	// stop is the first signal: it abandons stdin's reads, the format sniff's included.
	stop <-chan struct{}
}

// openSource opens SOURCE: a file or stdin through openInput, a database or clerk: here.
func (e *environment) openSource(ctx context.Context, arg string, fl *inputFlags, m *mapping.Mapping, se sourceEnv) (*input, error) {
	switch kindOf(arg) {
	case kindDatabase:
		return e.openDatabase(ctx, arg, fl, m, se)
	case kindClerk:
		return e.openClerk(ctx, fl, se)
	}
	var stdin *stopReader
	switch {
	case arg == "-":
		stdin = newStopReader(e.stdin)
	case readOnce(arg): // <(gunzip -c users.csv.gz), a FIFO: a pipe by name cannot be hashed, counted or sought
		f, err := os.Open(arg)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		stdin = newStopReader(f)
		stdin.src = f
	}
	if stdin != nil {
		stdin.abandonOn(ctx, se.stop)
	}
	in, err := openInput(arg, stdin, se.stop, fl, m, se.count)
	if err == nil {
		in.keyed = stdin != nil // a pipe's bytes are never known to be the same twice
	}
	return in, err
}

// readOnce says whether SOURCE can only be read once, as it arrives: stdin ("-"), or a pipe,
// terminal or socket given by name (<(cmd), a FIFO, /dev/stdin). It is then read as stdin is.
func readOnce(path string) bool {
	if path == "-" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode()&(fs.ModeNamedPipe|fs.ModeCharDevice|fs.ModeSocket) != 0
}

func (e *environment) openDatabase(ctx context.Context, raw string, fl *inputFlags, m *mapping.Mapping, se sourceEnv) (*input, error) {
	opts := db.Options{Query: fl.query, Preset: fl.preset,
		Log: func(msg string) { e.printf(e.stderr, "userimport: %s\n", msg) }}
	if m != nil {
		opts.Reads = m.Reads
	}
	if fl.sourceKeyFile != "" {
		pw, err := readPasswordFile(fl.sourceKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--source-secret-key-file: %w", err)
		}
		opts.Password = pw
	}
	r, err := db.Open(ctx, raw, opts)
	if err != nil {
		return nil, err // a *db.Error: redacted, with its likely cause and a hint
	}
	in := &input{path: db.Redact(raw), format: r.Format(), reader: r, keyed: true, sha256: r.Identity(), counter: &countingReader{}}
	if se.count {
		n, err := r.Count(ctx)
		if err != nil {
			r.Close()
			return nil, err
		}
		in.rows = int(n)
	}
	return in, nil
}

func (e *environment) openClerk(ctx context.Context, fl *inputFlags, se sourceEnv) (*input, error) {
	key := strings.TrimSpace(e.getenv("CLERK_SOURCE_SECRET_KEY"))
	if fl.sourceKeyFile != "" {
		var err error
		if key, err = e.readKey(fl.sourceKeyFile); err != nil {
			return nil, fmt.Errorf("--source-secret-key-file: %w", err)
		}
	}
	if strings.HasPrefix(key, "pk_") {
		return nil, fmt.Errorf("clerk source: %w", errPublishableKey)
	}
	if err := clerksrc.CheckKeys(key, se.targetKey); err != nil {
		return nil, err
	}
	apiURL := strings.TrimSpace(e.getenv("CLERK_SOURCE_API_URL"))
	if apiURL == "" {
		apiURL = clerk.DefaultURL
	}
	c, err := clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: se.requestTimeout})
	if err != nil {
		return nil, fmt.Errorf("clerk source (CLERK_SOURCE_API_URL): %w", err)
	}
	// The source instance has its own rate limit: its own pacer, on the one paced path.
	calls := &pacer.Caller{Pacer: pacer.New(pacer.Config{Rate: clerk.DefaultRate(key)}), Gate: pacer.NewGate(1), Counters: &pacer.Counters{}}
	pol := pacer.Idempotent(se.maxRetries)
	opts := clerksrc.Options{MaxRecordSize: fl.maxRecordSize, SourceIDAsExternalID: fl.sourceIDAsExtID,
		Call: func(ctx context.Context, op func(context.Context) error) error {
			var t pacer.Tries
			return calls.Call(ctx, pol, &t, op)
		}}
	in := &input{path: clerkSource, format: source.JSONL, keyed: true, sha256: clerksrc.Identity(clerk.DisplayURL(apiURL), key, opts), counter: &countingReader{}}
	if se.count {
		n, err := clerksrc.Count(ctx, c, opts)
		if err != nil {
			return nil, fmt.Errorf("clerk source: %w", err)
		}
		in.rows = n
	}
	r := clerksrc.Open(c, opts)
	in.reader = r
	e.printf(e.stderr, "userimport: note: %s Pass it with --join FILE, joined on the user id (id).\n", r.Notice())
	return in, nil
}

// sourceRunName names the default run folder of a database or clerk: SOURCE: never from the
// URL's user or password, only its kind and database (or file) name.
func sourceRunName(arg string) (string, bool) {
	switch kindOf(arg) {
	case kindClerk:
		return "clerk", true
	case kindDatabase:
	default:
		return "", false
	}
	scheme, rest, _ := strings.Cut(arg, ":")
	scheme = strings.ToLower(scheme)
	name := ""
	if scheme == "sqlite" {
		p, _, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
		name = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	} else if u, err := url.Parse(db.Redact(arg)); err == nil {
		name = strings.Trim(u.Path, "/")
	}
	name = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
	if scheme == "postgresql" {
		scheme = "postgres"
	}
	if name == "" || name == "." || name == ".." {
		return scheme, true
	}
	return scheme + "-" + name, true
}
