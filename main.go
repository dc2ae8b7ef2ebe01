// Command userimport moves users from another auth system into Clerk: it streams a CSV, JSONL
// or JSON export, maps each record to a create-user request, sends it through a paced pool,
// and journals every row so a run can be resumed and its failures fed in again.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	if os.Getenv("GOGC") == "" {
		// The live heap is a few MB; the default GC target makes it collect hundreds of times a
		// second at full speed. Four times the live heap is still small.
		debug.SetGCPercent(400)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run runs one command line; every command returns an error and exitCode alone turns it into
// the process's exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Workers log, the progress reporter ticks and main prints, all at once: one lock per stream.
	env := &environment{getenv: getenv, stdin: stdin, stdout: &lockedWriter{w: stdout}, stderr: &lockedWriter{w: stderr}}
	err := env.dispatch(ctx, args)
	code := exitCode(err)
	env.printError(err)
	env.printJSON(err, code) // after the error: the same code, on every exit
	return code
}

// dispatch finds the command named by args[0] and runs it.
func (e *environment) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		usage(e.stderr)
		return &usageError{msg: "no command given"}
	}
	switch name, rest := args[0], args[1:]; name {
	case "help", "-h", "--help":
		return e.helpCmd(rest)
	case "version", "--version":
		e.printf(e.stdout, "userimport %s\n", version)
		return nil
	default:
		c := e.command(name)
		if c == nil {
			if jsonRequested(rest) { // `imprt --json … > last.json` must still leave an object
				e.res = &runResult{cmd: name, json: true}
			}
			return unknownCommand(name, e.commandNames())
		}
		if name == "import" || name == "validate" || name == "undo" {
			e.res = &runResult{cmd: name, json: jsonRequested(rest)} // the flags may not parse
		}
		return c.execute(ctx, rest)
	}
}

// printError says what went wrong, once. A run's outcome was reported by its command.
func (e *environment) printError(err error) {
	if err == nil || isOutcome(err) {
		return
	}
	e.printf(e.stderr, "userimport: %s\n", e.errorText(err))
	if ue, ok := asUsage(err); ok && ue.cmd != "" {
		e.printf(e.stderr, "Run \"userimport %s --help\" for usage.\n", ue.cmd)
	}
}

// errorText is an error as the operator reads it, on stderr and in --json's "error".
func (e *environment) errorText(err error) string {
	return err.Error()
}

// signals delivers the first SIGINT/SIGTERM as a graceful stop (closed channel) and the second
// as a hard abort (cancelled context).
func signals(ctx context.Context) (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				n++
				if n == 1 {
					close(stop)
				} else {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, stop, func() { signal.Stop(ch); cancel() }
}

// lockedWriter serialises writes to a stream shared by goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// fd lets a terminal be detected through the lock.
func (l *lockedWriter) fd() (uintptr, bool) {
	f, ok := l.w.(*os.File)
	if !ok {
		return 0, false
	}
	return f.Fd(), true
}

// helpCmd prints the overview, or one command's help.
func (e *environment) helpCmd(args []string) error {
	switch {
	case len(args) == 0, len(args) == 1 && (args[0] == "help" || args[0] == "version"):
		usage(e.stdout)
		return nil
	case len(args) == 1:
		c := e.command(args[0])
		if c == nil {
			return unknownCommand(args[0], e.commandNames())
		}
		c.help(e.stdout)
		return nil
	default:
		return &usageError{cmd: "help", msg: "help takes at most one command name"}
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `userimport moves users from another auth system into Clerk.

Usage:
  userimport import   [flags] FILE|-   import, or resume the run in --out
  userimport validate [flags] FILE|-   everything import does except writing to Clerk
  userimport sandbox  [flags]          serve a Clerk-compatible Backend API on loopback
  userimport presets  [NAME]           list source presets, or print one's mapping
  userimport undo     [flags] OUT_DIR  delete the users a run created (not adopted ones)
  userimport report   OUT_DIR          write OUT_DIR/report.html: rates, failures, what to do next
  userimport completion bash|zsh|fish  print a shell completion script
  userimport version
  userimport help     [COMMAND]        this overview, or a command's flags and examples

The secret key comes from CLERK_SECRET_KEY or --secret-key-file, never from a flag value.
CLERK_API_URL overrides https://api.clerk.com/v1. Run "userimport help import" for the flags.

Exit codes: 0 all rows imported · 1 some rows failed or were invalid · 2 refused or fatal
· 75 stopped by --limit, --max-duration, --max-pause or an unreachable API (re-run to continue) · 130 interrupted (re-run to continue)
`)
}
