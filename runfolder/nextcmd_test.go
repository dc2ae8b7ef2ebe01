package runfolder

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The next commands repeat the flags the run recorded, re-feed into a folder of their own, and
// fall back to what an older header knew.
func TestNextCommands(t *testing.T) {
	h := Header{Input: "exports/users.csv", Preset: "firebase", Sandbox: true,
		RerunFlags: []string{"--sandbox", "--preset", "firebase", "--encoding", "latin1", "--csv-delimiter", ";"}}
	if got, want := ResumeArgs("runs/nightly/", h), []string{"userimport", "import", "--out", "runs/nightly",
		"--sandbox", "--preset", "firebase", "--encoding", "latin1", "--csv-delimiter", ";", "exports/users.csv"}; !slices.Equal(got, want) {
		t.Errorf("resume %q\nwant   %q", got, want)
	}
	if got, want := ShellJoin(RefeedArgs("runs/nightly", h, "/elsewhere/failed.csv")),
		"userimport import --out runs/nightly-refeed --sandbox --preset firebase --encoding latin1 --csv-delimiter ';' runs/nightly/failed.csv"; got != want {
		t.Errorf("refeed %s\nwant   %s", got, want)
	}
	old := Header{Input: "u.csv", Mapping: "my map.json", Sandbox: true} // before RerunFlags
	if got, want := ShellJoin(RefeedArgs("r", old, "failed.jsonl")),
		"userimport import --out r-refeed --sandbox --mapping 'my map.json' r/failed.jsonl"; got != want {
		t.Errorf("legacy refeed %s\nwant   %s", got, want)
	}
	if h.RerunFlags[0] != "--sandbox" || len(h.RerunFlags) != 7 {
		t.Errorf("the builder changed the header's flags: %q", h.RerunFlags)
	}
}

// An existing folder is never chmodded: a shared one (sticky 1777, like /tmp) is refused, the
// operator's own is used as it is. A folder MakeDir creates is 0700.
func TestMakeDirModes(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "tmp")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := MakeDir(shared); !errors.Is(err, ErrSharedDir) {
		t.Errorf("MakeDir(1777 folder) = %v, want ErrSharedDir", err)
	}
	if st, _ := os.Stat(shared); st.Mode().Perm() != 0o777 || st.Mode()&os.ModeSticky == 0 {
		t.Errorf("the shared folder's mode was changed to %v", st.Mode())
	}
	group := filepath.Join(dir, "group")
	os.Mkdir(group, 0o700)
	os.Chmod(group, 0o770)
	if err := MakeDir(group); !errors.Is(err, ErrSharedDir) {
		t.Errorf("MakeDir(0770 folder) = %v, want ErrSharedDir", err)
	}
	own := filepath.Join(dir, "own")
	os.Mkdir(own, 0o700)
	os.Chmod(own, 0o755)
	if err := MakeDir(own); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(own); st.Mode().Perm() != 0o755 {
		t.Errorf("an existing folder was chmodded to %v", st.Mode().Perm())
	}
	fresh := filepath.Join(shared, "run", "deeper")
	if err := MakeDir(fresh); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != DirMode {
		t.Errorf("a new folder has mode %v, want %v", st.Mode().Perm(), DirMode)
	}
}

// FirstHeader is the journal's first session header; none without a journal.
func TestFirstHeader(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := FirstHeader(dir); ok || err != nil {
		t.Fatalf("no journal: ok %v err %v", ok, err)
	}
	w, err := OpenWriter(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"auth0", "native"} {
		if err := w.WriteHeader(Header{Event: EventRun, Preset: p, RerunFlags: []string{"--preset", p}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(Event{Row: 1, Status: StatusCreated}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, ok, err := FirstHeader(dir)
	if err != nil || !ok || h.Preset != "auth0" || !slices.Equal(h.RerunFlags, []string{"--preset", "auth0"}) {
		t.Errorf("FirstHeader = %+v, %v, %v", h, ok, err)
	}
}
