package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/internal/heapwatch"
)

// A hostile API: a proxy, a misbehaving gateway or Clerk under incident. Each test puts a handler
// in front of a sandbox: what the handler takes over misbehaves, the rest is a working instance.

const hostileKey = "sk_test_hostile_server_0123456789"

// hostileCLI is a CLI whose CLERK_API_URL is a server that answers with bad for the requests
// match picks, and with a sandbox otherwise. seen counts the requests bad answered.
func hostileCLI(t *testing.T, match func(*http.Request) bool, bad http.HandlerFunc) (c *cli, seen *atomic.Int64) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Key: hostileKey})
	if err != nil {
		t.Fatal(err)
	}
	good := sb.Handler()
	seen = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && match(r) {
			seen.Add(1)
			bad(w, r)
			return
		}
		good.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &cli{t: t, sb: sb, env: map[string]string{"CLERK_API_URL": srv.URL + "/v1", "CLERK_SECRET_KEY": hostileKey}}, seen
}

func isCreate(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/v1/users" }
func isLookup(r *http.Request) bool { return r.Method == http.MethodGet && r.URL.Path == "/v1/users" }
func isUsers(r *http.Request) bool  { return isCreate(r) || isLookup(r) }

// endlessBody answers 200 and never stops writing.
func endlessBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `[{"id":"user_x","first_name":"`)
	chunk := []byte(strings.Repeat("a", 64<<10))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// hugeBody declares 8 GiB and writes until the client hangs up.
func hugeBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(8<<30, 10))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "[")
	chunk := []byte(strings.Repeat(" ", 64<<10))
	for {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func retryAfter(v string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errors":[{"code":"too_many_requests","message":"Too many requests"}]}`)
	}
}

// hostileInput writes n rows to a CSV file and returns its path.
func hostileInput(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(csvHead)
	for i := range n {
		b.WriteString(csvRow(fmt.Sprintf("h%03d", i)))
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSummary is the part of summary.json these tests read.
type runSummary struct {
	Status string         `json:"status"`
	Counts map[string]int `json:"counts"`
	Left   int            `json:"left"`
	Fatal  string         `json:"fatal"`
}

func readSummary(t *testing.T, dir string) runSummary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s runSummary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Bodies that never end, or that declare gigabytes, are cut at the cap: the heap stays bounded.
// An endless create answer is ambiguous and its look-up fails, so the row fails saying so; a
// pre-check look-up with a huge answer is skipped, and the creates go through.
func TestHostileBodies(t *testing.T) {
	const bound = 192 << 20 // a handful of capped reads; unbounded, each read runs to gigabytes
	for _, tc := range []struct {
		name    string
		match   func(*http.Request) bool
		bad     http.HandlerFunc
		code    int
		status  string // every row's journal status
		message *regexp.Regexp
	}{
		{"endless create and look-up", isUsers, endlessBody, exitRowsFailed, "failed",
			re(`could not learn whether the user was created: .*response body over`)},
		{"huge look-up", isLookup, hugeBody, exitOK, "created", nil},
		{"endless look-up", isLookup, endlessBody, exitOK, "created", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, seen := hostileCLI(t, tc.match, tc.bad)
			out := filepath.Join(t.TempDir(), "run")
			input := hostileInput(t, 3)
			var res result
			grew := heapwatch.Growth(func() {
				res = c.run(nil, "import", "--rate", "1000", "--concurrency", "1", "--max-retries", "1", "--request-timeout", "30s", "--no-progress", "--out", out, input)
			})
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.code, res.stdout, clipOutput(res.stderr))
			}
			if seen.Load() == 0 {
				t.Fatal("the hostile handler was never reached")
			}
			if grew > bound {
				t.Errorf("heap grew %d MiB; want under %d MiB", grew>>20, bound>>20)
			}
			rows := journal(t, out)
			for line := 2; line <= 4; line++ {
				got := rows[line]
				if got.Status != tc.status {
					t.Errorf("line %d: status %q, want %q", line, got.Status, tc.status)
				}
				if tc.message != nil && (got.Error == nil || !tc.message.MatchString(got.Error.Message)) {
					t.Errorf("line %d: error %+v, want one matching %q", line, got.Error, tc.message)
				}
			}
		})
	}
}

// A 429 whose Retry-After is beyond --max-pause (a day in seconds, or an HTTP date two days
// out) stops the run at once, cleanly: exit 75, the time Clerk asked to be called back, every
// row left for the next run and none failed.
func TestHostileRetryAfterBeyondMaxPause(t *testing.T) {
	far := time.Now().Add(48 * time.Hour).UTC()
	for _, tc := range []struct {
		name, value string
		until       time.Time
	}{
		{"a day in seconds", "86400", time.Now().Add(24 * time.Hour).UTC()},
		{"an HTTP date", far.Format(http.TimeFormat), far},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, seen := hostileCLI(t, isUsers, retryAfter(tc.value))
			out := filepath.Join(t.TempDir(), "run")
			start := time.Now()
			res := c.run(nil, "import", "--rate", "1000", "--no-progress", "--out", out, hostileInput(t, 20))
			took := time.Since(start)
			if res.code != exitStopped {
				t.Fatalf("exit %d, want 75\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to stop; it must not wait the pause out", took)
			}
			if seen.Load() == 0 {
				t.Fatal("no request met the 429")
			}
			day := tc.until.Format("2006-01-02T15")
			if !strings.Contains(res.stderr, "asked to be called back at "+day) || !strings.Contains(res.stderr, "--max-pause") {
				t.Errorf("stderr does not say when Clerk asked to be called back (%s…) and which limit stopped the run:\n%s", day, res.stderr)
			}
			sum := readSummary(t, out)
			if sum.Status != "stopped" || sum.Counts["failed"] != 0 || sum.Left != 20 {
				t.Errorf("summary %+v: want stopped, 0 failed, 20 left", sum)
			}
			if rows := journal(t, out); len(rows) != 0 {
				t.Errorf("journal settled rows that were never imported: %+v", rows)
			}
		})
	}
}

// The time box ends a pause the run would otherwise sit out (4 minutes, within --max-pause):
// the rows were never sent, so there is nothing to drain.
func TestHostilePauseEndsWithTimeBox(t *testing.T) {
	c, _ := hostileCLI(t, isUsers, retryAfter("240"))
	out := filepath.Join(t.TempDir(), "run")
	start := time.Now()
	res := c.run(nil, "import", "--rate", "1000", "--no-progress", "--max-duration", "2s", "--out", out, hostileInput(t, 20))
	took := time.Since(start)
	if res.code != exitStopped {
		t.Fatalf("exit %d, want 75\nstderr: %s", res.code, res.stderr)
	}
	if took > 10*time.Second {
		t.Errorf("a 2s time box took %v to stop", took)
	}
	if sum := readSummary(t, out); sum.Counts["failed"] != 0 || sum.Left != 20 {
		t.Errorf("summary %+v: want 0 failed, 20 left", sum)
	}
}

// The first SIGTERM ends a pause at once, in a real process.
func TestHostilePauseEndsWithSignal(t *testing.T) {
	bin, err := exec.LookPath("userimport") // the test binary, put on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	c, seen := hostileCLI(t, isUsers, retryAfter("240"))
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "import", "--rate", "1000", "--no-progress", "--out", out, hostileInput(t, 20))
	cmd.Env = append(os.Environ(), "CLERK_API_URL="+c.env["CLERK_API_URL"], "CLERK_SECRET_KEY="+hostileKey)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); seen.Load() < 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // into the pause
	start := time.Now()
	if code := termAndWait(t, cmd, 10*time.Second, &stderr, "SIGTERM"); code != exitInterrupted {
		t.Errorf("exit %d, want 130 (stopped in %v)\nstderr: %s", code, time.Since(start), stderr.String())
	}
	if sum := readSummary(t, out); sum.Counts["failed"] != 0 || sum.Left != 20 {
		t.Errorf("summary %+v: want 0 failed, 20 left", sum)
	}
}

// A redirect is refused, and the message says what to fix without quoting the Location's query.
func TestHostileRedirect(t *testing.T) {
	const token = "sk_test_RedirectCanary0123456789abcdef"
	c, _ := hostileCLI(t, func(*http.Request) bool { return true }, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/v1"+r.URL.Path[3:]+"?token="+token, http.StatusTemporaryRedirect)
	})
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--rate", "1000", "--no-progress", "--out", out, hostileInput(t, 3))
	if res.code != exitRefused {
		t.Fatalf("exit %d, want 2\nstderr: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "redirect to https://elsewhere.example/v1/users") || !strings.Contains(res.stderr, "set CLERK_API_URL") {
		t.Errorf("stderr should name where it redirects and what to set:\n%s", res.stderr)
	}
	if strings.Contains(res.stderr, "refused the key") {
		t.Errorf("a redirect is blamed on the key:\n%s", res.stderr)
	}
	checkNoSecrets(t, "stderr", []byte(res.stdout+res.stderr), []string{token})
}

// An API that refuses every connection (a closed port) stops the run once it has not answered
// for --unreachable-after: exit 75, a message naming the URL, every row left, none failed.
func TestHostileUnreachable(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d/v1", freePort(t))
	c := &cli{t: t, env: map[string]string{"CLERK_API_URL": url, "CLERK_SECRET_KEY": hostileKey}}
	out := filepath.Join(t.TempDir(), "run")
	start := time.Now()
	res := c.run(nil, "import", "--rate", "1000", "--no-progress", "--unreachable-after", "1s", "--out", out, hostileInput(t, 50))
	took := time.Since(start)
	if res.code != exitStopped {
		t.Fatalf("exit %d, want 75\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if took > 10*time.Second {
		t.Errorf("took %v to give up on an API that refuses every connection", took)
	}
	if !strings.Contains(res.stderr, "unreachable") || !strings.Contains(res.stderr, url) {
		t.Errorf("stderr should say the API at %s is unreachable:\n%s", url, res.stderr)
	}
	sum := readSummary(t, out)
	if sum.Status != "stopped" || sum.Counts["failed"] != 0 || sum.Left != 50 {
		t.Errorf("summary %+v: want stopped, 0 failed, 50 left", sum)
	}
	if rows := journal(t, out); len(rows) != 0 {
		t.Errorf("rows never sent were settled: %+v", rows)
	}
}

// A Clerk 422 that quotes the refused password_digest reaches no run file with the digest in it.
func TestHostileMessageRedacted(t *testing.T) {
	const digest = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	c, _ := hostileCLI(t, isCreate, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			PasswordDigest string `json:"password_digest"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"errors":[{"code":"form_password_digest_invalid_code","message":"invalid","long_message":%q,"meta":{"param_name":"password_digest"}}]}`,
			"password_digest "+body.PasswordDigest+" is not a valid bcrypt hash")
	})
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(input, []byte("external_id,email_address,password_digest,password_hasher\nd1,d1@example.com,"+digest+",bcrypt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	res := c.run(nil, "import", "-v", "--json", "--rate", "1000", "--no-progress", "--out", out, input)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want 1\nstderr: %s", res.code, res.stderr)
	}
	for _, name := range []string{"results.jsonl", "summary.json", "log.jsonl"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		checkNoSecrets(t, name, b, []string{digest, digest[7:30]})
	}
	checkNoSecrets(t, "stdout/stderr", []byte(res.stdout+res.stderr), []string{digest, digest[7:30]})
	if row := journal(t, out)[2]; row.Error == nil || !strings.Contains(row.Error.Message, "password_digest [redacted] is not a valid bcrypt hash") {
		t.Errorf("journal error %+v: want the message kept, the digest redacted", row.Error)
	}
}

// CLERK_API_URL and CLERK_SECRET_KEY swapped, or a token in the URL: refused, the key never printed.
func TestHostileSettingsNeverPrintKey(t *testing.T) {
	for _, tc := range []struct {
		name, url, key, want string
	}{
		{"swapped", hostileKey, "https://api.clerk.com/v1", "swapped"},
		{"token in the query", "https://proxy.example/v1?key=" + hostileKey, hostileKey, "no query string"},
		{"user info", "https://u:" + hostileKey + "@proxy.example/v1", hostileKey, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{t: t, env: map[string]string{"CLERK_API_URL": tc.url, "CLERK_SECRET_KEY": tc.key}}
			res := c.run(nil, "import", "--no-progress", "--out", filepath.Join(t.TempDir(), "run"), hostileInput(t, 1))
			if res.code != exitRefused || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", res.code, res.stderr, tc.want)
			}
			checkNoSecrets(t, "output", []byte(res.stdout+res.stderr), []string{hostileKey, "sk_test_hostile"})
		})
	}
}

// The second SIGTERM aborts at once, even with creates hanging in flight (a gateway that holds
// them): exit 130, one --json object saying interrupted; the journal stays consistent, so the
// next run settles the rows left pending by looking them up and creates each user once.
func TestSecondSignalAbortsAtOnce(t *testing.T) {
	bin, err := exec.LookPath("userimport") // the test binary, put on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	var hang atomic.Bool
	hang.Store(true)
	c, seen := hostileCLI(t, func(r *http.Request) bool { return hang.Load() && isCreate(r) }, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // read to its end, so the server sees the client hang up
		select {                    // held until the client gives up
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	})
	out := filepath.Join(t.TempDir(), "run")
	in := hostileInput(t, 20)
	cmd := exec.Command(bin, "import", "--rate", "1000", "--concurrency", "4", "--no-progress", "--json", "--out", out, in)
	cmd.Env = append(os.Environ(), "CLERK_API_URL="+c.env["CLERK_API_URL"], "CLERK_SECRET_KEY="+hostileKey)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); seen.Load() < 4 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stderr.String(), "stopping: finishing") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "stopping: finishing 4 requests in flight") {
		t.Fatalf("the first SIGTERM did not say it drains the 4 creates in flight\nstderr: %s", stderr.String())
	}
	start := time.Now()
	if code := termAndWait(t, cmd, 5*time.Second, &stderr, "the second SIGTERM"); code != exitInterrupted {
		t.Errorf("exit %d, want 130 (after %v)\nstderr: %s", code, time.Since(start), stderr.String())
	}
	m, o := oneJSONObject(t, stdout.String())
	if err := loadJSONSchema(t).VisitJSON(m); err != nil {
		t.Errorf("--json does not match the schema: %v\n%s", err, stdout.String())
	}
	if o.Status != "interrupted" || o.ExitCode != exitInterrupted || o.Counts.Failed != 0 {
		t.Errorf("--json: status %q exit_code %d failed %d, want interrupted 130 0", o.Status, o.ExitCode, o.Counts.Failed)
	}
	hang.Store(false) // the gateway recovers: the same command finishes the run, nobody twice
	r := c.run(nil, "import", "--rate", "1000", "--no-progress", "--out", out, in)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := c.sb.Stats(); st.Users != 20 {
		t.Errorf("%d users after the re-run, want 20 (stats %+v)", st.Users, st)
	}
}
