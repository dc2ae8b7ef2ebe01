// Command userimport moves users from another auth system into Clerk: it streams a CSV, JSONL
// or JSON export, maps each record to a create-user request, sends it through a paced pool,
// and journals every row so a run can be resumed and its failures fed in again.
package main

import (
	"context"
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

// Exit codes (DESIGN.md §1).
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitRefused     = 2
	exitStopped     = 75
	exitInterrupted = 130
)

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

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitRefused
	}
	// Workers log, the progress reporter ticks and main prints, all at once: one lock per stream.
	env := &environment{getenv: getenv, stdin: stdin, stdout: &lockedWriter{w: stdout}, stderr: &lockedWriter{w: stderr}}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "import":
		return env.importCmd(ctx, rest, false)
	case "validate":
		return env.importCmd(ctx, rest, true)
	case "sandbox":
		return env.sandboxCmd(ctx, rest)
	case "presets":
		return env.presetsCmd(rest)
	case "undo":
		return env.undoCmd(ctx, rest)
	case "report":
		return env.reportCmd(rest)
	case "version", "--version":
		env.printf(stdout, "userimport %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	default:
		env.printf(stderr, "userimport: unknown command %q\n\n", cmd)
		usage(stderr)
		return exitRefused
	}
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

func usage(w io.Writer) {
	io.WriteString(w, `userimport moves users from another auth system into Clerk.

Usage:
  userimport import   [flags] FILE|-   import, or resume the run in --out
  userimport validate [flags] FILE|-   everything import does except writing to Clerk
  userimport sandbox  [flags]          serve a Clerk-compatible Backend API on loopback
  userimport presets  [NAME]           list source presets, or print one's mapping
  userimport undo     OUT_DIR          delete the users a run created (not adopted ones)
  userimport report   OUT_DIR          write OUT_DIR/report.html: rates, failures, what to do next
  userimport version

The secret key comes from CLERK_SECRET_KEY or --secret-key-file, never from a flag value.
CLERK_API_URL overrides https://api.clerk.com/v1. Run "userimport import -h" for the flags.

Exit codes: 0 all rows imported · 1 some rows failed or were invalid · 2 refused or fatal
· 75 stopped by --limit/--max-duration (re-run to continue) · 130 interrupted (re-run to continue)
`)
}
