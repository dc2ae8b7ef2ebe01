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

// errTooLong stops the JSON decoder from buffering a value past the record size limit.
var errTooLong = errors.New("record too long")

// jsonSlack is lookahead allowed on top of the record size limit (whitespace, separators).
const jsonSlack = 64 << 10

// jsonReader streams the elements of a top-level array, or of an array held by a top-level
// object (Firebase's {"users":[…]}), with encoding/json's Token and Decode.
type jsonReader struct {
	in     *window
	dec    *json.Decoder
	max    int
	inObj  bool   // the array is a field of a top-level object
	field  string // that field's name
	num    int
	state  int
	failed error     // file-level error to return after the last record
	base   io.Reader // the input under the window
	pb     *pushback // after a resync: bytes read ahead, then base
}

const (
	jsInArray  = iota
	jsEmptyObj // the top-level object is read: its only arrays were empty
	jsDone
	jsFailed
)

func openJSON(br *bufio.Reader, opts Options) (*jsonReader, error) {
	w := &window{r: br, line: 1}
	r := &jsonReader{in: w, dec: json.NewDecoder(w), max: opts.MaxRecordSize, base: br}
	tok, err := r.token()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty input: expected a JSON array or an object holding one")
	}
	if err != nil {
		return nil, r.fileErr(err)
	}
	switch tok {
	case json.Delim('['):
		return r, nil
	case json.Delim('{'):
		r.inObj = true
		empty, err := r.findArray(opts.Field)
		if err != nil {
			return nil, err
		}
		if empty {
			r.state = jsEmptyObj
		}
		return r, nil
	}
	return nil, errors.New("input is not a JSON array or an object holding one")
}

// findArray moves into the named array field; unnamed, into the field "users" (in any case) or
// the first array of objects (Clerk's CLI envelope has other fields first). empty: the object
// held only empty arrays and has been read to its end.
func (r *jsonReader) findArray(field string) (empty bool, err error) {
	for {
		tok, err := r.token()
		if err != nil {
			return false, r.fileErr(err)
		}
		if tok == json.Delim('}') {
			switch {
			case field != "":
				return false, fmt.Errorf("the JSON object has no field %q", field)
			case empty:
				return true, nil
			}
			return false, errors.New("the JSON object holds no array of records")
		}
		key, _ := tok.(string)
		if tok, err = r.token(); err != nil {
			return false, r.fileErr(err)
		}
		if tok == json.Delim('[') {
			switch {
			case field != "" && key == field, field == "" && strings.EqualFold(key, "users"):
				r.field = key
				return false, nil
			case field != "":
			case !r.dec.More():
				empty = true // no records, unless a later field holds some
			case r.peekByte() == '{':
				r.field = key
				return false, nil
			}
		}
		if field != "" && key == field {
			return false, fmt.Errorf("JSON field %q is not an array", field)
		}
		if err := r.skip(tok); err != nil {
			return false, err
		}
	}
}

// peekByte is the next byte the decoder will read (after More skipped the whitespace).
func (r *jsonReader) peekByte() byte {
	var c [1]byte
	_, _ = r.dec.Buffered().Read(c[:])
	return c[0]
}

// skip passes over the rest of a value whose first token is tok, one token at a time.
func (r *jsonReader) skip(tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = r.token(); err != nil {
			return r.fileErr(err)
		}
	}
}

// token reads one token with the lookahead bounded by the record size limit.
func (r *jsonReader) token() (json.Token, error) {
	r.in.lineAt(r.dec.InputOffset()) // keeps the uncounted bytes bounded while skipping fields
	r.in.allowFrom(r.dec.InputOffset(), r.max)
	return r.dec.Token()
}

func (r *jsonReader) Header() []string { return nil }

func (r *jsonReader) Close() error { r.state = jsDone; return nil }

func (r *jsonReader) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	switch r.state {
	case jsEmptyObj:
		r.state = jsDone
		if err := r.trailing(); err != nil {
			return Record{}, err
		}
		return Record{}, io.EOF
	case jsDone:
		return Record{}, io.EOF
	case jsFailed:
		r.state = jsDone
		return Record{}, r.failed
	}
	r.in.allowFrom(r.dec.InputOffset(), r.max)
	if !r.dec.More() {
		r.state = jsDone
		if err := r.finish(); err != nil {
			return Record{}, err
		}
		return Record{}, io.EOF
	}
	r.num++
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return r.broken(err), nil
	}
	line := r.in.lineAt(r.dec.InputOffset() - int64(len(raw)))
	rec := Record{Num: r.num, Line: line, Raw: raw} // Decode gave raw its own copy
	switch {
	case len(raw) > r.max: // the decoder may read a little past the limit: hold it exactly
		rec.Raw, rec.Err = nil, &RecordError{Line: line, Msg: fmt.Sprintf("record longer than %d bytes", r.max)}
	case !utf8.Valid(raw):
		rec.Err = &RecordError{Line: line, Msg: "invalid UTF-8"}
	case raw[0] != '{':
		rec.Err = &RecordError{Line: line, Msg: "not a JSON object (" + jsonKind(raw[0]) + ")"}
	}
	return rec, nil
}

// broken turns a decode error into an error record. After a record too long or too deep the
// stream is picked up again past it; after other errors it cannot be, so the next call returns
// a file-level error naming the line.
func (r *jsonReader) broken(err error) Record {
	buffered, _ := io.ReadAll(r.dec.Buffered()) // bounded by the window
	base := r.in.lineAt(r.dec.InputOffset())
	skip := len(buffered) - len(bytes.TrimLeft(buffered, " \t\r\n,"))
	line := base + bytes.Count(buffered[:skip], []byte("\n"))
	var (
		msg     string
		file    error
		se      *json.SyntaxError
		balance bool // the record is whole JSON, just too long or too deep: skip it
	)
	switch {
	case errors.Is(err, errTooLong):
		balance = true
		msg = fmt.Sprintf("record longer than %d bytes", r.max)
		file = fmt.Errorf("line %d: JSON record longer than %d bytes; the rest of a JSON array cannot be read past it (JSONL can)", line, r.max)
	case errors.As(err, &se):
		msg = "invalid JSON"
		errLine := line
		if strings.Contains(se.Error(), "exceeded max depth") {
			balance, msg = true, "invalid JSON: nested too deeply"
		}
		// The decoder's offsets are not absolute: rescan the record alone to place the error.
		var v json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(buffered[skip:])).Decode(&v); errors.As(err, &se) && se.Offset > 0 {
			errLine = line + bytes.Count(buffered[skip:min(skip+int(se.Offset)-1, len(buffered))], []byte("\n"))
		}
		if errLine != line {
			msg = fmt.Sprintf("%s (at line %d)", msg, errLine)
		}
		file = fmt.Errorf("line %d: JSON syntax error; the rest of the input cannot be read", errLine)
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "invalid JSON: input ends inside this record"
		file = fmt.Errorf("line %d: JSON input ends inside a record", line)
	default:
		msg = "could not be read"
		file = fmt.Errorf("line %d: reading JSON: %w", line, err)
	}
	rec := Record{Num: r.num, Line: line, Err: &RecordError{Line: line, Msg: msg}}
	if balance {
		if raw, err := r.resync(buffered, skip, line); err == nil {
			rec.Raw = raw
			return rec
		}
	}
	r.state, r.failed = jsFailed, file
	return rec
}

// finish reads the closing bracket, the rest of the holding object, and checks nothing follows.
func (r *jsonReader) finish() error {
	if _, err := r.token(); err != nil { // ']'
		return r.fileErr(err)
	}
	if r.inObj {
		for {
			tok, err := r.token()
			if err != nil {
				return r.fileErr(err)
			}
			if tok == json.Delim('}') {
				break
			}
			if tok, err = r.token(); err != nil {
				return r.fileErr(err)
			}
			if err := r.skip(tok); err != nil {
				return err
			}
		}
	}
	return r.trailing()
}

// trailing checks that nothing follows the JSON document.
func (r *jsonReader) trailing() error {
	if _, err := r.token(); !errors.Is(err, io.EOF) {
		var se *json.SyntaxError
		if err == nil || errors.As(err, &se) {
			return fmt.Errorf("line %d: trailing data after the JSON document (one JSON object per line is NDJSON: read it as jsonl)", r.in.lineAt(r.dec.InputOffset()))
		}
		return r.fileErr(err)
	}
	return nil
}

// fileErr names the line of a navigation error.
func (r *jsonReader) fileErr(err error) error {
	line := r.in.lineAt(r.dec.InputOffset())
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooLong):
		return fmt.Errorf("line %d: JSON value longer than %d bytes", line, r.max)
	case errors.As(err, &se):
		return fmt.Errorf("line %d: JSON syntax error", line)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("line %d: JSON input ends early", line)
	}
	return fmt.Errorf("line %d: reading JSON: %w", line, err)
}

// window is the decoder's input: it caps how far ahead of the current value the decoder may
// buffer, and keeps the not yet counted bytes to turn offsets into line numbers.
type window struct {
	r         io.Reader
	delivered int64 // bytes handed to the decoder
	limit     int64 // no bytes past this offset may be handed out
	base      int64 // offset of pending[0]
	pending   []byte
	line      int // line at offset base
}

// allowFrom lets the decoder read up to max bytes (plus slack) past off.
func (w *window) allowFrom(off int64, max int) { w.limit = off + int64(max) + jsonSlack }

func (w *window) Read(p []byte) (int, error) {
	room := w.limit - w.delivered
	if room <= 0 {
		return 0, errTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := w.r.Read(p)
	w.delivered += int64(n)
	w.pending = append(w.pending, p[:n]...)
	return n, err
}

// lineAt returns the line of offset off; offsets must not go backwards between calls.
func (w *window) lineAt(off int64) int {
	n := min(max(off-w.base, 0), int64(len(w.pending)))
	w.line += bytes.Count(w.pending[:n], []byte("\n"))
	w.base += n
	w.pending = w.pending[n:]
	if len(w.pending) == 0 || cap(w.pending) > 4*len(w.pending)+4096 {
		w.pending = append([]byte(nil), w.pending...) // release counted bytes
	}
	return w.line
}
