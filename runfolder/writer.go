package runfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// Writer appends events to results.jsonl. Pending marks are handed to the OS before the
// create leaves; everything is fsynced once a second and on Close.
//
// Writes are group-committed: lines gather in a buffer, and a writer that needs its line in
// the OS writes everything gathered so far in one call, outside the lock, while the workers
// that queue behind it wait for the next such call. No worker holds the lock through a write
// or an fsync. (At loopback speed few workers meet at the write: about 1.3 rows a write.)
type Writer struct {
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

	repaired *Repair
}

// Repaired is what OpenWriter cut from the file's end, nil when it ended cleanly.
func (j *Writer) Repaired() *Repair { return j.repaired }

// writerBuffer is how much a journal gathers before it writes even without a pending mark.
const writerBuffer = 64 << 10

// OpenWriter opens (or creates) the journal for appending and starts its sync ticker.
// A torn or NUL-padded tail (a crash or a full disk mid-write) is cut off first, so this
// session's lines start on a line of their own; Repaired says what was cut.
func OpenWriter(path string) (*Writer, error) {
	f, err := CreateFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	rep, err := repairTail(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j := &Writer{f: f, repaired: rep, buf: make([]byte, 0, writerBuffer), spare: make([]byte, 0, writerBuffer),
		stop: make(chan struct{}), done: make(chan struct{})}
	j.wrote.L = &j.mu
	go j.syncLoop(time.Second)
	return j, nil
}

func (j *Writer) syncLoop(every time.Duration) {
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
func (j *Writer) flushLocked() error {
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
func (j *Writer) syncLocked() {
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
func (j *Writer) WriteHeader(h Header) error { return j.write(h, false) }

// A nil *Writer discards everything: validate runs the whole pipeline but writes no run folder.

// Write appends an event; a pending mark is flushed to the OS at once (write-ahead).
func (j *Writer) Write(e Event) error {
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

func (j *Writer) write(v any, flush bool) error {
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
		if !plainASCII(v) {
			ok = false // escaping and UTF-8 checks: encoding/json's job
			return
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
	str("key", e.Key)
	str("status", string(e.Status))
	str("user_id", e.UserID)
	num("attempts", e.Attempts)
	str("settled", e.Settled)
	num("duplicate_of_line", e.DupOfLine)
	list := func(key string, vs []string) {
		if len(vs) == 0 || !ok {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":[`...)
		open := len(b)
		for _, v := range vs {
			if !plainASCII(v) {
				ok = false
				return
			}
			if len(b) > open {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	list("dropped", e.Dropped)
	list("readiness", e.Readiness)
	if !ok {
		return nil, false
	}
	sep()
	b = append(b, `"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b, true
}

// plainASCII reports whether encoding/json writes v as it is, between quotes.
func plainASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// writeLine appends one encoded line; flush hands it to the OS at once (the write-ahead mark).
func (j *Writer) writeLine(b []byte, flush bool) error {
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
	if flush || len(j.buf) >= writerBuffer {
		return j.flushLocked()
	}
	return nil
}

// Close writes out, fsyncs and closes.
func (j *Writer) Close() error {
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
