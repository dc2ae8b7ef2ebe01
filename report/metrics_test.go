package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseMetrics reads a textfile back with Prometheus's own strict parser (legacy names).
func parseMetrics(t *testing.T, path string) map[string]map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	out := map[string]map[string]float64{}
	for name, fam := range fams {
		if fam.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		out[name] = map[string]float64{}
		for _, m := range fam.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			out[name][strings.Join(labels, ",")] = v
		}
	}
	return out
}

func TestWriteMetricsParsesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "userimport.prom")
	end := time.Date(2026, 11, 27, 3, 0, 0, 500_000_000, time.UTC)
	run := `nightly "a"\b` + "\n"
	err := WriteMetrics(path, Metrics{Run: run, Counts: map[string]int{"created": 950, "failed": 40, "invalid": 10, "odd": 1},
		Requests: 1200, Status429: 7, Retries: 9, CreateRate: 79.5, ExitCode: 1, EndTime: end})
	if err != nil {
		t.Fatal(err)
	}
	got := parseMetrics(t, path)
	l := "run=" + run
	want := map[string]map[string]float64{
		"userimport_rows": {
			l + ",status=created": 950, l + ",status=exists": 0, l + ",status=failed": 40, l + ",status=invalid": 10,
			l + ",status=duplicate": 0, l + ",status=pending": 0, l + ",status=odd": 1,
		},
		"userimport_requests_total":        {l: 1200},
		"userimport_429_total":             {l: 7},
		"userimport_retries_total":         {l: 9},
		"userimport_create_rate":           {l: 79.5},
		"userimport_running":               {l: 0},
		"userimport_last_exit_code":        {l: 1},
		"userimport_last_end_time_seconds": {l: float64(end.Unix()) + 0.5},
	}
	for name, series := range want {
		for labels, v := range series {
			if g, ok := got[name][labels]; !ok || g != v {
				t.Errorf("%s{%q} = %v (present %v), want %v", name, labels, g, ok, v)
			}
		}
		if len(got[name]) != len(series) {
			t.Errorf("%s has %d series, want %d", name, len(got[name]), len(series))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d metric families, want %d", len(got), len(want))
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so the collector can read it", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, typ := range []string{"# TYPE userimport_requests_total counter", "# TYPE userimport_rows gauge"} {
		if !strings.Contains(string(b), typ) {
			t.Errorf("missing %q", typ)
		}
	}
}

// A running import has no exit code or end time yet; stale ones would mislead an alert.
func TestWriteMetricsRunning(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "u.prom")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteMetrics(path, Metrics{Run: "r", Running: true, ExitCode: 1, EndTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got := parseMetrics(t, path)
	if got["userimport_running"]["run=r"] != 1 {
		t.Errorf("running = %v, want 1", got["userimport_running"])
	}
	if _, ok := got["userimport_last_exit_code"]; ok {
		t.Error("exit code written for a running import")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the .prom file", len(entries))
	}
}

func TestWriteMetricsMissingFolder(t *testing.T) {
	if err := WriteMetrics(filepath.Join(t.TempDir(), "no", "u.prom"), Metrics{Run: "r"}); err == nil {
		t.Error("no error for a missing folder")
	}
}

// The model's metrics are the run's counts and the latest session's figures.
func TestModelMetrics(t *testing.T) {
	m, err := Build(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	mm := m.Metrics()
	if mm.Run != "run" || mm.Counts["created"] != 8 || mm.Requests != 12 || mm.Status429 != 9 ||
		mm.ExitCode != 2 || mm.Running || mm.EndTime.IsZero() {
		t.Errorf("metrics %+v", mm)
	}
	mm.Counts["created"] = 0
	if m.Counts["created"] != 8 {
		t.Error("Metrics shares the model's counts map")
	}
}
