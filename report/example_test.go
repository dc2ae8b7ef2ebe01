package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/userimport/userimport/report"
)

// A cron job points node_exporter's textfile collector at a folder and writes one file per run.
func ExampleWriteMetrics() {
	dir, _ := os.MkdirTemp("", "textfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "userimport.prom")
	err := report.WriteMetrics(path, report.Metrics{
		Run:    "users",
		Counts: map[string]int{"created": 990, "exists": 4, "failed": 6},
		// The latest session's figures.
		Requests: 1012, Status429: 3, Retries: 5, CreateRate: 79.2, ExitCode: 1,
		EndTime: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// # HELP userimport_rows Rows of the run by status.
	// # TYPE userimport_rows gauge
	// userimport_rows{run="users",status="created"} 990
	// userimport_rows{run="users",status="exists"} 4
	// userimport_rows{run="users",status="failed"} 6
	// userimport_rows{run="users",status="invalid"} 0
	// userimport_rows{run="users",status="duplicate"} 0
	// userimport_rows{run="users",status="pending"} 0
	// # HELP userimport_requests_total Backend API requests sent, creates and look-ups.
	// # TYPE userimport_requests_total counter
	// userimport_requests_total{run="users"} 1012
	// # HELP userimport_429_total 429 Too Many Requests answers received.
	// # TYPE userimport_429_total counter
	// userimport_429_total{run="users"} 3
	// # HELP userimport_retries_total Requests retried.
	// # TYPE userimport_retries_total counter
	// userimport_retries_total{run="users"} 5
	// # HELP userimport_create_rate Users created per second.
	// # TYPE userimport_create_rate gauge
	// userimport_create_rate{run="users"} 79.2
	// # HELP userimport_running 1 while the run is in progress.
	// # TYPE userimport_running gauge
	// userimport_running{run="users"} 0
	// # HELP userimport_last_exit_code Exit code of the run's latest session.
	// # TYPE userimport_last_exit_code gauge
	// userimport_last_exit_code{run="users"} 1
	// # HELP userimport_last_end_time_seconds Unix time the run's latest session ended.
	// # TYPE userimport_last_end_time_seconds gauge
	// userimport_last_end_time_seconds{run="users"} 1795748400
}

// A run folder becomes report.html, and the same model feeds the metrics.
func ExampleWriteModel() {
	tmp, _ := os.MkdirTemp("", "runs")
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "users")
	if err := report.GenerateJournal(dir, 1000); err != nil {
		fmt.Println(err)
		return
	}
	m, err := report.Build(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	path, err := report.WriteModel(dir, m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(path), m.Rows, m.Status, m.Metrics().Run)
	// Output: report.html 1000 complete_with_failures users
}
