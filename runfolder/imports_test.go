package runfolder

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/userimport/userimport"

// runfolder is a leaf: it imports no project package. report reads run folders through it
// and must never import importer (nor, through anything, the pipeline).
func TestImportGraph(t *testing.T) {
	deps := func(pkg string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, d := range deps(module + "/runfolder") {
		if strings.HasPrefix(d, module+"/") && d != module+"/runfolder" {
			t.Errorf("runfolder imports %s: it must import no project package", d)
		}
	}
	rep := deps(module + "/report")
	found := false
	for _, d := range rep {
		if d == module+"/importer" || strings.HasPrefix(d, module+"/importer/") {
			t.Errorf("report imports %s: it must read run folders through runfolder only", d)
		}
		found = found || d == module+"/runfolder"
	}
	if !found {
		t.Error("report does not import runfolder: the list is not what this test thinks it is")
	}
}
