package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/runfolder"
)

// A log line written while the bar is drawn clears the bar's line first and draws the bar
// again after, and the bar shows the run's 429s and retries.
func TestConsoleLogLinesDoNotBreakTheBar(t *testing.T) {
	var out bytes.Buffer
	w := &lockedWriter{w: &out}
	rep := newReporter(w, true, 100, 0, func() int64 { return 0 }, zap.NewNop())
	defer rep.Close()
	var c pacer.Counters
	c.Status429.Add(3)
	c.Retries.Add(2)
	rep.showTraffic(&c)
	rep.Row(runfolder.StatusCreated)
	rep.tick(time.Now())
	con := newConsole(w)
	con.attach(rep)
	time.Sleep(250 * time.Millisecond) // past the bar's redraw throttle
	w.mu.Lock()
	out.Reset()
	w.mu.Unlock()
	if _, err := con.Write([]byte("WARN\trow not imported\n")); err != nil {
		t.Fatal(err)
	}
	// The bar comes back at once, or at the reporter's next tick when it was drawn within its
	// throttle just before the log line.
	var got string
	line := -1
	redrawn := false
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		got = out.String()
		w.mu.Unlock()
		line = strings.Index(got, "WARN\trow not imported\n")
		if line >= 0 && strings.Contains(got[line:], "429s 3 · retries 2") && strings.Contains(got[line:], "created 1") {
			redrawn = true
			break
		}
	}
	// The bar may redraw itself between the reset and the log line (a loaded machine): what
	// counts is that the line is cleared right before the log line is written.
	if line < 0 || !strings.HasSuffix(got[:line], "\r\x1b[K") {
		t.Fatalf("console wrote %q: want the bar's line cleared, then the log line", got)
	}
	if !redrawn {
		t.Errorf("after the log line %q: want the bar drawn again, with its 429s and retries", got[line:])
	}
	con.detach()
	_, _ = con.Write([]byte("plain\n"))
	w.mu.Lock()
	got = out.String()
	w.mu.Unlock()
	if !strings.Contains(got, "plain\n") || strings.Contains(got, "\x1b[Kplain") {
		t.Errorf("without a bar the console wrote %q, want the line as is", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{7: "7", 999: "999", 4211: "4,211", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
