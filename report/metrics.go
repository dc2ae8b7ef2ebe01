package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Metrics is what a run tells Prometheus through node_exporter's textfile collector.
type Metrics struct {
	Run        string         // the run folder's name: the run label
	Counts     map[string]int // rows by status
	Requests   int64
	Status429  int64
	Retries    int64
	CreateRate float64 // creates per second
	ExitCode   int
	EndTime    time.Time
	Running    bool // a run in progress has no exit code or end time yet
}

// Metrics gives the model's figures for WriteMetrics: counts over the whole run, the latest
// session's requests and rate. A model without a summary is taken as still running.
func (m *Model) Metrics() Metrics {
	counts := make(map[string]int, len(m.Counts))
	for k, v := range m.Counts {
		counts[k] = v
	}
	return Metrics{Run: m.Run, Counts: counts, Requests: m.Requests, Status429: int64(m.Throttled),
		Retries: int64(m.Retries), CreateRate: m.CreateRate, ExitCode: m.ExitCode,
		EndTime: m.FinishedAt, Running: !m.HasSummary}
}

// WriteMetrics writes m in the Prometheus text exposition format to path, through a
// temporary file in the same folder and a rename: the collector never reads half a file.
// The file is 0644 so the collector's user can read it; it holds no secret.
func WriteMetrics(path string, m Metrics) error {
	var b strings.Builder
	run := `run="` + escapeLabel(m.Run) + `"`
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	family("userimport_rows", "gauge", "Rows of the run by status.")
	statuses := append([]string(nil), Statuses...)
	var extra []string
	for s := range m.Counts {
		if _, known := statusCode[s]; !known {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	for _, s := range append(statuses, extra...) {
		fmt.Fprintf(&b, "userimport_rows{%s,status=\"%s\"} %d\n", run, escapeLabel(s), m.Counts[s])
	}
	family("userimport_requests_total", "counter", "Backend API requests sent, creates and look-ups.")
	fmt.Fprintf(&b, "userimport_requests_total{%s} %d\n", run, m.Requests)
	family("userimport_429_total", "counter", "429 Too Many Requests answers received.")
	fmt.Fprintf(&b, "userimport_429_total{%s} %d\n", run, m.Status429)
	family("userimport_retries_total", "counter", "Requests retried.")
	fmt.Fprintf(&b, "userimport_retries_total{%s} %d\n", run, m.Retries)
	family("userimport_create_rate", "gauge", "Users created per second.")
	fmt.Fprintf(&b, "userimport_create_rate{%s} %s\n", run, floatValue(m.CreateRate))
	family("userimport_running", "gauge", "1 while the run is in progress.")
	fmt.Fprintf(&b, "userimport_running{%s} %d\n", run, boolValue(m.Running))
	if !m.Running {
		family("userimport_last_exit_code", "gauge", "Exit code of the run's latest session.")
		fmt.Fprintf(&b, "userimport_last_exit_code{%s} %d\n", run, m.ExitCode)
		if !m.EndTime.IsZero() {
			family("userimport_last_end_time_seconds", "gauge", "Unix time the run's latest session ended.")
			fmt.Fprintf(&b, "userimport_last_end_time_seconds{%s} %s\n", run,
				floatValue(float64(m.EndTime.UnixNano())/1e9))
		}
	}
	return writeAtomic(path, []byte(b.String()), 0o644)
}

// escapeLabel escapes a label value as the exposition format asks: backslash, quote, newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func floatValue(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func boolValue(v bool) int {
	if v {
		return 1
	}
	return 0
}

// writeAtomic writes data to a temporary file beside path, then renames it over path.
// The temporary name does not end in .prom, so the collector skips it while it is written.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write metrics: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write metrics: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}
