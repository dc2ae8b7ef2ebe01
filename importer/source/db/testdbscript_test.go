package db

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/testdb.sh finds Debian's packaged servers and installs only what is missing (what a
// fresh CI machine needs); checked against fake file systems.
func TestTestdbScriptPlan(t *testing.T) {
	script, err := filepath.Abs("../../../scripts/testdb.sh")
	if err != nil {
		t.Fatal(err)
	}
	exe := func(root string, paths ...string) {
		for _, p := range paths {
			p = filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	pg := func(v string) []string {
		d := "usr/lib/postgresql/" + v + "/bin/"
		return []string{d + "initdb", d + "postgres", d + "pg_ctl"}
	}
	maria := []string{"usr/sbin/mariadbd", "usr/bin/mariadb-install-db", "usr/bin/mariadb", "usr/bin/mariadb-admin"}
	for _, c := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"fresh machine", nil, []string{"postgres: missing", "mariadb: missing", "install: apt-get install -y postgresql mariadb-server"}},
		{"postgres only", pg("15"), []string{"postgres: ROOT/usr/lib/postgresql/15/bin", "install: apt-get install -y mariadb-server"}},
		{"both, two postgres versions", append(append(pg("13"), pg("15")...), maria...),
			[]string{"postgres: ROOT/usr/lib/postgresql/15/bin", "mariadb: ROOT/usr/sbin/mariadbd", "install: nothing"}},
		{"mariadb without its installer", []string{"usr/sbin/mariadbd"}, []string{"install: apt-get install -y postgresql mariadb-server"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			exe(root, c.files...)
			cmd := exec.Command("bash", script, "plan")
			cmd.Env = append(os.Environ(), "USERIMPORT_TESTDB_ROOT="+root)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := strings.ReplaceAll(string(out), root, "ROOT")
			for _, w := range c.want {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("plan says:\n%s\nwant a line %q", got, w)
				}
			}
		})
	}
}
