package testdb

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A server's variable unset: the test skips on a developer's machine and fails under CI=true.
// Checked in a child run of this test binary, whose outcome is the thing under test.
func TestEnvFailsUnderCINeverSkips(t *testing.T) {
	const unset = "USERIMPORT_TESTDB_SELFTEST_UNSET"
	if os.Getenv("USERIMPORT_TESTDB_CHILD") == "1" {
		Env(t, unset)
		return
	}
	for _, c := range []struct {
		ci      string
		fails   bool
		message string
	}{
		{"true", true, unset + " is not set: CI must start the test databases (" + Start + ")"},
		{"", false, "--- SKIP: TestEnvFailsUnderCINeverSkips"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvFailsUnderCINeverSkips$", "-test.v")
		cmd.Env = append(os.Environ(), "USERIMPORT_TESTDB_CHILD=1", "CI="+c.ci, unset+"=")
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fails || !strings.Contains(string(out), c.message) {
			t.Errorf("CI=%q: failed %v (%v), want %v with %q:\n%s", c.ci, failed, err, c.fails, c.message, out)
		}
	}
}
