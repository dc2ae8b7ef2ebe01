package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// jsonlReader reads one JSON object per line.
type jsonlReader struct {
	br   *bufio.Reader
	max  int
	line int
	num  int
	buf  []byte
	done bool
}

func newJSONL(br *bufio.Reader, opts Options) *jsonlReader {
	return &jsonlReader{br: br, max: opts.MaxRecordSize}
}

func (r *jsonlReader) Header() []string { return nil }

func (r *jsonlReader) Close() error { r.done = true; return nil }

func (r *jsonlReader) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	for !r.done {
		line, tooLong, err := readLine(r.br, r.max, r.buf)
		if errors.Is(err, io.EOF) {
			r.done = true
			break
		}
		if err != nil {
			r.done = true
			return Record{}, err
		}
		r.line++
		r.buf = line[:0]
		if cap(r.buf) > 64<<10 {
			r.buf = nil
		}
		line = trimEOL(line)
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r.num++
		rec := Record{Num: r.num, Line: r.line}
		if tooLong {
			rec.Err = &RecordError{Line: r.line, Msg: fmt.Sprintf("line longer than %d bytes", r.max)}
			return rec, nil
		}
		rec.Raw = append([]byte(nil), line...)
		if msg := checkObject(rec.Raw); msg != "" {
			rec.Err = &RecordError{Line: r.line, Msg: msg}
		}
		return rec, nil
	}
	return Record{}, io.EOF
}

// checkObject says what is wrong with b as one JSON object, or "" if nothing is. The words
// never quote the input.
func checkObject(b []byte) string {
	if !utf8.Valid(b) {
		return "invalid UTF-8"
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if json.Valid(b) {
		if t[0] != '{' {
			return "not a JSON object (" + jsonKind(t[0]) + ")"
		}
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	err := dec.Decode(&v)
	var se *json.SyntaxError
	switch {
	case err == nil:
		return fmt.Sprintf("trailing data after the JSON value (column %d)", dec.InputOffset()+1)
	case errors.As(err, &se):
		if strings.Contains(se.Error(), "exceeded max depth") {
			return "invalid JSON: nested too deeply"
		}
		return fmt.Sprintf("invalid JSON (column %d)", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: unexpected end of line"
	}
	return "invalid JSON"
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
