package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// validate runs the whole pipeline but the writes, and reports what an import would do.
func (e *environment) validate(ctx context.Context, f *importFlags, in *input, m *mapping.Mapping) int {
	ctx, stop, release := signals(ctx)
	defer release()
	cfg := importer.Config{Source: in.reader, Format: in.format, Mapping: m, Stop: stop, DryRun: true}
	// With a key, validate also asks the instance which users it already holds (read-only).
	key, err := e.secretKey(f.keyFile)
	if err != nil {
		return e.refuse("%v", err)
	}
	if key != "" {
		t, pc, err := e.target(e.apiURL(), key, f)
		if err != nil {
			return e.refuse("%v", err)
		}
		cfg.Target, cfg.Pacer, cfg.Precheck = t, pc, true
	}
	sum, err := importer.Run(ctx, cfg)
	if sum == nil {
		return e.refuse("%v", err)
	}
	w := e.stdout
	if f.jsonOut {
		w = e.stderr
		e.report(true, "", in, sum)
	}
	c := sum.Counts
	bad := c[runfolder.StatusInvalid] + c[runfolder.StatusDuplicate]
	e.printf(w, "%s: %d rows: %d valid, %d invalid, %d duplicate", in.path, sum.Rows, c["valid"], c[runfolder.StatusInvalid], c[runfolder.StatusDuplicate])
	if cfg.Target != nil {
		e.printf(w, ", %d already in the instance", c[runfolder.StatusExists])
	}
	e.printf(w, "\n")
	if len(sum.Fields) > 0 {
		var parts []string
		for _, k := range sortedKeys(sum.Fields) {
			parts = append(parts, fmt.Sprintf("%s %d", k, sum.Fields[k]))
		}
		e.printf(w, "fields in valid rows: %s\n", strings.Join(parts, ", "))
	}
	if len(sum.UnreadFields) > 0 {
		e.printf(w, "warning: columns the mapping never reads: %s\n", clipList(sum.UnreadFields, 20))
	}
	for _, p := range sum.Problems {
		e.printf(w, "line %d: %s", p.Line, p.Status)
		if p.Error != nil {
			e.printf(w, ": %s", p.Error.Code)
			if p.Error.Param != "" {
				e.printf(w, " (%s)", p.Error.Param)
			}
			e.printf(w, ": %s", p.Error.Message)
		}
		e.printf(w, "\n")
	}
	if bad > len(sum.Problems) {
		e.printf(w, "… and %d more\n", bad-len(sum.Problems))
	}
	switch {
	case err != nil:
		e.printf(e.stderr, "userimport: %v\n", err)
		return exitRefused
	case sum.RunStatus == runfolder.RunInterrupted:
		return exitInterrupted
	case bad > 0:
		return exitRowsFailed
	}
	return exitOK
}

// presetsCmd lists the presets, or prints one's mapping so it can be copied and edited.
func (e *environment) presetsCmd(args []string) int {
	switch len(args) {
	case 0:
		for _, p := range mapping.Presets() {
			e.printf(e.stdout, "%-10s %-16s %s\n", p.Name, strings.Join(p.Formats, ","), p.Description)
		}
		return exitOK
	case 1:
		m, err := mapping.Preset(args[0], mapping.PresetOptions{})
		if err != nil {
			return e.refuse("%v", err)
		}
		e.printf(e.stdout, "%s\n", m.Spec())
		return exitOK
	default:
		return e.refuse("presets takes at most one preset name")
	}
}

// undoCmd deletes the users a run created, refusing another instance's key.
func (e *environment) undoCmd(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("undo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	keyFile := fs.String("secret-key-file", "", "read the Clerk secret key from this `file`")
	rate := fs.Float64("rate", 0, "API requests per second (default from the key)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitRefused
	}
	if fs.NArg() != 1 {
		return e.refuse("undo takes the run folder")
	}
	key, err := e.secretKey(*keyFile)
	if err != nil {
		return e.refuse("%v", err)
	}
	if key == "" {
		return e.refuse("no secret key: set CLERK_SECRET_KEY or --secret-key-file")
	}
	apiURL := e.apiURL()
	target, err := clerk.New(clerk.Config{URL: apiURL, Key: key, RequestTimeout: 30 * time.Second})
	if err != nil {
		return e.refuse("%v", err)
	}
	dir := fs.Arg(0)
	lock, _, err := runfolder.AcquireLock(dir)
	if err != nil {
		return e.refuse("%v", err)
	}
	defer lock.Release()
	r := *rate
	if r <= 0 {
		r = clerk.DefaultRate(key)
	}
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
		OutDir: dir, KeyFingerprint: clerk.Fingerprint(key), APIURL: apiURL, Target: target,
		Pacer: pacer.New(pacer.Config{Rate: r}), Concurrency: pacer.Concurrency(r, time.Second), MaxRetries: 5,
	})
	if sum != nil {
		e.printf(e.stdout, "undo %s: %d deleted, %d already gone, %d failed, %d deleted by an earlier undo\n",
			dir, sum.Deleted, sum.AlreadyGone, sum.Failed, sum.DoneBefore)
	}
	switch {
	case errors.Is(err, context.Canceled):
		e.printf(e.stderr, "userimport: undo interrupted: run it again to continue\n")
		return exitInterrupted
	case err != nil:
		return e.refuse("undo: %v", err)
	case sum.Failed > 0:
		return exitRowsFailed
	}
	return exitOK
}
