package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/userimport/userimport/clerk/sandbox"
)

func (e *environment) sandboxCommand() *command {
	var opts sandbox.Options
	var addr string
	fs := newFlagSet("sandbox", e.stdout)
	fs.StringVar(&addr, "addr", "127.0.0.1:8787", "listen `address` (loopback)")
	gfs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	gfs.SetOutput(io.Discard)
	opts.RegisterFlags(gfs)
	fs.AddGoFlagSet(gfs)
	return &command{
		name: "sandbox", args: "[flags]", flags: fs,
		summary: "serve a Clerk-compatible Backend API on loopback, for rehearsals and tests",
		notes:   "It accepts CLERK_SECRET_KEY when set, else any sk_test_ key.",
		examples: []string{
			"userimport sandbox --addr 127.0.0.1:8787 --limit 100/10s --user-cap 100",
			"# then, in another terminal",
			"CLERK_API_URL=http://127.0.0.1:8787/v1 CLERK_SECRET_KEY=sk_test_x userimport import users.csv",
		},
		run: func(ctx context.Context, args []string) error { return e.sandboxRun(ctx, addr, opts, args) },
	}
}

// sandboxRun serves the Clerk-compatible Backend API until interrupted.
func (e *environment) sandboxRun(ctx context.Context, addr string, opts sandbox.Options, args []string) error {
	if len(args) != 0 {
		return &usageError{cmd: "sandbox", msg: "sandbox takes no arguments, only flags"}
	}
	if opts.Key == "" {
		opts.Key = e.getenv("CLERK_SECRET_KEY") // empty: any sk_test_ key is accepted
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		return prefixed("sandbox", err)
	}
	url, err := sb.Start(addr)
	if err != nil {
		return prefixed("sandbox", err)
	}
	e.printf(e.stdout, "sandbox serving Clerk's Backend API at %s\nuse: CLERK_API_URL=%s CLERK_SECRET_KEY=sk_test_… userimport import FILE\n", url, url)
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	<-ctx.Done()
	return prefixed("sandbox", sb.Close())
}
