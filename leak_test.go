package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// leakKey is long and unusual so that finding it anywhere means it leaked.
const leakKey = "sk_test_LeakCanary7f3a9c2e51b84d06a1e9c3f7b2d5e8a4"

// Secrets of the rows below: each is unusual enough that a match is a leak, not a coincidence.
var (
	okSecrets = []string{
		"$2a$10$OkRowBcryptDigestAAAAAAuVn3PwV9vG0yWqJb7Zr5Nq8KcXm2Ea", // bcrypt
		"JBSWY3DPEHPKOKROWTOTPSECRET",
		"okcode-7731a", "okcode-7731b",
		"$argon2id$v=19$m=65536,t=3,p=4$T2tSb3dTYWx0U2FsdA$T2tSb3dBcmdvbkhhc2hWYWx1ZQ",
	}
	// failedSecrets belong to rows the sandbox refuses with 422 or the mapping refuses: they
	// must be in failed.* (whole rows) and nowhere else.
	failedSecrets = []string{
		"$2b$12$TakenRowBcryptDigestBBBBuVn3PwV9vG0yWqJb7Zr5Nq8KcXm2E", // identifier exists
		"TAKENROWTOTPSECRETKZXW6YTB",
		"takencode-9910a", "takencode-9910b",
		"Password123",                      // breached password (422 form_password_pwned)
		"PWNEDROWTOTPSECRETQ3VDLJRF",       //
		"$2a$10$TooShortInvalidDigestCCCC", // invalid: not a bcrypt shape
		"INVALIDROWTOTPSECRETM4ZTAE",       //
		"invalidcode-4242a",                //
		"5f4dcc3b5aa765d61d8327deb8ddee11", // md5 digest on a row with a bad email
		"RotThirteenSecretDigestValue",     // unknown hasher
	}
	okEmails = []string{"leak-ok1@example.com", "leak-ok2@example.com"}
)

var leakHeader = []string{"external_id", "email_address", "password", "password_digest", "password_hasher", "totp_secret", "backup_codes", "first_name"}

// leakRows: two are created, two refused by the sandbox (422), three invalid before sending.
var leakRows = [][]string{
	{"ok1", "leak-ok1@example.com", "", okSecrets[0], "bcrypt", okSecrets[1], okSecrets[2] + "," + okSecrets[3], "Ok"},
	{"ok2", "leak-ok2@example.com", "", okSecrets[4], "argon2id", "", "", "Ok"},
	{"taken1", "taken@example.com", "", failedSecrets[0], "bcrypt", failedSecrets[1], failedSecrets[2] + "," + failedSecrets[3], "Taken"},
	{"pwned1", "pwned@example.com", failedSecrets[4], "", "", failedSecrets[5], "", "Pwned"},
	{"bad1", "bad1@example.com", "", failedSecrets[6], "bcrypt", failedSecrets[7], failedSecrets[8], "Bad"},
	{"bad2", "not-an-email", "", failedSecrets[9], "md5", "", "", "Bad"},
	{"bad3", "bad3@example.com", "", failedSecrets[10], "rot13", "", "", "Bad"},
}

// leakInput renders leakRows as CSV or JSONL (backup codes as an array).
func leakInput(t *testing.T, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if format == "csv" {
		w := csv.NewWriter(&b)
		w.Write(leakHeader)
		w.WriteAll(leakRows)
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, row := range leakRows {
		o := map[string]any{}
		for i, h := range leakHeader {
			switch {
			case row[i] == "":
			case h == "backup_codes":
				o[h] = strings.Split(row[i], ",")
			default:
				o[h] = row[i]
			}
		}
		line, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// seedTaken creates the user whose email the "taken1" row repeats, so that row gets a 422.
func seedTaken(t *testing.T, c *cli) {
	t.Helper()
	req, err := http.NewRequest("POST", c.env["CLERK_API_URL"]+"/users",
		strings.NewReader(`{"external_id":"someone-else","email_address":["taken@example.com"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+leakKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("seeding the taken user: HTTP %d", resp.StatusCode)
	}
}

// TestNothingLeaks imports rows carrying a known key, password digests, TOTP secrets, backup
// codes and a plain password, some created, some refused by the API (422) and some invalid,
// with and without -v, then reads every byte userimport printed or wrote: the secrets are only
// in failed.*, which holds the failed rows whole; the folder is 0700 and every file 0600.
func TestNothingLeaks(t *testing.T) {
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			c := newCLI(t, leakKey)
			seedTaken(t, c)
			dir := t.TempDir()
			input := filepath.Join(dir, "users."+format)
			if err := os.WriteFile(input, leakInput(t, format), 0o600); err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(dir, "key")
			if err := os.WriteFile(keyFile, []byte(leakKey+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var printed bytes.Buffer
			runs := []struct {
				name string
				args []string
				want int
			}{
				{"plain", []string{"import", "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run1"), input}, 1},
				{"verbose", []string{"import", "-v", "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run2"), input}, 1},
				{"verbose resume", []string{"import", "-v", "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run2"), input}, 1},
				{"json summary", []string{"import", "-v", "--json", "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run3"), input}, 1},
				{"key file", []string{"import", "-v", "--secret-key-file", keyFile, "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run4"), input}, 1},
				{"validate", []string{"validate", "-v", input}, 1},
				{"refeed failed", []string{"import", "-v", "--rate", "1000", "--no-progress", "--out", filepath.Join(dir, "run5"), filepath.Join(dir, "run1", "failed."+format)}, 1},
			}
			for _, r := range runs {
				res := c.run(nil, r.args...)
				if res.code != r.want {
					t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", r.name, res.code, r.want, res.stdout, res.stderr)
				}
				printed.WriteString(res.stdout)
				printed.WriteString(res.stderr)
			}
			// A wrong key must not leak either.
			wrongKey := "sk_test_WrongCanary0d9e8f7a6b5c4d3e2f1a0b9c"
			c.env["CLERK_SECRET_KEY"] = wrongKey
			res := c.run(nil, "import", "-v", "--no-progress", "--out", filepath.Join(dir, "run6"), input)
			if res.code != exitRefused {
				t.Errorf("wrong key: exit %d, want 2\nstderr: %s", res.code, res.stderr)
			}
			printed.WriteString(res.stdout + res.stderr)

			secrets := append([]string{leakKey, wrongKey}, okSecrets...)
			secrets = append(secrets, failedSecrets...)
			checkNoSecrets(t, "stdout/stderr", printed.Bytes(), secrets)
			checkNoSecrets(t, "stdout/stderr", printed.Bytes(), okEmails)

			first := 1 // input line of leakRows[0]
			if format == "csv" {
				first = 2
			}
			rows := journal(t, filepath.Join(dir, "run1"))
			for i, want := range []string{"created", "created", "failed", "failed", "invalid", "invalid", "invalid"} {
				if got := rows[first+i]; got.Status != want {
					t.Errorf("run1 line %d (%s): status %q, want %q", first+i, leakRows[i][0], got.Status, want)
				}
			}
			if n := len(c.externalIDs()); n != 1+2 { // the seeded user and ok1, ok2
				t.Errorf("sandbox holds %d users, want 3", n)
			}
			var failedFiles int
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, path)
				if path == dir || rel == filepath.Base(input) || rel == "key" {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				if d.IsDir() {
					if perm := info.Mode().Perm(); perm != 0o700 {
						t.Errorf("%s: folder mode %v, want 0700", rel, perm)
					}
					return nil
				}
				if perm := info.Mode().Perm(); perm != 0o600 {
					t.Errorf("%s: mode %v, want 0600", rel, perm)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if strings.HasPrefix(d.Name(), "failed.") {
					failedFiles++
					checkNoSecrets(t, rel, b, append([]string{leakKey, wrongKey}, okSecrets...))
					for _, s := range failedSecrets {
						if !bytes.Contains(b, []byte(s)) {
							t.Errorf("%s lacks %q: failed rows must be kept whole", rel, s)
						}
					}
					return nil
				}
				checkNoSecrets(t, rel, b, secrets)
				checkNoSecrets(t, rel, b, okEmails)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if failedFiles != 5 { // runs 1 to 5 each write one
				t.Errorf("found %d failed files, want 5", failedFiles)
			}
		})
	}
}

// checkNoSecrets fails for each secret found in b, naming its position but not printing it.
func checkNoSecrets(t *testing.T, where string, b []byte, secrets []string) {
	t.Helper()
	for i, s := range secrets {
		if j := bytes.Index(b, []byte(s)); j >= 0 {
			t.Errorf("%s: secret #%d found at byte %d", where, i, j)
		}
	}
}

// TestPlantedSymlinksNotFollowed plants a symlink in the run folder where userimport writes a
// file: the file outside stays untouched, and the run either refuses with a message naming
// the file or replaces the link with its own 0600 file.
func TestPlantedSymlinksNotFollowed(t *testing.T) {
	c := newCLI(t, leakKey)
	const outside = "outside content: must stay as it is\n"
	for _, name := range []string{"failed.csv", "summary.json", "results.jsonl", "log.jsonl", "summary.json.tmp", "lock"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			input := filepath.Join(dir, "users.csv")
			rows := "external_id,email_address\n" + name + "-ok,ok-" + strings.ReplaceAll(name, ".", "") + "@example.com\n" + name + "-bad,not-an-email\n"
			if err := os.WriteFile(input, []byte(rows), 0o600); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "target")
			if err := os.WriteFile(target, []byte(outside), 0o644); err != nil {
				t.Fatal(err)
			}
			run := filepath.Join(dir, "run")
			if err := os.Mkdir(run, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(run, name)); err != nil {
				t.Fatal(err)
			}
			res := c.run(nil, "import", "--rate", "1000", "--no-progress", "--out", run, input)
			if b, err := os.ReadFile(target); err != nil || string(b) != outside {
				t.Fatalf("the link's target changed (err %v): %q", err, b)
			}
			if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o644 {
				t.Fatalf("the link's target mode changed: %v %v", st.Mode(), err)
			}
			if strings.Contains(res.stdout+res.stderr, "outside content") {
				t.Errorf("the link's target was printed:\n%s%s", res.stdout, res.stderr)
			}
			switch res.code {
			case exitRefused:
				base := strings.TrimSuffix(name, ".tmp")
				if !strings.Contains(res.stderr, base) && !strings.Contains(res.stderr, "symbolic link") {
					t.Errorf("refused without naming %s:\n%s", name, res.stderr)
				}
			case exitRowsFailed:
				st, err := os.Lstat(filepath.Join(run, name))
				switch {
				case errors.Is(err, fs.ErrNotExist) && (name == "lock" || name == "summary.json.tmp"):
				case err != nil:
					t.Errorf("%s: %v", name, err)
				case st.Mode()&fs.ModeSymlink != 0:
					t.Errorf("%s is still a symlink after a run that wrote it", name)
				case st.Mode().Perm() != 0o600:
					t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
				}
			default:
				t.Errorf("exit %d, want 1 (link replaced) or 2 (refused)\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// TestTLSIsVerified points the importer at an https server whose certificate no authority
// signed: no request may reach it, and the run must not succeed.
func TestTLSIsVerified(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[],"total_count":0}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	input := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(input, []byte("external_id,email_address\nt1,t1@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CLERK_API_URL": srv.URL + "/v1", "CLERK_SECRET_KEY": leakKey}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr lockedBuffer
	code := run(ctx, []string{"import", "--no-progress", "--max-retries", "0", "--request-timeout", "2s", "--out", filepath.Join(dir, "run"), input},
		func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if code == exitOK {
		t.Errorf("exit 0 against an unverified certificate\n%s%s", stdout.String(), stderr.String())
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached a server with an unverified certificate", n)
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, leakKey) {
		t.Error("the key was printed")
	}
}
