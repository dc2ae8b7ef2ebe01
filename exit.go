package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/userimport/userimport/importer"
)

// Exit codes (DESIGN.md §1).
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitRefused     = 2
	exitStopped     = 75
	exitInterrupted = 130
)

// usageError is a command line the command cannot take: an unknown command or flag, a bad flag
// value, a wrong number of arguments. Nothing has run.
type usageError struct {
	cmd  string // the command, for the "--help" hint; "" at the top level
	flag string // "--rate"; "" when the error is about an argument
	msg  string // what the flag takes, or what is wrong
}

func (e *usageError) Error() string {
	if e.flag != "" {
		return e.flag + " " + e.msg
	}
	return e.msg
}

func asUsage(err error) (*usageError, bool) {
	var ue *usageError
	ok := errors.As(err, &ue)
	return ue, ok
}

// runStatus is the importer's run status (issue 12 moves it to runfolder.RunStatus: change it here).
type runStatus = string

// outcomeError is a run that ended short of complete. The command has already reported it (its
// summary says why), so only its exit code is left to give.
type outcomeError struct {
	status runStatus
	err    error // what ended the run, when something did
}

func (e *outcomeError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("run %s: %v", e.status, e.err)
	}
	return "run " + e.status
}

func (e *outcomeError) Unwrap() error { return e.err }

// outcome is the error a run with this status returns: nil when it completed.
func outcome(status runStatus, err error) error {
	switch status {
	case importer.RunComplete, importer.RunAlready:
		return nil
	}
	return &outcomeError{status: status, err: err}
}

func isOutcome(err error) bool {
	var oe *outcomeError
	return errors.As(err, &oe)
}

// exitCode is the one place an error becomes an exit code.
func exitCode(err error) int {
	var oe *outcomeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &oe):
		switch oe.status {
		case importer.RunComplete, importer.RunAlready:
			return exitOK
		case importer.RunWithFailures:
			return exitRowsFailed
		case importer.RunStopped:
			return exitStopped
		case importer.RunInterrupted:
			return exitInterrupted
		}
		return exitRefused // fatal, or a status this switch does not know
	case errors.Is(err, context.Canceled):
		return exitInterrupted // a second signal ended it before it could say more
	}
	// Usage errors, a locked folder (importer.ErrLocked), another instance's key
	// (importer.ErrOtherInstance), a fatal run (importer.ErrFatal), bad input: refused.
	return exitRefused
}

// prefixed says which part failed, unless the error already does: no "report: report:".
func prefixed(prefix string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), prefix+":") {
		return err
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
