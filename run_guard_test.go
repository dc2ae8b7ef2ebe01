package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/userimport/userimport/runfolder"
)

// mode PATH OCTAL: PATH's permission bits (with the sticky bit) are OCTAL, e.g. 0700 or 1777.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PATH OCTAL")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := uint64(st.Mode().Perm())
	if st.Mode()&os.ModeSticky != 0 {
		got |= 0o1000
	}
	if (got == want) == neg {
		ts.Fatalf("%s has mode %04o (want %s%04o)", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// The default run folder of a file in a run folder is that run's re-feed folder; any other
// input's is userimport-runs/<base name>.
func TestDefaultOut(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "nightly")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, runfolder.ResultsFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		filepath.Join(run, "failed.csv"): run + "-refeed",
		filepath.Join(dir, "users.csv"):  filepath.Join("userimport-runs", "users"),
		"-":                              filepath.Join("userimport-runs", "stdin"),
	} {
		if got := defaultOut(in); got != want {
			t.Errorf("defaultOut(%q) = %q, want %q", in, got, want)
		}
	}
}

// A hard link to one of the run folder's files is the input too, whatever its path; so is a
// --metrics-file that would be written over it.
func TestGuardInputComparesFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	failed := filepath.Join(out, "failed.csv")
	if err := os.WriteFile(failed, []byte("external_id\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "edited.csv")
	if err := os.Link(failed, link); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := guardInput(link, out, false, ""); err == nil {
		t.Error("a hard link to the folder's failed.csv was let through")
	}
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("external_id\ny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := guardInput(other, out, false, ""); err != nil {
		t.Errorf("an input outside the folder: %v", err)
	}
	if err := guardInput(other, out, false, other); err == nil {
		t.Error("--metrics-file naming the input was let through")
	}
	if err := guardInput(other, filepath.Join(dir, "new"), true, ""); err != nil {
		t.Errorf("a folder not made yet: %v", err)
	}
}
