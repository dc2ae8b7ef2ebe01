package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer/pacer"
)

const defaultAPIURL = "https://api.clerk.com/v1"

// environment is what run was given: the process's streams and environment, so tests can call
// run directly.
type environment struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	res            *runResult // import's or validate's, for --json (json_output.go)
}

func (e *environment) printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}

// commands are every subcommand but help and version, which dispatch answers itself.
func (e *environment) commands() []*command {
	return []*command{e.importCommand(), e.validateCommand(), e.sandboxCommand(), e.presetsCommand(),
		e.undoCommand(), e.reportCommand(), e.completionCommand()}
}

func (e *environment) command(name string) *command {
	for _, c := range e.commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (e *environment) commandNames() []string {
	names := []string{"help", "version"}
	for _, c := range e.commands() {
		names = append(names, c.name)
	}
	return names
}

// apiFlags are how a command reaches Clerk.
type apiFlags struct {
	keyFile        string
	rate           float64 // 0: the instance's documented limit, with its window as a burst
	rateAuto       bool    // --rate auto: the documented limit, probing above it while no 429 comes
	maxRate        float64 // --rate auto's ceiling; 0: 10x the documented limit
	maxRetries     int
	requestTimeout time.Duration
}

func (f *apiFlags) register(fs *flagSet, retries bool) {
	fs.StringVar(&f.keyFile, "secret-key-file", "", "read the Clerk secret key from this `file` instead of CLERK_SECRET_KEY")
	fs.rateVar(&f.rate, &f.rateAuto, "API requests per second, every call counted (creates and look-ups), or auto. "+
		"Default: the instance's documented limit with its 10 s budget as a burst (sk_live_: 1000 at once, then 100/s; sk_test_: 100, then 10/s). "+
		"The limit is shared with the instance's own traffic: on a live instance leave headroom, e.g. --rate 60 (smooth, no burst). "+
		"auto probes above the documented limit while no 429 comes back, up to --max-rate")
	fs.Float64Var(&f.maxRate, "max-rate", 0, "with --rate auto, never above this many requests per second (default 10x the documented limit)")
	f.maxRetries = 5
	if retries {
		fs.intVar(&f.maxRetries, "max-retries", 5, 0, 100, "a whole number of retries from 0 to 100", "retries per row for transient failures")
	}
	fs.durationVar(&f.requestTimeout, "request-timeout", 30*time.Second, time.Millisecond,
		"a duration with a unit, e.g. 10s or 1m", "timeout per API request")
}

// apiURL is CLERK_API_URL, or Clerk's.
func (e *environment) apiURL() string {
	if u := strings.TrimSpace(e.getenv("CLERK_API_URL")); u != "" {
		return u
	}
	return defaultAPIURL
}

// target connects to Clerk (or CLERK_API_URL) with key, paced by --rate or the key's default.
func (e *environment) target(apiURL, key string, f *apiFlags) (*clerk.Client, *pacer.Pacer, error) {
	t, err := clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: f.requestTimeout})
	if err != nil {
		return nil, nil, err
	}
	return t, pacer.New(f.pace(key)), nil
}

// pace is --rate N (smooth: a user leaving headroom wants no burst), or the instance's documented
// limit with its window's budget as the burst, probing above it under --rate auto.
func (f *apiFlags) pace(key string) pacer.Config {
	if f.rate > 0 {
		return pacer.Config{Rate: f.rate}
	}
	perSecond, burst := clerk.DocumentedLimit(key)
	return pacer.Config{Rate: perSecond, Burst: burst, Auto: f.rateAuto, MaxRate: f.maxRate}
}

// errPublishableKey: a pk_ key is the frontend's; the Backend API answers it with a bare 401.
var errPublishableKey = errors.New("the key is a publishable key (pk_…): it must be a secret key (sk_…), from API keys in Clerk's dashboard")

// secretKey reads the key from --secret-key-file or CLERK_SECRET_KEY; "" when there is none.
func (e *environment) secretKey(file string) (string, error) {
	key, err := e.readKey(file)
	if err == nil && strings.HasPrefix(key, "pk_") {
		return "", errPublishableKey
	}
	return key, err
}

func (e *environment) readKey(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(e.getenv("CLERK_SECRET_KEY")), nil
	}
	return e.readSecretFile("secret key file", file)
}

// readSecretFile reads a secret (a key) from a regular file, trimmed; what names the file in
// errors. A file others can read is used, with a warning.
func (e *environment) readSecretFile(what, file string) (string, error) {
	b, mode, err := readSecretBytes(what, file)
	if err != nil {
		return "", err
	}
	if mode.Perm()&0o077 != 0 {
		e.printf(e.stderr, "userimport: warning: %s is readable by others (mode %v); chmod 600 it\n", file, mode.Perm())
	}
	return strings.TrimSpace(string(b)), nil
}

// readPasswordFile reads a database password (--source-secret-key-file for a database URL):
// the file's first line without its line end, spaces kept, for a password may hold them. A
// password never comes from a flag value.
func readPasswordFile(file string) (string, error) {
	b, _, err := readSecretBytes("password file", file)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("password file " + file + " is empty")
	}
	return line, nil
}

// readSecretBytes reads the first 4 KiB of a regular file holding a secret (a key is ~50
// bytes), and its mode; what names the file in errors.
func readSecretBytes(what, file string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	if !st.Mode().IsRegular() { // /dev/zero or a FIFO would never end
		return nil, 0, fmt.Errorf("%s %s is not a regular file", what, file)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	return b, st.Mode(), nil
}

func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		fd, ok := l.fd()
		return ok && term.IsTerminal(int(fd))
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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

// clipList joins the first n items and says how many more there are: a file with 100,000
// columns must not print them all.
func clipList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s … and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
