package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/runfolder"
)

// After the first signal, "rows left" is every row not settled, the ones never read included:
// created + left = the input's rows, in the summary and in the message.
func TestInterruptCountsRowsNeverRead(t *testing.T) {
	sb, api := serveSandbox(t, sandbox.Options{Key: testKey})
	dir := t.TempDir()
	const rows = 3000 // far more than the reader reads ahead
	var csv strings.Builder
	csv.WriteString("external_id,email_address\n")
	for i := range rows {
		fmt.Fprintf(&csv, "u%d,u%d@example.com\n", i, i)
	}
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	env := map[string]string{"CLERK_SECRET_KEY": testKey, "CLERK_API_URL": api}
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(context.Background(), []string{"import", "--rate", "5", "--no-progress", "--out", out, in},
			func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	}()
	for deadline := time.Now().Add(20 * time.Second); sb.Stats().Creates < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no create within 20s")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil { // run's handler takes it
		t.Fatal(err)
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the import did not stop within 30s of SIGINT")
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, runfolder.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum runfolder.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	created := sum.Counts[runfolder.StatusCreated]
	if created == 0 || created+sum.Left != rows || sum.Rows != created {
		t.Fatalf("created %d, rows %d, left %d: want created + left = %d", created, sum.Rows, sum.Left, rows)
	}
	m := regexp.MustCompile(`(\d+) rows? left: run the same command again`).FindStringSubmatch(stdout.String())
	if m == nil || m[1] != strconv.Itoa(sum.Left) {
		t.Errorf("stdout %q: want %d rows left", stdout.String(), sum.Left)
	}
}
