// Package source streams records out of CSV, JSONL and JSON user exports (optionally gzipped)
// and writes failed records back in the input's own format.
//
// What a file is comes from its content, not its name (Sniff): gzip by its magic bytes, UTF-16
// by its byte order mark, JSON or NDJSON or CSV by the first bytes, a CSV's delimiter by its
// header line. A format, encoding or delimiter the caller gives wins over what is found.
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
// It is a hint (Options.Hint): Open reads the format from the content (Auth0 names its NDJSON
// export <tenant>.json.gz).
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

// Options configure Open.
type Options struct {
	Format        Format     // "" = read it from the content (Sniff); an explicit format wins over the content
	Hint          Format     // the format the file name suggests (Detect): only breaks a tie the content leaves
	Gzip          bool       // the input must be gzip; without it gzip is still recognised by its magic bytes
	MaxRecordSize int        // bytes; default 1 MiB; a longer record -> Record.Err, stream goes on (JSON: stream ends)
	Header        []string   // CSV only: use this header and treat the first line as data
	Headers       [][]string // CSV only: header-less layouts of different widths; the first row's width picks one
	Field         string     // JSON only: the array field of a top-level object; default "users" or the first array of objects

	// Encoding names the input's character set: "" or utf-8 (a UTF-16 byte order mark is still
	// followed), utf-16le, utf-16be, utf-16 (by its BOM), latin1 (iso-8859-1), windows-1252,
	// iso-8859-15. Records come out as UTF-8 (Raw and Cells both).
	Encoding string
	// CSV dialect. Delimiter 0 = the one of , ; TAB | that the header line (the first line of a
	// header-less file) holds most of outside quotes.
	Delimiter        rune
	LazyQuotes       bool // a bare " inside a field is data (Firebase <= 15.18 writes those)
	BackslashEscapes bool // \<delimiter> in an unquoted field is a literal delimiter (Cognito's import CSV)
}

// Dialect is how a text input is written beyond its format. The writer of failed rows copies it,
// so they can be fixed and fed in again with the same options.
type Dialect struct {
	Encoding         string // canonical name (see Options.Encoding); "" = utf-8
	BOM              bool   // the input started with a byte order mark
	Delimiter        byte   // CSV; 0 = ','
	CRLF             bool   // CSV: the first line ended in CRLF
	LazyQuotes       bool   // CSV
	BackslashEscapes bool   // CSV
}

// Detected is what Open found out about its input, for the caller to log (a sniff that disagrees
// with the file name) and to write failed rows in the same shape (DetectedOf).
type Detected struct {
	Format   Format
	Sniffed  bool // Format was read from the content, not given
	Gzip     bool // the input was gzip (by its magic bytes)
	Dialect  Dialect
	Field    string // JSON: the top-level object's field holding the records; "" for a bare array
	Layout   int    // CSV: the index in Options.Headers of the header used; -1 = the input's own header line
	Comments int    // CSV: '#' comment lines skipped before the header line
}

// Record is one input record.
type Record struct {
	Num   int      // 1-based record number (data records only)
	Line  int      // 1-based input line where the record starts
	Cells []string // CSV: cells aligned to Header()
	Raw   []byte   // the record's exact input bytes, decoded to UTF-8 (CSV: without the line terminator); nil when too long
	Err   error    // non-nil: this record could not be read (*RecordError)
	// Decoded, when a source sets it, is the record already decoded (a mapping.Record, as
	// mapping.JSONRecord(Raw) would give): the importer uses it instead of decoding Raw again.
	Decoded any
	// RawFrom, when Raw is nil, writes the record's bytes on demand: a database row's JSON is
	// only needed when the row goes to the failed file, so it is not built for every row.
	RawFrom RawAppender
}

// RawAppender writes a record's bytes (what Raw would hold) after b.
type RawAppender interface {
	AppendRaw(b []byte) []byte
}

// Bytes is Raw, or what RawFrom writes when the source left Raw unbuilt; nil when neither.
func (r Record) Bytes() []byte {
	if r.Raw == nil && r.RawFrom != nil {
		return r.RawFrom.AppendRaw(nil)
	}
	return r.Raw
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
	if len(opts.Header) > 0 {
		if len(opts.Headers) > 0 {
			return nil, errors.New("give one header or a list of header layouts, not both")
		}
		opts.Headers = [][]string{opts.Header}
	}
	if len(opts.Headers) > 0 && opts.Format != CSV && opts.Format != "" {
		return nil, errors.New("a header can only be given for CSV input")
	}
	if err := checkDelimiter(opts.Delimiter); err != nil {
		return nil, err
	}
	encName, enc, err := lookupEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	det := Detected{Format: opts.Format, Layout: -1}
	var closer io.Closer
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	if opts.Gzip || bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("empty input: not gzip data")
			}
			return nil, fmt.Errorf("input is not gzip data: %w", err)
		}
		closer, det.Gzip = zr, true
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	fail := func(err error) (Reader, error) {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	if br, det.Dialect.Encoding, det.Dialect.BOM, err = decode(br, encName, enc); err != nil {
		return fail(err)
	}
	if opts.Format == "" {
		decided := func(head []byte, atEOF bool) bool {
			_, _, _, final := sniffHead(head, atEOF, opts.Field, opts.Hint)
			return final
		}
		head, atEOF, err := peekDecided(br, decided)
		if err != nil {
			return fail(fmt.Errorf("reading input: %w", err))
		}
		f, field, sure := sniffContent(head, atEOF, opts.Field, opts.Hint)
		if !sure && br.Size() < opts.MaxRecordSize+jsonSlack {
			// A first line longer than the buffer: an NDJSON record can be as long as the record
			// size limit, so look that far (this buffer then serves the whole read).
			br = bufio.NewReaderSize(br, opts.MaxRecordSize+jsonSlack)
			if head, atEOF, err = peekDecided(br, decided); err != nil {
				return fail(fmt.Errorf("reading input: %w", err))
			}
			f, field, _ = sniffContent(head, atEOF, opts.Field, opts.Hint)
		}
		switch {
		case f != "":
			det.Format, det.Sniffed = f, true
		case opts.Hint != "":
			det.Format = opts.Hint
		default:
			return fail(errors.New("empty input: no records"))
		}
		if opts.Field == "" {
			opts.Field = field
		}
		if det.Format != CSV {
			opts.Headers = nil // the mapping's header-less layouts matter only if the input is CSV
		}
	}
	opts.Format = det.Format
	if opts.Format == JSONL || opts.Format == CSV && len(opts.Headers) > 0 {
		// A zero-byte export is a broken one: refuse it as CSV with a header line and JSON do.
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			return fail(errors.New("empty input: no records"))
		}
	}
	var rd Reader
	switch opts.Format {
	case CSV:
		var c *csvReader
		if c, err = openCSV(br, opts, &det); err == nil {
			rd = c
		}
	case JSONL:
		rd = newJSONL(br, opts)
	case JSON:
		var j *jsonReader
		if j, err = openJSON(br, opts); err == nil {
			rd, det.Field = j, j.field
		}
	default:
		err = fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		return fail(err)
	}
	return &closing{Reader: rd, c: closer, det: det}, nil
}

var gzipMagic = []byte{0x1f, 0x8b}

// DetectedOf says what Open found out about r's input; false when r did not come from Open.
func DetectedOf(r Reader) (Detected, bool) {
	if c, ok := r.(*closing); ok {
		return c.det, true
	}
	return Detected{}, false
}

// closing closes the gzip stream, if any, with the reader.
type closing struct {
	Reader
	c   io.Closer
	det Detected
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
