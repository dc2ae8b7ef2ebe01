package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// An import reading a stdin pipe that never sends EOF ends on the first SIGTERM: the rows it
// read are journaled, the run is interrupted (exit 130) and nothing waits for the pipe.
func TestStdinBlockedReadEndsOnFirstSignal(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	cmd, stdin, stdout, stderr := startWithStdin(t, bin, "import", "--sandbox", "--rate", "500", "--no-progress", "--json", "--out", out, "-")
	// 150 rows of 500 bytes: more than the 64 KiB the format is sniffed from, and more than the
	// first chunk of rows handed on; the rest wait on a pipe that never sends more.
	var in strings.Builder
	in.WriteString("external_id,email_address,notes\n")
	for i := range 150 {
		fmt.Fprintf(&in, "p%d,p%d@example.com,%s\n", i, i, strings.Repeat("n", 480))
	}
	if _, err := io.WriteString(stdin, in.String()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "results.jsonl"))
		return bytes.Contains(b, []byte(`"status":"created"`))
	}, stderr)
	time.Sleep(300 * time.Millisecond) // the reader is now blocked on the pipe

	if code := termAndWait(t, cmd, 15*time.Second, stderr, "the first SIGTERM, blocked on stdin"); code != 130 {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	var o struct {
		Status   string         `json:"status"`
		ExitCode int            `json:"exit_code"`
		Counts   map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &o); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout.String())
	}
	if o.Status != "interrupted" || o.ExitCode != 130 || o.Counts["created"] < 1 || o.Counts["failed"]+o.Counts["invalid"] != 0 {
		t.Errorf("--json = %+v, want interrupted, exit 130, some created, none failed", o)
	}
	if _, err := os.Stat(filepath.Join(out, "lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool, stderr *bytes.Buffer) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out; stderr:\n%s", strings.TrimSpace(stderr.String()))
}

// The reader passes stdin through unchanged to EOF, and abandon ends a read blocked on a pipe.
func TestStopReader(t *testing.T) {
	want := strings.Repeat("0123456789", 20000) // several forwarder buffers
	got, err := io.ReadAll(newStopReader(strings.NewReader(want)))
	if err != nil || string(got) != want {
		t.Fatalf("read %d bytes, err %v; want %d bytes", len(got), err, len(want))
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	s := newStopReader(pr)
	res := make(chan error, 1)
	go func() { _, err := s.Read(make([]byte, 10)); res <- err }()
	select {
	case err := <-res:
		t.Fatalf("read returned %v before any data or a stop", err)
	case <-time.After(50 * time.Millisecond):
	}
	s.abandon()
	select {
	case err := <-res:
		if !errors.Is(err, errStdinStopped) {
			t.Fatalf("blocked read after abandon: %v, want errStdinStopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("abandon did not end the blocked read")
	}
}

// A slow producer on stdin (`slow-exporter | userimport import -`): the format is decided on
// the first bytes that arrive, not after a 64 KiB window, so its first rows are created while it
// still writes; and a first signal while even those bytes trickle in ends the command at once
// (exit 130, one --json object valid against the schema, no run folder), import and validate.
func TestStdinSlowProducer(t *testing.T) {
	bin := buildBinary(t)
	schema := loadJSONSchema(t)
	start := func(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bytes.Buffer, *bytes.Buffer) {
		return startWithStdin(t, bin, args...)
	}
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("external_id,email_address\n")
		for i := range n {
			fmt.Fprintf(&b, "s%d,s%d@example.com\n", i, i)
		}
		return b.String()
	}
	// interrupt sends the first SIGTERM and checks the command ends on it, interrupted.
	interrupt := func(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer, command string) {
		if code := termAndWait(t, cmd, 10*time.Second, stderr, "the first SIGTERM"); code != 130 {
			t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
		}
		m, o := oneJSONObject(t, stdout.String())
		if err := schema.VisitJSON(m, openapi3.MultiErrors()); err != nil {
			t.Errorf("does not match docs/json-output.schema.json: %v\n%s", err, stdout.String())
		}
		if o.Status != "interrupted" || o.ExitCode != 130 || o.Command != command {
			t.Errorf("--json = %+v, want %s interrupted, exit 130", o, command)
		}
	}

	t.Run("first rows created before 64 KiB arrive", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		cmd, stdin, stdout, stderr := start(t, "import", "--sandbox", "--rate", "500", "--no-progress", "--json", "--out", out, "-")
		in := rows(300) // about 8 KiB, and more than a chunk and a pre-check batch of rows
		if _, err := io.WriteString(stdin, in); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool {
			b, _ := os.ReadFile(filepath.Join(out, "results.jsonl"))
			return bytes.Contains(b, []byte(`"status":"created"`))
		}, stderr)
		interrupt(t, cmd, stdout, stderr, "import")
	})
	for _, tc := range []struct{ command, what, in string }{
		{"import", "no header line yet", rows(3)[:20]},
		{"import", "fewer rows than the reader looks ahead", rows(3)},
		{"validate", "no header line yet", rows(3)[:20]},
	} {
		command := tc.command
		t.Run(command+": signal while the first bytes trickle in: "+tc.what, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := []string{command, "--json", "-"}
			if command == "import" {
				args = []string{command, "--sandbox", "--no-progress", "--json", "--out", out, "-"}
			}
			cmd, stdin, stdout, stderr := start(t, args...)
			if _, err := io.WriteString(stdin, tc.in); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond) // the reader now waits for more
			interrupt(t, cmd, stdout, stderr, command)
			if !strings.Contains(stderr.String(), "no row was taken, nothing was sent") {
				t.Errorf("stderr does not say nothing was done:\n%s", stderr.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a run folder was made: %v", err)
			}
		})
	}
}

// termAndWait sends cmd one SIGTERM and waits for it to exit: its exit code (0, or -1 when it
// did not exit on its own). Still running after within, it is killed and the test fails,
// saying what the signal came after.
func termAndWait(t *testing.T, cmd *exec.Cmd, within time.Duration, stderr fmt.Stringer, after string) int {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(within):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v after %s\nstderr: %s", within, after, stderr.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// startWithStdin starts bin with args and a stdin pipe the test writes; the pipe is closed and
// the process killed when the test ends (the kill first: a test that failed early leaves none).
func startWithStdin(t *testing.T, bin string, args ...string) (*exec.Cmd, io.WriteCloser, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stdin, &stdout, &stderr
}
