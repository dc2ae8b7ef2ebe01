package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/mapping"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAmbiguousHeaderIsAUsageError: two columns that both match one field stop import and
// validate with exit 2 before anything is written or sent, naming both columns.
func TestAmbiguousHeaderIsAUsageError(t *testing.T) {
	c := newCLI(t, "sk_test_h16wire_ambiguous_0123456789")
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "external_id,E-mail,EMAIL\nu1,a@example.com,b@example.com\n")
	jin := writeFile(t, dir, "users.jsonl", `{"external_id":"u1","E-mail":"a@example.com","EMAIL":"b@example.com"}`+"\n")
	for _, args := range [][]string{
		{"import", "--rate", "500", "--no-progress", "--out", filepath.Join(dir, "run"), in},
		{"validate", in},
		{"validate", jin},
		{"import", "--rate", "500", "--no-progress", "--out", filepath.Join(dir, "jrun"), jin},
	} {
		r := c.run(nil, args...)
		if r.code != exitRefused || !strings.Contains(r.stderr, `"E-mail"`) || !strings.Contains(r.stderr, `"EMAIL"`) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming both columns", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a CSV run folder was written (%v): the header is refused before", err)
	}
	if n := c.sb.Stats().Creates; n != 0 {
		t.Errorf("%d creates, want none", n)
	}
}

// TestNoExternalIDUnderValidate: a mapping that leaves external_id unset on every row fails
// validate with exit 2, unless --allow-no-external-id; import warns before the first create.
func TestNoExternalIDUnderValidate(t *testing.T) {
	c := newCLI(t, "sk_test_h16wire_noextid_0123456789")
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "mail,who\na@example.com,Ann\nb@example.com,Bob\n")
	mp := writeFile(t, dir, "mapping.json", `{"fields":{"email_address":"mail","first_name":"who"}}`)
	r := c.run(nil, "validate", "--mapping", mp, in)
	if r.code != exitRefused || !strings.Contains(r.stderr, "external_id") || !strings.Contains(r.stderr, "--allow-no-external-id") {
		t.Errorf("validate: exit %d stderr %q; want 2 naming external_id and the flag", r.code, r.stderr)
	}
	if r = c.run(nil, "validate", "--allow-no-external-id", "--mapping", mp, in); r.code != exitOK {
		t.Errorf("validate --allow-no-external-id: exit %d stderr %q", r.code, r.stderr)
	}
	r = c.run(nil, "import", "--rate", "500", "--no-progress", "--out", filepath.Join(dir, "run"), "--mapping", mp, in)
	if r.code != exitOK || !strings.Contains(r.stderr, "has an external_id") {
		t.Errorf("import: exit %d stderr %q; want 0 with a warning", r.code, r.stderr)
	}
}

// TestSkippedRowsExitZero: Supabase's soft-deleted and anonymous users are skipped with a
// reason; the run, whose other rows all import, exits 0 and writes no failed file.
func TestSkippedRowsExitZero(t *testing.T) {
	c := newCLI(t, "sk_test_h16wire_skipped_0123456789")
	out := filepath.Join(t.TempDir(), "run")
	r := c.run(nil, "import", "--rate", "500", "--no-progress", "--out", out, "--preset", "supabase", filepath.Join("samples", "supabase-studio.csv"))
	if r.code != exitOK || !strings.Contains(r.stdout, "13 created") || !strings.Contains(r.stdout, "2 skipped") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "failed.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed.csv exists (%v)", err)
	}
	j, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(j), `"skipped_by_preset"`); n != 2 || !strings.Contains(string(j), "deleted_at") {
		t.Errorf("journal has %d skipped_by_preset rows, want 2 with their reasons:\n%s", n, j)
	}
}

// TestNoSkipPasswordRequirementFlag: against an instance that requires a password, a user
// with none is created (skip_password_requirement is sent) unless the flag turns that off.
func TestNoSkipPasswordRequirementFlag(t *testing.T) {
	const key = "sk_test_h16wire_password_0123456789"
	c := newCLIWith(t, sandbox.Options{Key: key, Required: []string{"password"}})
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "external_id,email_address\np1,p1@example.com\n")
	r := c.run(nil, "import", "--rate", "500", "--no-progress", "--out", filepath.Join(dir, "a"), in)
	if r.code != exitOK || !strings.Contains(r.stdout, "1 created") {
		t.Errorf("default: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	in2 := writeFile(t, dir, "users2.csv", "external_id,email_address\np2,p2@example.com\n")
	r = c.run(nil, "import", "--rate", "500", "--no-progress", "--no-skip-password-requirement", "--out", filepath.Join(dir, "b"), in2)
	if r.code != exitRowsFailed || !strings.Contains(r.stdout, "1 failed") {
		t.Errorf("--no-skip-password-requirement: exit %d stdout %q stderr %q; want the row refused", r.code, r.stdout, r.stderr)
	}
}

// TestREADMEPresetTable: the README's preset table has a row for every preset, and a sandbox
// command for each preset but native whose sample exists and is one internal/fixtures writes.
func TestREADMEPresetTable(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, p := range mapping.Presets() {
		if !strings.Contains(readme, "\n| `"+p.Name+"`") {
			t.Errorf("README's preset table has no row for %s", p.Name)
		}
		if p.Name == "native" {
			continue
		}
		i := strings.Index(readme, "userimport import --sandbox --preset "+p.Name+" samples/")
		if i < 0 {
			t.Errorf("README gives no sandbox command for %s's sample", p.Name)
			continue
		}
		line := readme[i:]
		line = line[:strings.IndexByte(line, '\n')]
		sample := line[strings.LastIndex(line, " ")+1:]
		if _, err := os.Stat(sample); err != nil {
			t.Errorf("README's %s sample: %v", p.Name, err)
		}
	}
	for _, old := range []string{"samples/auth0.jsonl", "samples/firebase.csv"} {
		if strings.Contains(readme, old) {
			t.Errorf("README still names %s", old)
		}
	}
}
