package report

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestLargeRun builds a report of a generated journal of USERIMPORT_REPORT_ROWS rows (skipped
// when unset): `make bench` style figures for time and heap, outside the normal test run.
func TestLargeRun(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("USERIMPORT_REPORT_ROWS"))
	if n <= 0 {
		t.Skip("set USERIMPORT_REPORT_ROWS=1000000 to time a large report")
	}
	dir := filepath.Join(t.TempDir(), "big")
	if keep := os.Getenv("USERIMPORT_REPORT_DIR"); keep != "" {
		dir = keep // keep the folder and its report.html, e.g. for a screenshot
	}
	t0 := time.Now()
	if _, err := os.Stat(filepath.Join(dir, "results.jsonl")); err != nil { // a kept folder is reused, so the report can be timed alone
		if err := GenerateJournal(dir, n); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(filepath.Join(dir, "results.jsonl"))
		t.Logf("generated %d rows, %d MB journal in %v", n, st.Size()>>20, time.Since(t0))
	}
	t0 = time.Now()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	path, err := WriteReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	runtime.ReadMemStats(&ms)
	alloc := ms.TotalAlloc - before
	t.Logf("report written in %v: %d KB, %d MB allocated", time.Since(t0), st.Size()>>10, alloc>>20)
	if alloc > uint64(n)*100 { // a few bytes a row, never the journal's size
		t.Errorf("report allocated %d MB for %d rows", alloc>>20, n)
	}
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	t.Logf("buckets=%d groups=%d", len(m.Buckets), len(m.Failures))
	t.Logf("heap in use %d MB, total alloc %d MB", ms.HeapInuse>>20, ms.TotalAlloc>>20)
	if m.Rows != n {
		t.Errorf("rows = %d, want %d", m.Rows, n)
	}
}
