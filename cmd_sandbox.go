package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/userimport/userimport/clerk/sandbox"
)

// sandboxCmd serves the Clerk-compatible Backend API until interrupted.
func (e *environment) sandboxCmd(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "listen `address` (loopback)")
	var opts sandbox.Options
	opts.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitRefused
	}
	if opts.Key == "" {
		opts.Key = e.getenv("CLERK_SECRET_KEY") // empty: any sk_test_ key is accepted
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		return e.refuse("sandbox: %v", err)
	}
	url, err := sb.Start(*addr)
	if err != nil {
		return e.refuse("sandbox: %v", err)
	}
	e.printf(e.stdout, "sandbox serving Clerk's Backend API at %s\nuse: CLERK_API_URL=%s CLERK_SECRET_KEY=sk_test_… userimport import FILE\n", url, url)
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	<-ctx.Done()
	if err := sb.Close(); err != nil {
		return e.refuse("sandbox: %v", err)
	}
	return exitOK
}
