package main

import (
	"bytes"
	"github.com/userimport/userimport/runfolder"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestReporterLinesCountRowsAndSkipped(t *testing.T) {
	var out bytes.Buffer
	r := newReporter(&out, false, 10, 1000, func() int64 { return 1000 }, zap.NewNop())
	r.Skipped(4)
	r.Row(runfolder.StatusCreated)
	r.Row(runfolder.StatusFailed)
	r.Row(runfolder.StatusPending) // not a settled row
	r.Close()
	// The reporter's own loop may not have ticked yet: drive one line.
	r.lastLog = time.Time{}
	r.tick(r.start.Add(2 * time.Second))
	line := out.String()
	if !strings.Contains(line, "progress: 60% created 1 · exists 0 · failed 1") {
		t.Fatalf("progress line %q: want 60%% (4 skipped + 2 settled of 10) and the counts", line)
	}
	if !strings.Contains(line, "eta 4s") {
		t.Errorf("progress line %q: 2 rows settled in 2 s with 4 left should say eta 4s", line)
	}
}
