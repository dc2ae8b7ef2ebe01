package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"os"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
)

func (e *environment) undoCommand() *command {
	var f apiFlags
	fs := newFlagSet("undo", e.stdout)
	fs.StringVar(&f.keyFile, "secret-key-file", "", "read the Clerk secret key from this `file` instead of CLERK_SECRET_KEY")
	fs.rateVar(&f.rate, &f.rateAuto, "API requests per second, or auto (default from the key)")
	return &command{
		name: "undo", args: "[flags] OUT_DIR", flags: fs,
		summary: "delete the users a run created (never users it found already there)",
		notes:   "The key must be the one the run used. Run it again to continue an interrupted undo.",
		examples: []string{
			"userimport undo userimport-runs/users",
			"userimport undo --rate 20 --secret-key-file ~/.clerk-key runs/nightly",
		},
		run: func(ctx context.Context, args []string) error { return e.undoRun(ctx, &f, args) },
	}
}

// undoRun deletes the users a run created, refusing another instance's key.
func (e *environment) undoRun(ctx context.Context, f *apiFlags, args []string) error {
	if len(args) != 1 {
		return &usageError{cmd: "undo", msg: "undo takes the run folder"}
	}
	key, err := e.secretKey(f.keyFile)
	if err != nil {
		return err
	}
	if key == "" {
		return errors.New("no secret key: set CLERK_SECRET_KEY or --secret-key-file")
	}
	apiURL := e.apiURL()
	target, err := clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	dir := args[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a run folder (give the --out folder of an import)", dir)
	}
	lock, _, err := runfolder.AcquireLock(dir)
	if err != nil {
		return err
	}
	defer lock.Release()
	r := f.pace(key)
	ctx, stop, release := signals(ctx)
	defer release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-stop: // undo has nothing to drain but in-flight deletes: stop at once
			cancel()
		case <-ctx.Done():
		}
	}()
	sum, err := importer.Undo(ctx, importer.UndoConfig{
		OutDir: dir, KeyFingerprint: clerk.Fingerprint(key), APIURL: clerk.DisplayURL(apiURL), Target: target,
		Pacer: pacer.New(pacer.Config{Rate: r}), Concurrency: pacer.Concurrency(r, time.Second), MaxRetries: 5,
	})
	if sum != nil {
		e.printf(e.stdout, "undo %s: %d deleted, %d already gone, %d failed, %d deleted by an earlier undo\n",
			dir, sum.Deleted, sum.AlreadyGone, sum.Failed, sum.DoneBefore)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("undo interrupted: run it again to continue: %w", err)
	case err != nil:
		return fmt.Errorf("undo: %w", err)
	case sum.Failed > 0:
		return outcome(runfolder.RunWithFailures, nil)
	}
	return nil
}
