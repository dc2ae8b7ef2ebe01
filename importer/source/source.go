// Package source streams records out of CSV, JSONL and JSON user exports (optionally gzipped)
// and writes failed records back in the input's own format.
//
// Bad records are data: they come back as a Record with Err set and the stream goes on. Only
// file-level problems are returned as errors from Open and Next.
package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is an input format.
type Format string

// Supported formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
	JSON  Format = "json"
)

// DefaultMaxRecordSize is the record size limit when Options.MaxRecordSize is zero.
const DefaultMaxRecordSize = 1 << 20

// Detect tells the format from a file name: .csv, .jsonl, .ndjson or .json, each optionally + .gz.
func Detect(path string) (f Format, gzipped bool, err error) {
	name := strings.ToLower(filepath.Base(path))
	if base, ok := strings.CutSuffix(name, ".gz"); ok {
		name, gzipped = base, true
	}
	switch filepath.Ext(name) {
	case ".csv":
		return CSV, gzipped, nil
	case ".jsonl", ".ndjson":
		return JSONL, gzipped, nil
	case ".json":
		return JSON, gzipped, nil
	}
	return "", false, fmt.Errorf("cannot tell the format of %q from its extension (want .csv, .jsonl, .ndjson or .json, optionally .gz): set the format explicitly", filepath.Base(path))
}

// ParseFormat checks a user-given format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSONL, JSON:
		return f, nil
	case "ndjson":
		return JSONL, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv, jsonl or json)", s)
}

// Options configure Open.
type Options struct {
	Format        Format
	Gzip          bool
	MaxRecordSize int      // bytes; default 1 MiB; a longer record -> Record.Err, stream goes on (JSON: stream ends)
	Header        []string // CSV only: use this header and treat the first line as data
	Field         string   // JSON only: the array field of a top-level object; default the first array-valued field
}

// Record is one input record.
type Record struct {
	Num   int      // 1-based record number (data records only)
	Line  int      // 1-based input line where the record starts
	Cells []string // CSV: cells aligned to Header()
	Raw   []byte   // the record's exact input bytes (CSV: without the line terminator); nil when too long
	Err   error    // non-nil: this record could not be read (*RecordError)
}

// RecordError says why one record could not be read. Msg never holds record contents.
type RecordError struct {
	Line int
	Msg  string
}

func (e *RecordError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Reader streams records.
type Reader interface {
	Header() []string                         // CSV header (BOM stripped); nil for JSON formats
	Next(ctx context.Context) (Record, error) // io.EOF at end
	Close() error
}

// Open starts reading r. The caller still owns r and closes it after Close.
func Open(r io.Reader, opts Options) (Reader, error) {
	if opts.MaxRecordSize <= 0 {
		opts.MaxRecordSize = DefaultMaxRecordSize
	}
	if len(opts.Header) > 0 && opts.Format != CSV {
		return nil, errors.New("a header can only be given for CSV input")
	}
	var closer io.Closer
	if opts.Gzip {
		zr, err := gzip.NewReader(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("empty input: not gzip data")
			}
			return nil, fmt.Errorf("input is not gzip data: %w", err)
		}
		r, closer = zr, zr
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br); err != nil {
		return nil, err
	}
	if opts.Format == JSONL || opts.Format == CSV && len(opts.Header) > 0 {
		// A zero-byte export is a broken one: refuse it as CSV with a header line and JSON do.
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return nil, errors.New("empty input: no records")
		}
	}
	var (
		rd  Reader
		err error
	)
	switch opts.Format {
	case CSV:
		rd, err = openCSV(br, opts)
	case JSONL:
		rd = newJSONL(br, opts)
	case JSON:
		rd, err = openJSON(br, opts)
	default:
		err = fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	return &closing{Reader: rd, c: closer}, nil
}

// closing closes the gzip stream, if any, with the reader.
type closing struct {
	Reader
	c io.Closer
}

func (c *closing) Close() error {
	err := c.Reader.Close()
	if c.c != nil {
		if cerr := c.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// skipBOM drops a UTF-8 byte order mark and refuses UTF-16 input, which would read as garbage.
func skipBOM(br *bufio.Reader) error {
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading input: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return errors.New("input is UTF-16: convert it to UTF-8")
	}
	return nil
}

// readLine reads one physical line (through '\n') into at most max bytes. A longer line is
// consumed to its end and reported by tooLong; its bytes are not kept.
func readLine(br *bufio.Reader, max int, buf []byte) (line []byte, tooLong bool, err error) {
	line = buf[:0]
	size := 0
	for {
		chunk, rerr := br.ReadSlice('\n')
		size += len(chunk)
		if !tooLong {
			if size > max+2 { // +2: the terminator does not count against the limit
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case rerr == nil:
			return line, tooLong || len(trimEOL(line)) > max, nil
		case errors.Is(rerr, bufio.ErrBufferFull):
			continue
		case errors.Is(rerr, io.EOF):
			if size == 0 {
				return nil, false, io.EOF
			}
			return line, tooLong || len(trimEOL(line)) > max, nil
		default:
			return nil, false, fmt.Errorf("reading input: %w", rerr)
		}
	}
}

// trimEOL drops a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// Count reads r to its end and returns how many records Open and Next would give for it,
// readable or not; 0 when r cannot be opened as a source at all. A CSV is only split into
// records, not parsed: the count sizes a progress bar, and a full parse would cost an import
// of 50,000 rows a tenth of a second before its first request.
func Count(r io.Reader, opts Options) int {
	src, err := Open(r, opts)
	if err != nil {
		return 0
	}
	defer src.Close()
	if cl, ok := src.(*closing); ok {
		if c, ok := cl.Reader.(*csvReader); ok {
			return c.countRest()
		}
	}
	n := 0
	for {
		if _, err := src.Next(context.Background()); err != nil {
			return n
		}
		n++
	}
}
