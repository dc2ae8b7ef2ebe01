package importer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Row statuses, as DESIGN.md §1 names them.
const (
	StatusPending   = "pending"
	StatusCreated   = "created"
	StatusExists    = "exists"
	StatusFailed    = "failed"
	StatusInvalid   = "invalid"
	StatusDuplicate = "duplicate"
)

// Header opens each run session in results.jsonl; resume compares it with the next run's.
type Header struct {
	Event          string    `json:"event"` // "run"
	Tool           string    `json:"tool"`
	Version        string    `json:"version"`
	Input          string    `json:"input"`
	InputSHA256    string    `json:"input_sha256"`
	Format         string    `json:"format"`
	Mapping        string    `json:"mapping"`
	MappingSHA256  string    `json:"mapping_sha256"`
	APIURL         string    `json:"api_url"`
	KeyFingerprint string    `json:"key_fingerprint"`
	StartedAt      time.Time `json:"started_at"`
}

// sameRun reports whether two headers name the same run: same input, mapping and target. An
// input whose content was not known up front (stdin) is never the same run: its row numbers
// cannot be trusted to name the same rows.
func (h Header) sameRun(o Header) bool {
	return h.InputSHA256 != "" && h.InputSHA256 == o.InputSHA256 && h.MappingSHA256 == o.MappingSHA256 &&
		h.APIURL == o.APIURL && h.KeyFingerprint == o.KeyFingerprint
}

// RowError is what the journal keeps of a refusal: never a secret, an email only when the
// error is about it.
type RowError struct {
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	HTTP    int    `json:"http,omitempty"`
	Message string `json:"message"`
}

// Events other than row state changes, kept for the run report's time line.
const (
	EventEnd       = "end"       // a session's last line, with its run_status
	EventThrottled = "throttled" // a 429 was answered
	EventRetry     = "retry"     // a call is about to be retried
)

// Event is one line of the journal: a row's state change, a session's end, a 429 or a retry.
type Event struct {
	Event      string    `json:"event,omitempty"` // "" for row events, else one of the Event* names
	Row        int       `json:"row,omitempty"`
	Line       int       `json:"line,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Status     string    `json:"status,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	Error      *RowError `json:"error,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	Settled    string    `json:"settled,omitempty"` // how an uncertain create was settled: "lookup", "identifier_exists"
	DupOfLine  int       `json:"duplicate_of_line,omitempty"`
	At         time.Time `json:"at"`
	// Set on "end" events.
	RunStatus string `json:"run_status,omitempty"`
}

// Journal appends events to results.jsonl. Pending marks are handed to the OS before the
// create leaves; everything is fsynced once a second and on Close.
//
// Writes are group-committed: lines gather in a buffer, and a writer that needs its line in
// the OS writes everything gathered so far in one call, outside the lock, while the workers
// that queue behind it wait for the next such call. No worker holds the lock through a write
// or an fsync. (At loopback speed few workers meet at the write: about 1.3 rows a write.)
type Journal struct {
	mu      sync.Mutex
	wrote   sync.Cond // a write to the file ended
	f       *os.File
	buf     []byte // lines not yet handed to the OS
	spare   []byte // the other buffer, while one is being written
	queued  uint64 // lines put in buf so far
	written uint64 // of which handed to the OS
	writing bool   // a goroutine is writing without the lock
	err     error
	dirty   bool // written since the last fsync
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

// journalBuffer is how much a journal gathers before it writes even without a pending mark.
const journalBuffer = 64 << 10

// OpenJournal opens (or creates) the journal for appending and starts its sync ticker.
func OpenJournal(path string) (*Journal, error) {
	f, err := createFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{f: f, buf: make([]byte, 0, journalBuffer), spare: make([]byte, 0, journalBuffer),
		stop: make(chan struct{}), done: make(chan struct{})}
	j.wrote.L = &j.mu
	go j.syncLoop(time.Second)
	return j, nil
}

func (j *Journal) syncLoop(every time.Duration) {
	defer close(j.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			j.mu.Lock()
			if j.dirty || len(j.buf) > 0 {
				j.syncLocked()
			}
			j.mu.Unlock()
		}
	}
}

// flushLocked hands every line queued so far to the OS, or waits while another goroutine
// does. It returns with the lock held, as it was called.
func (j *Journal) flushLocked() error {
	target := j.queued
	for j.written < target && j.err == nil {
		if j.writing {
			j.wrote.Wait()
			continue
		}
		out, upto := j.buf, j.queued
		j.buf, j.spare, j.writing = j.spare[:0], nil, true
		j.mu.Unlock()
		_, err := j.f.Write(out)
		j.mu.Lock()
		j.spare, j.writing = out[:0], false
		if err != nil {
			j.err = fmt.Errorf("journal write: %w", err)
		} else {
			j.written, j.dirty = upto, true
		}
		j.wrote.Broadcast()
	}
	return j.err
}

// syncLocked writes out what is queued and fsyncs it, without holding the lock through the
// fsync: workers go on queueing lines meanwhile.
func (j *Journal) syncLocked() {
	if j.flushLocked() != nil {
		return
	}
	j.dirty = false
	j.mu.Unlock()
	err := j.f.Sync()
	j.mu.Lock()
	if err != nil && j.err == nil {
		j.err = fmt.Errorf("journal sync: %w", err)
	}
}

// WriteHeader starts a session.
func (j *Journal) WriteHeader(h Header) error { return j.write(h, false) }

// A nil *Journal discards everything: validate runs the whole pipeline but writes no run folder.

// Write appends an event; a pending mark is flushed to the OS at once (write-ahead).
func (j *Journal) Write(e Event) error {
	if j == nil {
		return nil
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	var line [512]byte // on the stack: the common line is encoded without an allocation
	if b, ok := appendEvent(line[:0], &e); ok {
		return j.writeLine(b, e.Status == StatusPending)
	}
	ev := e // only this rare path boxes the event (and so moves it to the heap)
	return j.write(&ev, ev.Status == StatusPending)
}

func (j *Journal) write(v any, flush bool) error {
	if j == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("journal encode: %w", err)
	}
	return j.writeLine(b, flush)
}

// appendEvent encodes the common row event — two a row, on the hot path — as encoding/json
// would, without reflection. ok is false for what it leaves to encoding/json: events with an
// error, and strings that need escaping.
func appendEvent(b []byte, e *Event) (_ []byte, ok bool) {
	if e.Error != nil || e.RunStatus != "" {
		return nil, false
	}
	b = append(b, '{')
	sep := func() {
		if len(b) > 1 {
			b = append(b, ',')
		}
	}
	str := func(key, v string) {
		if v == "" || !ok {
			return
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				ok = false // escaping and UTF-8 checks: encoding/json's job
				return
			}
		}
		sep()
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, '"')
	}
	num := func(key string, v int) {
		if v == 0 {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(v), 10)
	}
	ok = true
	str("event", e.Event)
	num("row", e.Row)
	num("line", e.Line)
	str("external_id", e.ExternalID)
	str("status", e.Status)
	str("user_id", e.UserID)
	num("attempts", e.Attempts)
	str("settled", e.Settled)
	num("duplicate_of_line", e.DupOfLine)
	if !ok {
		return nil, false
	}
	sep()
	b = append(b, `"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b, true
}

// writeLine appends one encoded line; flush hands it to the OS at once (the write-ahead mark).
func (j *Journal) writeLine(b []byte, flush bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errors.New("journal closed")
	}
	j.buf = append(append(j.buf, b...), '\n')
	j.queued++
	if flush || len(j.buf) >= journalBuffer {
		return j.flushLocked()
	}
	return nil
}

// Close writes out, fsyncs and closes.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return j.err
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	j.syncLocked()
	err := j.err
	for j.writing { // a write that began before Close took the lock
		j.wrote.Wait()
	}
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("journal close: %w", cerr)
	}
	return err
}

// readJournal calls fn for each session header and event in order. A torn last line (a crash
// mid-write) ends the read quietly; a bad line elsewhere is an error naming it.
func readJournal(r io.Reader, onHeader func(Header), onEvent func(Event)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read journal: %w", err)
		}
		lineNo++
		torn := err == io.EOF // no newline: the last write did not finish
		var probe struct {
			Event string `json:"event"`
		}
		if jerr := json.Unmarshal(line, &probe); jerr != nil {
			if torn {
				return nil
			}
			return fmt.Errorf("journal line %d is not JSON: %w", lineNo, jerr)
		}
		switch probe.Event {
		case "run":
			var h Header
			if jerr := json.Unmarshal(line, &h); jerr != nil {
				return fmt.Errorf("journal line %d: %w", lineNo, jerr)
			}
			onHeader(h)
		default:
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return fmt.Errorf("journal line %d: %w", lineNo, jerr)
			}
			onEvent(e)
		}
		if torn {
			return nil
		}
	}
}
