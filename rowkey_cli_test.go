package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 14: rows without an external_id are keyed by their primary email. The same bytes fed
// twice on stdin, and an email-only export killed mid-run then re-exported with new rows at
// the top, create nobody twice and report no false failure.
func TestEmailOnlyRowsAreKeyedByEmail(t *testing.T) {
	csv := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "Person%03d@Example.com,P%d\n", i, i)
		}
		return b.String()
	}
	const header = "email_address,first_name\n"
	t.Run("stdin twice", func(t *testing.T) {
		c := newCLI(t, testKey)
		out := filepath.Join(t.TempDir(), "run")
		in := header + csv(0, 60)
		args := []string{"import", "--rate", "1000", "--no-progress", "--no-report", "--format", "csv", "--out", out, "-"}
		if r := c.run(strings.NewReader(in), args...); r.code != 0 {
			t.Fatalf("first: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r := c.run(strings.NewReader(in), args...)
		st := c.sb.Stats()
		if r.code != 0 || !strings.Contains(r.stdout, "0 created, 0 exists, 0 failed") || !strings.Contains(r.stdout, "60 done by an earlier run") || st.Creates != 60 || st.Users != 60 {
			t.Errorf("second: exit %d, %d creates for %d users\n%s%s", r.code, st.Creates, st.Users, r.stdout, r.stderr)
		}
	})
	t.Run("killed then re-exported", func(t *testing.T) {
		c := newCLI(t, testKey)
		out := filepath.Join(t.TempDir(), "run")
		file := filepath.Join(t.TempDir(), "users.csv")
		if err := os.WriteFile(file, []byte(header+csv(0, 50)), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"import", "--rate", "1000", "--no-progress", "--no-report", "--out", out, file}
		if r := c.run(nil, args...); r.code != 0 {
			t.Fatalf("first: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		killAfterSend(t, out)
		if err := os.WriteFile(file, []byte(header+csv(100, 120)+strings.ToLower(csv(0, 50))), 0o600); err != nil {
			t.Fatal(err)
		}
		r := c.run(nil, args...)
		st := c.sb.Stats()
		if r.code != 0 || strings.Contains(r.stdout, "failed: ") || !strings.Contains(r.stdout, "70 created, 0 exists, 0 failed") ||
			st.Creates != 70 || st.Users != 70 {
			t.Errorf("re-export: exit %d, %d creates for %d users\n%s%s", r.code, st.Creates, st.Users, r.stdout, r.stderr)
		}
	})
}
