package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/report"
	"github.com/userimport/userimport/runfolder"
)

// mountTmpfs mounts a tmpfs of the given size at a fresh directory. It needs root: without
// it the test skips, except under CI=true, where a skip would hide the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		msg := "mount a tmpfs (needs root): " + err.Error() + ": " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// A full disk stops the run (exit 2) with the journal's end torn; the next run, given room,
// cuts the torn end, settles what was in flight, completes without sending anything twice;
// the journal stays readable to resume, report and undo.
func TestFullDiskThenMoreRoom(t *testing.T) {
	disk := mountTmpfs(t, "64k")
	c := newCLI(t, testKey)
	const rows = 3000 // a journal of ~700 KB: far more than the disk holds
	input := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(input, []byte(settleCSV(rows, "d")), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(disk, "run")
	args := []string{"import", "--rate", "5000", "--no-progress", "--out", dir, input}

	r := c.run(nil, args...)
	if r.code != 2 || !strings.Contains(r.stderr, "no space left on device") {
		t.Fatalf("on a full disk: exit %d, want 2 naming the full disk\n%s", r.code, r.stderr)
	}
	first := c.sb.Stats()
	if first.Users == 0 || first.Users >= rows {
		t.Fatalf("%d users after the full disk: the test wants the disk to fill mid-run", first.Users)
	}

	// The disk mostly fills mid-line: the journal ends torn, which used to leave the folder
	// stuck. When the last whole write happened to end the free space exactly (or another file
	// of the folder met the full disk first) it ends whole: nothing to repair then.
	b, err := os.ReadFile(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil || len(b) == 0 {
		t.Fatalf("journal after the full disk: %v (%d bytes)", err, len(b))
	}
	torn := b[len(b)-1] != '\n'
	if !torn {
		t.Logf("the journal ended on a whole line (%q): the repair is not exercised this time", b[max(len(b)-40, 0):])
	}

	if out, err := exec.Command("mount", "-o", "remount,size=32m", disk).CombinedOutput(); err != nil {
		t.Fatalf("remount bigger: %v: %s", err, out)
	}
	r = c.run(nil, args...)
	if r.code != 0 {
		t.Fatalf("with room again: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if repaired := strings.Contains(r.stderr, "repaired the journal"); repaired != torn {
		t.Errorf("journal torn %v, but the second run said it repaired it: %v\n%s", torn, repaired, r.stderr)
	}
	st := c.sb.Stats()
	if st.Users != rows || st.Creates != rows {
		t.Errorf("%d users from %d creates, want %d of each: nothing lost, nothing sent twice", st.Users, st.Creates, rows)
	}

	// Every line of the journal is whole, and each reader takes it.
	f, err := os.Open(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	sc := runfolder.NewScanner(f)
	created := map[string]bool{}
	for sc.Scan() {
		if e := sc.Event(); !sc.IsHeader() && e.Status == runfolder.StatusCreated {
			created[e.ExternalID] = true
		}
	}
	f.Close()
	if err := sc.Err(); err != nil || len(sc.Warnings()) != 0 {
		t.Errorf("journal after the repair: %v, warnings %v", err, sc.Warnings())
	}
	if len(created) != rows {
		t.Errorf("journal records %d users created, want %d", len(created), rows)
	}
	m, err := report.Build(dir)
	if err != nil || m.Status != runfolder.RunComplete || m.Counts["created"] != rows || m.SkippedLines != 0 {
		t.Errorf("report: %v, status %q, created %d, skipped %d", err, m.Status, m.Counts["created"], m.SkippedLines)
	}
	if r := c.run(nil, args...); r.code != 0 || !strings.Contains(r.stdout, "already complete") {
		t.Errorf("a third run: exit %d, want already complete\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.run(nil, "undo", "--yes", "--rate", "5000", dir); r.code != 0 {
		t.Fatalf("undo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := c.sb.Stats().Users; n != 0 {
		t.Errorf("%d users left after undo, want 0", n)
	}
	if _, err := os.Stat(filepath.Join(dir, runfolder.LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left behind: %v", err)
	}
}
