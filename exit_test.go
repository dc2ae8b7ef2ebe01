package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/userimport/userimport/importer"
)

func TestExitCode(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("open run folder: %w", err) }
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"complete", outcome(importer.RunComplete, nil), exitOK},
		{"already complete", outcome(importer.RunAlready, nil), exitOK},
		{"rows failed", outcome(importer.RunWithFailures, nil), exitRowsFailed},
		{"stopped by --limit or --max-duration", outcome(importer.RunStopped, nil), exitStopped},
		{"interrupted", outcome(importer.RunInterrupted, nil), exitInterrupted},
		{"fatal run", outcome(importer.RunFatal, fmt.Errorf("%w: 401", importer.ErrFatal)), exitRefused},
		{"run without a status", outcome("", errors.New("journal line 2 is not JSON")), exitRefused},
		{"interrupted run wrapping a cancel", wrapped(outcome(importer.RunInterrupted, context.Canceled)), exitInterrupted},
		{"usage error", &usageError{cmd: "import", flag: "--rate", msg: "takes a number"}, exitRefused},
		{"wrapped usage error", wrapped(&usageError{msg: "unknown command"}), exitRefused},
		{"locked", wrapped(importer.ErrLocked), exitRefused},
		{"other instance", wrapped(importer.ErrOtherInstance), exitRefused},
		{"fatal", wrapped(importer.ErrFatal), exitRefused},
		{"publishable key", errPublishableKey, exitRefused},
		{"canceled", fmt.Errorf("undo interrupted: %w", context.Canceled), exitInterrupted},
		{"any other error", errors.New("open input: no such file"), exitRefused},
	}
	for _, tc := range cases {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestOutcomesArePrintedByTheirCommandOnly(t *testing.T) {
	if !isOutcome(fmt.Errorf("x: %w", outcome(importer.RunStopped, nil))) {
		t.Error("a wrapped outcome is still an outcome")
	}
	if isOutcome(errors.New("open input: no such file")) || isOutcome(&usageError{msg: "m"}) {
		t.Error("only run outcomes are left unprinted")
	}
}

func TestPrefixedAddsNoDoubledPrefix(t *testing.T) {
	if got := prefixed("report", errors.New("report: run holds no run")).Error(); got != "report: run holds no run" {
		t.Errorf("already prefixed: %q", got)
	}
	if got := prefixed("report", errors.New("write report: disk full")).Error(); got != "report: write report: disk full" {
		t.Errorf("not prefixed: %q", got)
	}
	if prefixed("report", nil) != nil {
		t.Error("nil stays nil")
	}
}
