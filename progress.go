package main

import (
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/pacer"
)

// countingReader counts the bytes read through it, for progress by position in the input.
type countingReader struct {
	R io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Pos is the number of bytes read so far.
func (c *countingReader) Pos() int64 { return c.n.Load() }

// reporter is the terminal's importer.Progress. It shows progress: a bar on a terminal, else a line every 10 s or 10% of the input.
// Progress is counted in rows when the input's row count is known, else in bytes read.
type reporter struct {
	total   int64 // rows in the input; or, when byBytes, its size (0: unknown, stdin)
	byBytes bool
	pos     func() int64 // bytes read so far
	bar     *progressbar.ProgressBar
	w       io.Writer // unattended: one plain line per report, for cron mail and log collectors
	log     *zap.Logger
	start   time.Time
	undo    bool            // counts deletes, not creates
	traffic *pacer.Counters // optional: 429s and retries shown as they happen

	mu      sync.Mutex
	counts  map[rowStatus]int
	rows    int // settled this session
	skipped int // finished by earlier sessions

	lastLog   time.Time
	lastDecil int64
	stop      chan struct{}
	done      chan struct{}
}

// newReporter starts a reporter. rows is the input's row count, or 0 when unknown: then
// progress is bytes read of size (pos). On a terminal the bar is drawn on w; otherwise lines.
func newReporter(w io.Writer, terminal bool, rows int, size int64, pos func() int64, log *zap.Logger) *reporter {
	return startReporter(w, terminal, rows, size, pos, log, nil, false)
}

// newUndoReporter shows an undo's deletes (toDelete of them) as an import's rows are shown.
func newUndoReporter(w io.Writer, terminal bool, toDelete int, traffic *pacer.Counters, log *zap.Logger) *reporter {
	return startReporter(w, terminal, toDelete, 0, func() int64 { return 0 }, log, traffic, true)
}

func startReporter(w io.Writer, terminal bool, rows int, size int64, pos func() int64, log *zap.Logger, traffic *pacer.Counters, undo bool) *reporter {
	r := &reporter{undo: undo, traffic: traffic, total: int64(rows), pos: pos, log: log, w: w, start: time.Now(), counts: map[rowStatus]int{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if rows <= 0 {
		r.total, r.byBytes = size, true
	}
	r.lastLog = r.start
	if terminal {
		max := r.total
		if max <= 0 {
			max = -1 // unknown size: a spinner
		}
		r.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w), // not Default(): it writes to os.Stderr whatever w is
			progressbar.OptionShowBytes(r.byBytes),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	go r.loop()
	return r
}

// Skipped counts rows an earlier session finished: they are progress already made.
func (r *reporter) Skipped(n int) {
	r.mu.Lock()
	r.skipped += n
	r.mu.Unlock()
}

func (r *reporter) loop() {
	defer close(r.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			r.tick(now)
		}
	}
}

// Counts is a copy of the rows counted so far, per status (metrics label them by name).
func (r *reporter) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		if settled(k) {
			c[string(k)] = v
		}
	}
	return c
}

// rowStatus is a row's status in the journal.
type rowStatus = runfolder.Status

// settled: a row's final status, as opposed to pending, or left (given back unsent on a stop).
func settled(status rowStatus) bool {
	switch status {
	case runfolder.StatusCreated, runfolder.StatusExists, runfolder.StatusFailed, runfolder.StatusInvalid, runfolder.StatusDuplicate,
		runfolder.StatusSkipped, runfolder.StatusDeleted, statusGone:
		return true
	}
	return false
}

// Row counts a row the importer settled (or gave back: not progress).
func (r *reporter) Row(status rowStatus) {
	r.mu.Lock()
	r.counts[status]++
	if settled(status) {
		r.rows++
	}
	r.mu.Unlock()
}

func (r *reporter) tick(now time.Time) {
	r.mu.Lock()
	done := int64(r.rows + r.skipped)
	if r.byBytes {
		done = r.pos()
	}
	line := r.describe(now, done, r.bar == nil) // the bar shows its own ETA
	r.mu.Unlock()
	if r.bar != nil {
		r.bar.Describe(line)
		if r.total > 0 {
			done = min(done, r.total-1) // reaching the end would finish, and clear, the bar
		}
		_ = r.bar.Set64(done)
		return
	}
	decil := int64(0)
	if r.total > 0 {
		decil = done * 10 / r.total
	}
	if now.Sub(r.lastLog) >= 10*time.Second || decil > r.lastDecil {
		r.lastLog, r.lastDecil = now, decil
		pct := ""
		if r.total > 0 {
			pct = fmt.Sprintf("%d%% ", done*100/r.total)
		}
		msg := "progress: " + pct + line
		fmt.Fprintf(r.w, "%s %s\n", now.UTC().Format(time.RFC3339), msg)
		r.log.Debug(msg)
	}
}

// describe needs r.mu.
func (r *reporter) describe(now time.Time, done int64, withETA bool) string {
	el := now.Sub(r.start)
	rate := 0.0
	if el > 0 {
		rate = float64(r.rows) / el.Seconds()
	}
	eta := ""
	if progress := done - int64(r.skipped); withETA && r.total > 0 && progress > 0 && done < r.total {
		if r.byBytes {
			progress = done
		}
		left := time.Duration(float64(el) * float64(r.total-done) / float64(progress))
		eta = fmt.Sprintf(" · eta %s", left.Round(time.Second))
	}
	traffic := ""
	if r.traffic != nil {
		traffic = fmt.Sprintf(" · 429s %d · retries %d", r.traffic.Status429.Load(), r.traffic.Retries.Load())
	}
	if r.undo {
		return fmt.Sprintf("deleted %d · gone %d · failed %d · %.1f users/s%s%s",
			r.counts[runfolder.StatusDeleted], r.counts[statusGone], r.counts[runfolder.StatusFailed], rate, traffic, eta)
	}
	return fmt.Sprintf("created %d · exists %d · failed %d · invalid %d · %.1f rows/s%s%s",
		r.counts[runfolder.StatusCreated], r.counts[runfolder.StatusExists], r.counts[runfolder.StatusFailed],
		r.counts[runfolder.StatusInvalid]+r.counts[runfolder.StatusDuplicate], rate, traffic, eta)
}

// statusGone is undo.jsonl's status of a user a delete found already gone.
const statusGone runfolder.Status = "gone"

// showTraffic has the reporter show the run's 429s and retries as they happen.
func (r *reporter) showTraffic(c *pacer.Counters) {
	r.mu.Lock()
	r.traffic = c
	r.mu.Unlock()
}

// Close stops the reporter and clears the bar.
func (r *reporter) Close() {
	close(r.stop)
	<-r.done
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}
