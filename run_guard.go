package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/runfolder"
)

// What a run checks about its folder before it writes anything, and the --sandbox state kept there.

// defaultOut is the run folder when --out is not given: userimport-runs/<input base name>, or,
// for a file in a run folder (its failed.csv, fed back), that run's re-feed folder beside it, so
// re-feeds of unrelated runs never share one folder.
func defaultOut(input string) string {
	if input != "-" {
		dir := filepath.Dir(input)
		if st, err := os.Stat(filepath.Join(dir, runfolder.ResultsFile)); err == nil && st.Mode().IsRegular() {
			return runfolder.RefeedDir(dir)
		}
	}
	return filepath.Join("userimport-runs", runName(input))
}

// guardInput refuses a run whose folder holds its input: the run writes failed.<ext>, summary.json
// and more there (and --restart renames the folder), and userimport never writes over, renames or
// deletes its own input. It compares files, not names (os.SameFile), so a link or another spelling
// of the path is caught too. metricsFile is --metrics-file, written over atomically.
func guardInput(input, out string, restart bool, metricsFile string) error {
	if input == "-" {
		return nil
	}
	in, err := os.Stat(input)
	if err != nil || !in.Mode().IsRegular() {
		return nil // not a file (a database URL, a FIFO): nothing of it can be written over
	}
	refuse := func() error {
		return fmt.Errorf("the input %s is in the run folder %s, which this run writes to: userimport never writes over, "+
			"renames or deletes its own input; feed it into a folder of its own (--out %s, the default for a file in a run folder)",
			input, out, runfolder.RefeedDir(out))
	}
	if metricsFile != "" {
		if st, err := os.Stat(metricsFile); err == nil && os.SameFile(st, in) {
			return fmt.Errorf("--metrics-file %s is the input: userimport never writes over its own input; give another file", metricsFile)
		}
	}
	outSt, err := os.Stat(out)
	if err != nil {
		return nil // no folder yet: nothing in it to be the input
	}
	if abs, err := filepath.Abs(input); err == nil {
		for d, depth := filepath.Dir(abs), 1; ; d, depth = filepath.Dir(d), depth+1 {
			if st, err := os.Stat(d); err == nil && os.SameFile(st, outSt) {
				if depth == 1 || restart {
					return refuse()
				}
				break // deeper: the run writes only the folder's own files, and does not move it
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil
	}
	for _, en := range entries { // a hard link or a symlink to one of the folder's files
		if st, err := os.Stat(filepath.Join(out, en.Name())); err == nil && os.SameFile(st, in) {
			return refuse()
		}
	}
	return nil
}

// makeRunDir creates the run folder, saying what to do about a shared one.
func makeRunDir(out string) error {
	err := runfolder.MakeDir(out)
	if errors.Is(err, runfolder.ErrSharedDir) {
		return fmt.Errorf("%w: a run folder holds whole rows, so give --out a folder of its own, e.g. --out %s",
			err, filepath.Join(out, "userimport-run"))
	}
	return err
}

// checkFolderMapping refuses a run whose mapping is not the one its folder was made with: the
// journal, failed.<ext> and report.html would mix rows mapped two ways. --restart (which sets the
// old folder aside) or another --out starts afresh.
func checkFolderMapping(out string, cur runfolder.Header) error {
	first, ok, err := runfolder.FirstHeader(out)
	if err != nil {
		return fmt.Errorf("read run folder %s: %w", out, err)
	}
	if !ok || sameMapping(first, cur) {
		return nil
	}
	return fmt.Errorf("the run folder %s was made with %s; this run has %s: give the same, or --restart to start the folder "+
		"afresh (the old run is kept, renamed), or another --out", out, mappingName(first), mappingName(cur))
}

// sameMapping: the same preset, or the same mapping file (by path or by file), or the very same spec.
func sameMapping(a, b runfolder.Header) bool {
	switch {
	case a.MappingSHA256 != "" && a.MappingSHA256 == b.MappingSHA256:
		return true
	case a.Preset == "" && a.Mapping == "":
		return true // a journal older than the mapping's name: nothing to compare
	case a.Preset != "" || b.Preset != "":
		return a.Preset == b.Preset
	case filepath.Clean(a.Mapping) == filepath.Clean(b.Mapping):
		return true
	}
	sa, err1 := os.Stat(a.Mapping)
	sb, err2 := os.Stat(b.Mapping)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func mappingName(h runfolder.Header) string {
	if h.Mapping != "" {
		return "--mapping " + h.Mapping
	}
	if h.Preset != "" {
		return "--preset " + h.Preset
	}
	return "no mapping recorded"
}

// rerunFlags are the flags, --out aside, that read the input again as this run does and reach
// the same instance the same way (the key's file, not the key; the pace the operator chose to
// leave the instance headroom): the next commands (runfolder.ResumeArgs, RefeedArgs) repeat
// them, so followed literally they work. Never a secret: the Firebase signer key and salt
// separator come back from the environment or a flag the operator gives again.
func rerunFlags(f *importFlags) []string {
	flags := []string{}
	add := func(name, v string) {
		if v != "" {
			flags = append(flags, name, v)
		}
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if f.useSandbox {
		flags = append(flags, "--sandbox")
	} else {
		add("--secret-key-file", f.keyFile)
	}
	switch {
	case f.rateAuto:
		add("--rate", "auto")
	case f.rate > 0:
		add("--rate", num(f.rate))
	}
	if f.maxRate > 0 {
		add("--max-rate", num(f.maxRate))
	}
	add("--preset", f.preset)
	add("--mapping", f.mappingFile)
	add("--format", f.format)
	add("--encoding", f.encoding)
	add("--csv-delimiter", f.delimiter)
	if f.lazyQuotes {
		flags = append(flags, "--csv-lazy-quotes")
	}
	if f.maxRecordSize != source.DefaultMaxRecordSize {
		add("--max-record-size", strconv.Itoa(f.maxRecordSize))
	}
	if f.presetOpts.FirebaseRounds != 0 {
		add("--firebase-rounds", strconv.Itoa(f.presetOpts.FirebaseRounds))
	}
	if f.presetOpts.FirebaseMemCost != 0 {
		add("--firebase-mem-cost", strconv.Itoa(f.presetOpts.FirebaseMemCost))
	}
	add("--cognito-pool-id", f.presetOpts.CognitoPoolID)
	add("--cognito-client-id", f.presetOpts.CognitoClientID)
	for _, j := range f.joins { // the failed rows still need their second file (Auth0's hashes, say)
		add("--join", j)
	}
	for _, b := range []struct {
		on   bool
		name string
	}{{f.presetOpts.NoSkipPasswordRequirement, "--no-skip-password-requirement"}, {f.presetOpts.RestrictionChecks, "--restriction-checks"},
		{f.allowNoExternalID, "--allow-no-external-id"}, {f.strictFields, "--strict-fields"}} {
		if b.on {
			flags = append(flags, b.name)
		}
	}
	return flags
}

// The --sandbox target, as the journal names it: one instance, the state file in the run folder,
// whatever port this session's sandbox listens on and whatever key the environment holds.
const (
	sandboxKey    = "sk_test_sandbox_rehearsal"
	sandboxTarget = "sandbox"
)

// startSandbox runs an in-process sandbox on loopback for --sandbox, its users loaded from and
// saved to stateFile (in the run folder), so a re-run continues against the same users.
func startSandbox(stateFile string) (*sandbox.Server, string, error) {
	// Paced like a development instance, so a rehearsal meets the limits it will meet in Clerk.
	sb, err := sandbox.New(sandbox.Options{Key: sandboxKey, Limit: 100, Window: 10 * time.Second,
		StateFile: stateFile, SaveEvery: 2 * time.Second})
	if err != nil {
		return nil, "", err
	}
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, "", err
	}
	return sb, url, nil
}

// undoSandbox serves a --sandbox run's users again, from the state its import left in dir.
func undoSandbox(dir string) (*sandbox.Server, string, error) {
	state := filepath.Join(dir, runfolder.SandboxStateFile)
	if _, err := os.Stat(state); err != nil {
		return nil, "", fmt.Errorf("%s is a --sandbox rehearsal that kept no sandbox state (%s): its users are gone already, nothing to undo",
			dir, runfolder.SandboxStateFile)
	}
	sb, url, err := startSandbox(state)
	if err != nil {
		return nil, "", fmt.Errorf("sandbox: %w", err)
	}
	return sb, url, nil
}
