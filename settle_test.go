package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// killAfterSend leaves dir's journal as a SIGKILL does just after every create left: each
// row's write-ahead pending mark is there, its outcome is not (the users are in the instance).
func killAfterSend(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "results.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	pending := 0
	for _, l := range strings.SplitAfter(string(b), "\n") {
		var e struct{ Event, Status string }
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if e.Event == "run" || e.Status == "pending" {
			kept = append(kept, l)
			pending += map[bool]int{true: 1}[e.Status == "pending"]
		}
	}
	if pending == 0 {
		t.Fatal("the first run left no pending marks to settle")
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "summary.json"))
}

// lastByExternalID reads each external_id's last status and how it was settled.
func lastByExternalID(t *testing.T, dir string) map[string][2]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	last := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Event, Status, Settled string
			ExternalID             string `json:"external_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		if e.Event == "" && e.ExternalID != "" {
			last[e.ExternalID] = [2]string{e.Status, e.Settled}
		}
	}
	return last
}

func settleCSV(rows int, prefix string) string {
	var b strings.Builder
	b.WriteString("external_id,email_address\n")
	for i := range rows {
		fmt.Fprintf(&b, "%s%d,%s%d@example.com\n", prefix, i, prefix, i)
	}
	return b.String()
}

// Rows a killed run left pending are settled by look-up before anything is sent again,
// whatever else changed since: the input edited, read from stdin, the API URL spelled another
// way, --no-precheck. Each is found and recorded as created by this run (so undo deletes it),
// never sent a second time, never adopted as someone else's `exists`.
func TestPendingRowsAreSettledWhateverChanged(t *testing.T) {
	const rows = 12
	input := settleCSV(rows, "s")
	for _, tc := range []struct {
		name     string
		stdin    bool   // both runs read stdin
		edited   string // the second run's input, "" for the same
		url      func(string) string
		args     []string
		newUsers int // rows the second run must really create
	}{
		{name: "edited input", edited: settleCSV(1, "new") + strings.TrimPrefix(input, "external_id,email_address\n"), newUsers: 1},
		{name: "stdin", stdin: true},
		{name: "trailing slash", url: func(u string) string { return u + "/" }},
		{name: "localhost", url: func(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }},
		{name: "no precheck", args: []string{"--no-precheck"}},
		{name: "edited input without precheck", edited: settleCSV(1, "new") + strings.TrimPrefix(input, "external_id,email_address\n"),
			args: []string{"--no-precheck"}, newUsers: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, testKey)
			dir := filepath.Join(t.TempDir(), "run")
			file := filepath.Join(t.TempDir(), "users.csv")
			if err := os.WriteFile(file, []byte(input), 0o600); err != nil {
				t.Fatal(err)
			}
			importArgs := func(extra ...string) ([]string, io.Reader) {
				args := append([]string{"import", "--rate", "1000", "--no-progress", "--no-report", "--out", dir}, extra...)
				if tc.stdin {
					return append(args, "--format", "csv", "-"), strings.NewReader(input)
				}
				return append(args, file), nil
			}
			args, stdin := importArgs()
			if r := c.run(stdin, args...); r.code != 0 {
				t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
			}
			killAfterSend(t, dir)
			before := c.sb.Stats()

			if tc.edited != "" {
				if err := os.WriteFile(file, []byte(tc.edited), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.url != nil {
				orig := c.env["CLERK_API_URL"]
				c.env["CLERK_API_URL"] = tc.url(orig)
				defer func() { c.env["CLERK_API_URL"] = orig }()
			}
			args, stdin = importArgs(tc.args...)
			r := c.run(stdin, args...)
			if r.code != 0 {
				t.Fatalf("second run: exit %d\n%s", r.code, r.stderr)
			}
			after := c.sb.Stats()
			if sent := after.Creates - before.Creates; sent != int64(tc.newUsers) {
				t.Errorf("second run sent %d creates, want %d: pending rows were re-sent", sent, tc.newUsers)
			}
			if after.Users != rows+int64(tc.newUsers) {
				t.Errorf("%d users in the instance, want %d", after.Users, rows+tc.newUsers)
			}
			last := lastByExternalID(t, dir)
			for i := range rows {
				id := fmt.Sprintf("s%d", i)
				if got := last[id]; got != [2]string{"created", "lookup"} {
					t.Errorf("%s ended %v, want created, settled by look-up", id, got)
				}
			}
			if r := c.run(nil, "undo", "--yes", dir); r.code != 0 {
				t.Fatalf("undo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if n := c.sb.Stats().Users; n != 0 {
				t.Errorf("%d users left after undo, want 0: the settled rows must count as this run's", n)
			}
		})
	}
}
