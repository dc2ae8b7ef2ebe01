package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

// cli runs the userimport CLI in this process, the way main does, against one sandbox.
type cli struct {
	t   testing.TB
	env map[string]string
	sb  *sandbox.Server
}

// newCLI starts a sandbox accepting key and returns a CLI whose environment points at it.
func newCLI(t testing.TB, key string) *cli {
	t.Helper()
	return newCLIWith(t, sandbox.Options{Key: key})
}

// newCLIWith is newCLI against a sandbox holding opts, whose key is opts.Key.
func newCLIWith(t testing.TB, opts sandbox.Options) *cli {
	t.Helper()
	sb, url := serveSandbox(t, opts)
	return &cli{t: t, sb: sb, env: map[string]string{"CLERK_API_URL": url, "CLERK_SECRET_KEY": opts.Key}}
}

// serveSandbox starts a sandbox holding opts on a loopback port, closed when the test ends,
// and returns it with its Backend API URL (.../v1).
func serveSandbox(t testing.TB, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, url
}

// result is what one run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(stdin io.Reader, args ...string) result {
	c.t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr lockedBuffer
	code := run(context.Background(), args, func(k string) string { return c.env[k] }, stdin, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes a real stderr (*os.File) takes:
// workers log row outcomes from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// journalRow is the part of a results.jsonl row event the tests look at.
type journalRow struct {
	Event      string `json:"event"`
	Line       int    `json:"line"`
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
	Error      *struct {
		Code    string `json:"code"`
		Param   string `json:"param"`
		Message string `json:"message"`
	} `json:"error"`
}

// journal reads the final status of every row event in dir/results.jsonl, by input line.
func journal(t *testing.T, dir string) map[int]journalRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[int]journalRow{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r journalRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		if r.Event == "" && r.Line > 0 && r.Status != "pending" {
			rows[r.Line] = r
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// externalIDs lists the external ids of the users in the sandbox.
func (c *cli) externalIDs() map[string]bool {
	c.t.Helper()
	resp, err := http.Get(strings.TrimSuffix(c.env["CLERK_API_URL"], "/v1") + "/_sandbox/users")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var users []struct {
		ExternalID string `json:"external_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil {
		c.t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, u := range users {
		ids[u.ExternalID] = true
	}
	return ids
}
