package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/schollz/progressbar/v3"
	"go.uber.org/zap/zapcore"
)

// maxRowLines is how many bad rows a run names on stderr; the rest are counted, and all of them
// are in the journal, log.jsonl and failed.<ext>.
const maxRowLines = 5

// rowNotImported is the importer's log message for a row it did not import (importer.settle).
const rowNotImported = "row not imported"

// console is stderr as the operator sees it during a run: log lines are written between
// redraws of the progress bar, never into it, and only the first few bad rows get a line.
type console struct {
	w    io.Writer // the shared stderr
	mu   sync.Mutex
	bar  *progressbar.ProgressBar // the bar being drawn on w, if any
	rows atomic.Int64             // bad rows logged, shown or not
}

func newConsole(w io.Writer) *console { return &console{w: w} }

// Write writes a log line: on a terminal with a bar, the bar's line is cleared first and
// drawn again after.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bar == nil {
		return c.w.Write(p)
	}
	_, _ = io.WriteString(c.w, "\r\x1b[K")
	n, err := c.w.Write(p)
	_ = c.bar.RenderBlank()
	return n, err
}

// Sync: stderr needs none.
func (c *console) Sync() error { return nil }

// attach has log lines make way for rep's bar, until detach.
func (c *console) attach(rep *reporter) {
	c.mu.Lock()
	c.bar = rep.bar
	c.mu.Unlock()
}

func (c *console) detach() {
	c.mu.Lock()
	c.bar = nil
	c.mu.Unlock()
}

// printf writes a message of its own (not a log line) the same way.
func (c *console) printf(format string, args ...any) {
	_, _ = c.Write(fmt.Appendf(nil, format, args...))
}

// more says how many bad rows had no line of their own, and where they all are.
func (c *console) more(failedFile string) {
	if n := c.rows.Load() - maxRowLines; n > 0 {
		where := "results.jsonl"
		if failedFile != "" {
			where = failedFile
		}
		c.printf("userimport: and %s more rows not imported: see %s\n", thousands(n), where)
	}
}

// capRows lets the first maxRowLines bad rows through to core (the console's) and counts the
// rest without writing them.
func (c *console) capRows(core zapcore.Core) zapcore.Core { return rowCap{Core: core, c: c} }

type rowCap struct {
	zapcore.Core
	c *console
}

func (r rowCap) With(fields []zapcore.Field) zapcore.Core {
	return rowCap{Core: r.Core.With(fields), c: r.c}
}

func (r rowCap) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Message == rowNotImported && r.Core.Enabled(e.Level) && r.c.rows.Add(1) > maxRowLines {
		return ce
	}
	return r.Core.Check(e, ce)
}

// sayStopping tells the operator, on the first signal, what the run is waiting for.
func sayStopping(ctx context.Context, stop <-chan struct{}, c *console, what string, inFlight func() int64) {
	go func() {
		select {
		case <-stop:
			c.printf("stopping: finishing %d %s in flight… (again to abort)\n", inFlight(), what)
		case <-ctx.Done():
		}
	}()
}

// thousands writes n with thousands separators: 4,211.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
