package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/runfolder"
)

// On a terminal undo asks, naming how many users and the instance; anything but yes (an empty
// line included) deletes nothing, "y" deletes.
func TestUndoAsksOnATerminal(t *testing.T) {
	sb, api := serveSandbox(t, sandbox.Options{Key: testKey})
	dir := t.TempDir()
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(runfolder.Header{Event: "run", APIURL: clerk.DisplayURL(api), KeyFingerprint: clerk.Fingerprint(testKey)}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"user_gone1", "user_gone2"} {
		if err := j.Write(runfolder.Event{Row: i + 1, Line: i + 2, ExternalID: "x", Status: runfolder.StatusCreated, UserID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	old := stdinTerminal
	stdinTerminal = func(io.Reader) bool { return true }
	defer func() { stdinTerminal = old }()
	env := map[string]string{"CLERK_SECRET_KEY": testKey, "CLERK_API_URL": api}
	undo := func(answer string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"undo", "--no-progress", dir}, func(k string) string { return env[k] },
			strings.NewReader(answer), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, answer := range []string{"\n", "", "no\n", "yess\n"} {
		code, _, stderr := undo(answer)
		if code != exitRefused || !strings.Contains(stderr, "Delete 2 users that "+dir+" created from "+clerk.DisplayURL(api)) ||
			!strings.Contains(stderr, "[y/N]") || !strings.Contains(stderr, "nothing deleted") {
			t.Fatalf("answer %q: exit %d, stderr %q; want the prompt, then nothing deleted and exit 2", answer, code, stderr)
		}
		if n := sb.Stats().Deletes; n != 0 {
			t.Fatalf("answer %q: %d deletes sent, want none", answer, n)
		}
	}
	code, stdout, stderr := undo("y\n")
	if code != exitOK || !strings.Contains(stdout, "2 already gone") {
		t.Fatalf("answer y: exit %d, stdout %q, stderr %q; want both deletes made (gone) and exit 0", code, stdout, stderr)
	}
}
