package runfolder

import (
	"bufio"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// The one builder of the commands that go on from a run: the terminal's hint and report.html's
// both come from here, so neither can drop a flag the other keeps.

// RefeedSuffix names the folder a run's fixed failures are fed into: X's go to X-refeed.
const RefeedSuffix = "-refeed"

// RefeedDir is the run folder a re-feed of dir's failed rows uses: beside dir, never dir itself
// (the failed file is in dir, and a run never writes over its own input).
func RefeedDir(dir string) string {
	return filepath.Clean(dir) + RefeedSuffix
}

// ResumeArgs is the command line that continues the run in dir: the same input, read the same way.
func ResumeArgs(dir string, h Header) []string {
	args := append([]string{"userimport", "import", "--out", filepath.Clean(dir)}, rerunFlags(h)...)
	return append(args, h.Input)
}

// RefeedArgs is the command line that imports dir's failed rows (failedFile, a name in dir) once
// fixed: the same flags, into RefeedDir(dir).
func RefeedArgs(dir string, h Header, failedFile string) []string {
	args := append([]string{"userimport", "import", "--out", RefeedDir(dir)}, rerunFlags(h)...)
	return append(args, filepath.Join(filepath.Clean(dir), filepath.Base(failedFile)))
}

// rerunFlags are the header's flags; a header written before it kept them gives its sandbox and
// preset or mapping, which are all it knew.
func rerunFlags(h Header) []string {
	flags := slices.Clone(h.RerunFlags)
	if h.RerunFlags == nil {
		switch {
		case h.Preset != "":
			flags = append(flags, "--preset", h.Preset)
		case h.Mapping != "":
			flags = append(flags, "--mapping", h.Mapping)
		}
	}
	if h.Sandbox && !slices.Contains(flags, "--sandbox") {
		flags = append([]string{"--sandbox"}, flags...) // without it the command would reach Clerk
	}
	return flags
}

// ShellJoin quotes each argument that a POSIX shell would otherwise split or expand.
func ShellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@%") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// FirstHeader is the first session header of dir's journal: the run the folder was made for.
// ok is false when the folder has no journal or no header in it.
func FirstHeader(dir string) (h Header, ok bool, err error) {
	f, err := OpenFile(filepath.Join(dir, ResultsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Header{}, false, nil
	}
	if err != nil {
		return Header{}, false, err
	}
	defer f.Close()
	sc := NewScanner(bufio.NewReader(f))
	for sc.Scan() {
		if sc.IsHeader() {
			return *sc.Header(), true, nil
		}
	}
	return Header{}, false, sc.Err()
}
