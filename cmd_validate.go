package main

import (
	"context"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"strings"

	"github.com/userimport/userimport/importer"
)

// validateFlags are import's minus those only a run that writes takes.
type validateFlags struct {
	inputFlags
	apiFlags
	jsonOut, verbose bool
	strictFields     bool
}

// importOnly are import's flags validate refuses: it writes no run folder and sends no create.
var importOnly = []string{"out", "restart", "limit", "max-duration", "sandbox", "concurrency", "max-retries",
	"no-precheck", "no-progress", "no-report", "metrics-file"}

func (e *environment) validateCommand() *command {
	var f validateFlags
	fs := newFlagSet("validate", e.stdout)
	f.inputFlags.register(fs)
	f.apiFlags.register(fs, false)
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object on stdout on every exit (docs/json-output.md); all human output goes to stderr")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "verbose (validate logs nothing more today)")
	registerStrictFields(fs, &f.strictFields)
	fs.group("Clerk (optional: with a key, users already in the instance are found)", "secret-key-file", "rate", "request-timeout", "strict-fields")
	fs.group("Output", "json", "verbose")
	fs.foreign = map[string]string{}
	for _, n := range importOnly {
		fs.foreign[n] = "validate writes no run folder and sends no create (it is an import flag)"
	}
	return &command{
		name: "validate", args: "[flags] FILE|-|DATABASE_URL|clerk:", flags: fs,
		summary: "read, map and check every row as import would, writing nothing to Clerk",
		notes: "With a key (CLERK_SECRET_KEY or --secret-key-file), validate also looks the rows up by external_id, read-only,\n" +
			"and reads the instance's sign-up settings: which rows it will refuse, which lose a field, and what to change.",
		examples: []string{
			"# check an Auth0 export before importing it",
			"userimport validate --preset auth0 users.json",
			"# check with your own mapping; the summary as JSON",
			"userimport validate --mapping mapping.json users.csv --json",
		},
		run: func(ctx context.Context, args []string) error { return e.validateRun(ctx, &f, args) },
	}
}

func (e *environment) validateRun(ctx context.Context, f *validateFlags, args []string) error {
	if e.res == nil {
		e.res = &runResult{cmd: "validate"}
	}
	e.res.json = f.jsonOut
	if len(args) > 0 {
		e.res.input = args[0]
	}
	if err := f.inputFlags.checkArgs("validate", args); err != nil {
		return err
	}
	m, _, err := e.loadMapping(&f.inputFlags)
	if err != nil {
		return err
	}
	targetKey, _ := e.secretKey(f.keyFile)
	ctx, stop, release := signals(ctx) // before the first read: it abandons a blocked stdin
	defer release()
	// A database counts its rows in the read's snapshot (50 ms of a million-row auth.users): the
	// duplicate table is then sized once instead of growing. A file or stdin is not read twice.
	in, err := e.openSource(ctx, args[0], &f.inputFlags, m, sourceEnv{targetKey: targetKey, maxRetries: f.maxRetries,
		requestTimeout: f.requestTimeout, stop: stop, count: kindOf(args[0]) == kindDatabase})
	if err := e.stoppedOpening(stop, in, err); err != nil {
		return err
	}
	defer in.Close()
	joins, closeJoins, err := openJoins(ctx, &f.inputFlags, m, "")
	if err != nil {
		return err
	}
	defer closeJoins()
	cfg := importer.ValidateConfig{Source: in.reader, Format: in.format, Mapping: m, Joins: joins, Stop: stop, AllowNoExternalID: f.allowNoExternalID,
		Rows: in.rows}
	// With a key, validate also asks the instance which users it already holds (read-only).
	key, err := e.secretKey(f.keyFile)
	if err != nil {
		return err
	}
	if key != "" {
		t, pc, err := e.target(e.apiURL(), key, &f.apiFlags)
		if err != nil {
			return err
		}
		cfg.Target, cfg.Pacer = t, pc
		cfg.Fit = validateReadiness(ctx, t, pc, f.strictFields)
		cfg.Fit.NoSkipPassword = f.presetOpts.NoSkipPasswordRequirement
	}
	sum, err := importer.Validate(ctx, cfg)
	if sum == nil {
		return err
	}
	c := sum.Counts
	bad := c[runfolder.StatusInvalid] + c[runfolder.StatusDuplicate] + c[runfolder.StatusFailed] // failed: the instance refuses them
	var result error
	switch {
	case err != nil:
		result = err
	case sum.RunStatus == runfolder.RunInterrupted:
		result = outcome(runfolder.RunInterrupted, nil)
	case bad > 0:
		sum.RunStatus = runfolder.RunWithFailures // as an import's would say: every row read, some refused
		result = outcome(runfolder.RunWithFailures, nil)
	}
	sum.ExitCode = exitCode(result)
	e.res.sum = sum // run prints it with --json, with the code the process exits with
	if cfg.Fit != nil {
		rs := cfg.Fit.Tally.Summary()
		e.res.readiness = &rs
	}
	w := e.stdout
	if f.jsonOut {
		w = e.stderr
	}
	e.printf(w, "%s: %s: %d valid, %d invalid, %d duplicate", in.path, rows(sum.Rows), c["valid"], c[runfolder.StatusInvalid], c[runfolder.StatusDuplicate])
	if n := c[runfolder.StatusSkipped]; n > 0 {
		e.printf(w, ", %d skipped", n)
	}
	switch {
	case cfg.Target != nil && sum.RunStatus == runfolder.RunFatal: // a count would claim what was never asked
		e.printf(w, ", already in the instance: not known (stopped before it could be asked)")
	case cfg.Target != nil:
		e.printf(w, ", %d already in the instance", c[runfolder.StatusExists])
	}
	if n := c[runfolder.StatusFailed]; n > 0 {
		e.printf(w, ", %d refused by the instance's settings", n)
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
	if cfg.Fit != nil {
		_ = cfg.Fit.Tally.Render(w)
	}
	warnJoins(e.stderr, sum.Joins)
	return result
}
