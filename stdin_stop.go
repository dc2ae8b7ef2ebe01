package main

import (
	"context"
	"errors"
	"io"
	"sync"
)

// errStdinStopped is what a read of stdin (or of a file's first pass) returns once the run has
// stopped taking rows.
var errStdinStopped = errors.New("input: stopped reading on a stop")

// stopReader reads stdin through a forwarding goroutine, so a stop ends a read blocked on a
// pipe that never sends EOF: the goroutine stays in its read, but the consumer returns at
// once and the run drains, journals and exits. A read cannot be cancelled any other way.
type stopReader struct {
	chunks chan stdinChunk
	free   chan []byte // the forwarder's buffers, handed back once consumed
	stop   chan struct{}
	once   sync.Once

	cur  stdinChunk // being consumed
	off  int
	done error // the forwarder's last error (io.EOF at the end)

	src io.Closer // a pipe opened by name, closed with the reader (nil for stdin)
}

type stdinChunk struct {
	buf []byte
	err error
}

const stdinBuf = 64 << 10

func newStopReader(src io.Reader) *stopReader {
	s := &stopReader{chunks: make(chan stdinChunk), free: make(chan []byte, 2), stop: make(chan struct{})}
	s.free <- make([]byte, stdinBuf)
	s.free <- make([]byte, stdinBuf)
	go s.forward(src)
	return s
}

func (s *stopReader) forward(src io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		case <-s.stop:
			return
		}
		n, err := src.Read(buf[:cap(buf)])
		select {
		case s.chunks <- stdinChunk{buf: buf[:n], err: err}:
		case <-s.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *stopReader) Read(p []byte) (int, error) {
	for {
		if s.off < len(s.cur.buf) {
			n := copy(p, s.cur.buf[s.off:])
			s.off += n
			return n, nil
		}
		if s.cur.buf != nil {
			s.free <- s.cur.buf[:0] // consumed: the forwarder may fill it again
			s.cur.buf = nil
		}
		if s.cur.err != nil {
			s.done = s.cur.err
		}
		if s.done != nil {
			return 0, s.done
		}
		select {
		case c := <-s.chunks:
			s.cur, s.off = c, 0
		case <-s.stop:
			return 0, errStdinStopped
		}
	}
}

// abandon ends every read, blocked or to come; safe to call more than once.
func (s *stopReader) abandon() { s.once.Do(func() { close(s.stop) }) }

// Close abandons the reads: the input is closed when the run ends, read to EOF or not.
func (s *stopReader) Close() error {
	s.abandon()
	if s.src != nil {
		return s.src.Close() // also ends the forwarder's read
	}
	return nil
}

// abandonOn abandons s's reads on the first signal (stop), or when ctx ends: armed before the
// input's first read, so a signal during the format sniff ends it too. It waits no longer than s.
func (s *stopReader) abandonOn(ctx context.Context, stop <-chan struct{}) {
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
		case <-s.stop:
		}
		s.abandon()
	}()
}
