package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"time"

	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/source/db"
	"github.com/userimport/userimport/readiness"
	"github.com/userimport/userimport/runfolder"
)

// jsonSchemaVersion is jsonOutput's schema version (docs/json-output.md); a field's meaning never
// changes within one, fields are only added.
const jsonSchemaVersion = 1

// jsonOutput is what `import --json` and `validate --json` print on stdout: one object on every
// exit, a usage error and a refusal included (docs/json-output.md, docs/json-output.schema.json).
type jsonOutput struct {
	SchemaVersion int    `json:"schema_version"`
	Command       string `json:"command"` // "import" or "validate"; an unknown command's name as given
	// Status is the run's (runfolder.RunStatus), or usage_error / refused when none ran.
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"` // the process's exit code
	Error    string `json:"error,omitempty"`

	Input       string `json:"input"`        // "" when refused before it was read
	Sandbox     bool   `json:"sandbox"`      // --sandbox: nothing reached Clerk
	RunFolder   string `json:"run_folder"`   // "" for validate, or when refused before one was chosen
	SummaryFile string `json:"summary_file"` // "" when none was written
	FailedFile  string `json:"failed_file"`  // "" when every row was imported
	Report      string `json:"report"`       // report.html; "" when not written
	// RefeedCommand imports the failed file once fixed; "" when there is none.
	RefeedCommand string `json:"refeed_command"`
	// FailedReasonsFile is failed-reasons.csv beside failed_file: why each row is there.
	FailedReasonsFile string `json:"failed_reasons_file"`

	Counts      jsonCounts `json:"counts"`
	Rows        int        `json:"rows"`
	DoneBefore  int        `json:"done_before"`
	Left        int        `json:"left"`
	Requests    int64      `json:"requests"`
	Creates     int64      `json:"creates"`
	Status429   int64      `json:"status_429"`
	Retries     int64      `json:"retries"`
	Elapsed     string     `json:"elapsed"`
	ElapsedSec  float64    `json:"elapsed_seconds"`
	RequestRate float64    `json:"request_rate"`
	CreateRate  float64    `json:"create_rate"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`

	UnreadColumns []string       `json:"unread_columns"`
	Problems      []jsonProblem  `json:"problems"`
	Fields        map[string]int `json:"fields,omitempty"` // validate: valid rows carrying each field
	// Joins count, per --join file, the rows read and the records that found theirs.
	Joins []runfolder.JoinCount `json:"joins,omitempty"`
	// Readiness classifies the rows against the instance's settings, when they were checked.
	Readiness *readiness.Summary `json:"readiness,omitempty"`
}

// jsonCounts are rows by status, every one present: a consumer never tells 0 from missing.
type jsonCounts struct {
	Created   int `json:"created"`
	Exists    int `json:"exists"`
	Failed    int `json:"failed"`
	Invalid   int `json:"invalid"`
	Duplicate int `json:"duplicate"`
	Skipped   int `json:"skipped"`
	Valid     int `json:"valid"` // validate only
}

// jsonProblem is one of the first rows not imported.
type jsonProblem struct {
	Line       int    `json:"line"`
	Status     string `json:"status"`
	ExternalID string `json:"external_id,omitempty"`
	Code       string `json:"code,omitempty"`
	Param      string `json:"param,omitempty"`
	Message    string `json:"message,omitempty"`
}

// Statuses outside a run: nothing was read or sent.
const (
	jsonUsageError = "usage_error"
	jsonRefused    = "refused"
)

// runResult gathers, as a command goes, what its --json object says; run prints it once.
type runResult struct {
	cmd  string
	json bool // --json: from the parsed flags, else from a scan of the arguments

	input, runFolder, summaryFile, report, refeed string
	sandbox                                       bool
	sum                                           *runfolder.Summary
	readiness                                     *readiness.Summary

	ran    bool                  // undo: it ran (not --help)
	dryRun bool                  // undo --dry-run
	undo   *importer.UndoSummary // undo's, when it read the folder
}

// jsonRequested reports whether args ask for --json, for when the flags did not parse.
func jsonRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true", "--json=1", "--json=t":
			return true
		}
	}
	return false
}

// output is the object for a command that ended with err and exits with code.
func (r *runResult) output(err error, code int, errText string) jsonOutput {
	o := jsonOutput{
		SchemaVersion: jsonSchemaVersion, Command: r.cmd, ExitCode: code, Input: redactedInput(r.input), Sandbox: r.sandbox,
		RunFolder: r.runFolder, SummaryFile: r.summaryFile, Report: r.report, RefeedCommand: r.refeed,
		UnreadColumns: []string{}, Problems: []jsonProblem{}, Readiness: r.readiness,
	}
	o.Error = errText
	s := r.sum
	if s == nil {
		var oe *outcomeError
		switch _, usage := asUsage(err); {
		case usage:
			o.Status = jsonUsageError
		case errors.As(err, &oe): // ended before a run began, by a signal say
			o.Status = string(oe.status)
		default:
			o.Status = jsonRefused
		}
		return o
	}
	o.Status = string(s.RunStatus)
	if s.Fatal != "" { // the run's own words for what stopped it
		o.Error = s.Fatal
	}
	c := s.Counts
	o.Counts = jsonCounts{Created: c[runfolder.StatusCreated], Exists: c[runfolder.StatusExists],
		Failed: c[runfolder.StatusFailed], Invalid: c[runfolder.StatusInvalid], Duplicate: c[runfolder.StatusDuplicate],
		Skipped: c[runfolder.StatusSkipped], Valid: c["valid"]}
	o.FailedFile, o.FailedReasonsFile = s.FailedFile, s.FailedReasonsFile
	o.Rows, o.DoneBefore, o.Left = s.Rows, s.DoneBefore, s.Left
	o.Requests, o.Creates, o.Status429, o.Retries = s.Requests, s.Creates, s.Status429, s.Retries
	o.Elapsed, o.ElapsedSec, o.RequestRate, o.CreateRate = s.Elapsed, s.ElapsedSec, s.RequestRate, s.CreateRate
	if !s.StartedAt.IsZero() {
		o.StartedAt = &s.StartedAt
	}
	if !s.FinishedAt.IsZero() {
		o.FinishedAt = &s.FinishedAt
	}
	if len(s.UnreadFields) > 0 {
		o.UnreadColumns = slices.Clone(s.UnreadFields)
	}
	for _, p := range s.Problems {
		jp := jsonProblem{Line: p.Line, Status: string(p.Status), ExternalID: p.ExternalID}
		if p.Error != nil {
			jp.Code, jp.Param, jp.Message = p.Error.Code, p.Error.Param, p.Error.Message
		}
		o.Problems = append(o.Problems, jp)
	}
	o.Fields = s.Fields
	o.Joins = s.Joins
	return o
}

// printJSON prints the command's --json object, when it asked for one and ran (help did not).
func (e *environment) printJSON(err error, code int) {
	r := e.res
	if r == nil || !r.json || (err == nil && r.sum == nil && !r.ran) {
		return
	}
	var text string
	var oe *outcomeError
	switch {
	case errors.As(err, &oe): // the run's summary says what it did; only a cause is an error
		if oe.err != nil {
			text = e.errorText(oe.err)
		}
	case err != nil:
		text = e.errorText(err)
	}
	var v any = r.output(err, code, text)
	if r.cmd == "undo" {
		v = r.undoOutput(err, code, text)
	}
	b, _ := json.MarshalIndent(v, "", "  ") // strings and numbers: cannot fail
	e.printf(e.stdout, "%s\n", b)
}

// runRefused is summary.json's status for a run refused once it held its folder (a different
// mapping, a sandbox that would not start): nothing was read or sent.
const runRefused runfolder.RunStatus = jsonRefused

// writeRefusedSummary rewrites out/summary.json for a run refused in its folder, so that file
// says how the last command ended, as cron's readers expect.
func (e *environment) writeRefusedSummary(out string, err error) {
	now := time.Now().UTC()
	sum := &runfolder.Summary{RunStatus: runRefused, ExitCode: exitCode(err), Counts: map[runfolder.Status]int{},
		Fatal: e.errorText(err), StartedAt: now, FinishedAt: now}
	if runfolder.WriteSummary(out, sum) == nil {
		e.res.summaryFile = filepath.Join(out, runfolder.SummaryFile)
	}
}

// redactedInput is the SOURCE argument as --json may show it: a database URL without its password.
func redactedInput(in string) string {
	if db.IsURL(in) {
		return db.Redact(in)
	}
	return in
}
