package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/gocarina/gocsv"
)

// csvRow is the struct gocsv fills. Its one tag can never match a header (headers holding NUL
// are refused), so every column comes back through ReadUnmatched.
type csvRow struct {
	Never string `csv:"\x00"`
}

// csvReader splits the input into records itself (bounded memory, line numbers, raw bytes,
// recovery after an unbalanced quote) and feeds them one at a time to gocsv, which parses them.
type csvReader struct {
	split     *csvSplitter
	header    []string
	headerRaw []byte // fed to each new gocsv Unmarshaller
	feed      *recordFeed
	cr        *csv.Reader
	um        *gocsv.Unmarshaller
	num       int
	done      bool
	cellSlab  slab[string]
	pending   []physRecord // records read ahead by openCSV to look at their widths
	splitErr  error        // a read error met while reading ahead, returned after pending
	unescBuf  []byte
}

// lookahead is how many records openCSV reads before the first Next: enough to tell a file
// whose every row has one wrong width (one clear error) from a few odd rows (one error each).
const lookahead = 8

func openCSV(br *bufio.Reader, opts Options, det *Detected) (*csvReader, error) {
	s := &csvSplitter{br: br, max: opts.MaxRecordSize, comma: byte(opts.Delimiter), lazy: opts.LazyQuotes, backslash: opts.BackslashEscapes}
	r := &csvReader{split: s, feed: &recordFeed{}}
	headerless := len(opts.Headers) > 0
	if !headerless {
		n, err := s.skipComments()
		if err != nil {
			return nil, err
		}
		det.Comments = n
	}
	first := s.peekLine()
	if s.comma == 0 {
		s.comma = sniffDelimiter(first)
	}
	d := &det.Dialect
	d.Delimiter, d.LazyQuotes, d.BackslashEscapes = s.comma, s.lazy, s.backslash
	d.CRLF = bytes.HasSuffix(first, []byte("\r\n"))
	headerLine := 1
	if headerless {
		r.readAhead()
		header, layout, err := r.pickLayout(opts.Headers)
		if err != nil {
			return nil, err
		}
		det.Layout = layout
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Comma = rune(s.comma)
		if err := w.Write(header); err != nil {
			return nil, fmt.Errorf("encoding the given header: %w", err)
		}
		w.Flush()
		r.headerRaw = b.Bytes()
	} else {
		pr, err := s.next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty input: no header")
		}
		if err != nil {
			return nil, err
		}
		switch {
		case pr.tooLong:
			return nil, fmt.Errorf("line %d: header longer than %d bytes", pr.line, opts.MaxRecordSize)
		case pr.openQuote > 0:
			return nil, fmt.Errorf("line %d: header has an unterminated quoted field", pr.openQuote)
		case loneCR(pr.raw):
			return nil, fmt.Errorf("line %d: header holds a carriage return outside quotes: lines ending in a lone CR (classic Mac) are not supported", pr.line)
		}
		// A BOM after leading blank lines is still no part of a column name (found by FuzzCSV:
		// the failed file's header would lose it when read back).
		raw, _ := r.unescape(bytes.TrimPrefix(pr.raw, []byte{0xEF, 0xBB, 0xBF}))
		r.headerRaw, headerLine = append(slices.Clip(raw), '\n'), pr.line
	}
	if err := r.reset(); err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("line %d: CSV header: %s", headerLine+pe.Line-1, parseMsg(pe))
		}
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	r.header = r.um.Headers
	seen := make(map[string]int, len(r.header))
	for i, h := range r.header {
		if strings.IndexByte(h, 0) >= 0 || !utf8.ValidString(h) {
			return nil, fmt.Errorf("header column %d: NUL byte or invalid UTF-8 in its name (is the file UTF-8? if not, give its encoding: latin1, windows-1252, utf-16le…)", i+1)
		}
		if j, dup := seen[h]; dup {
			return nil, fmt.Errorf("header: duplicate column name %q (columns %d and %d)", h, j+1, i+1)
		}
		seen[h] = i
	}
	if !headerless {
		r.readAhead()
	}
	if err := r.checkWidths(headerless, headerLine); err != nil {
		return nil, err
	}
	return r, nil
}

// readAhead reads the first records into pending.
func (r *csvReader) readAhead() {
	for len(r.pending) < lookahead {
		pr, err := r.split.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.splitErr = err
			}
			return
		}
		r.pending = append(r.pending, pr)
	}
}

// width is a record's field count, or -1 when it cannot be split into fields at all.
func (r *csvReader) width(pr physRecord) int {
	if pr.tooLong || pr.openQuote > 0 {
		return -1
	}
	raw, _ := r.unescape(pr.raw)
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = rune(r.split.comma), r.split.lazy, -1
	rec, err := cr.Read()
	if err != nil {
		return -1
	}
	return len(rec)
}

// pickLayout chooses among header-less layouts by the width of the first row that has one.
func (r *csvReader) pickLayout(layouts [][]string) ([]string, int, error) {
	if len(layouts) == 1 {
		return layouts[0], 0, nil
	}
	for _, pr := range r.pending {
		w := r.width(pr)
		if w < 0 {
			continue
		}
		for i, l := range layouts {
			if len(l) == w {
				return l, i, nil
			}
		}
		return nil, -1, fmt.Errorf("line %d: the first row has %d fields; a header-less file of this kind has %s fields: is it the right export (or preset)?", pr.line, w, widthList(layouts))
	}
	return layouts[0], 0, nil
}

// checkWidths refuses, as one error, an input whose first rows all have the same width and it
// is not the header's: a wrong delimiter, layout or header line, not bad rows.
func (r *csvReader) checkWidths(headerless bool, headerLine int) error {
	w, line := -1, 0
	for i, pr := range r.pending {
		pw := r.width(pr)
		if pw < 0 || i > 0 && pw != w {
			return nil
		}
		w = pw
		if i == 0 {
			line = pr.line
		}
	}
	if w < 0 || w == len(r.header) {
		return nil
	}
	rows := "every row read"
	if len(r.pending) == 1 {
		rows = "the only row"
	}
	if headerless {
		return fmt.Errorf("line %d: %s has %d fields, but a header-less row of this kind has %d: is it the right export (or preset), and the right delimiter (%s)?", line, rows, w, len(r.header), delimName(r.split.comma))
	}
	var which string
	if w < len(r.header) {
		which = fmt.Sprintf("header columns with no field in the rows: %s", nameList(r.header[w:]))
	} else {
		which = fmt.Sprintf("the rows have %d fields after the header's last column %q", w-len(r.header), r.header[len(r.header)-1])
	}
	return fmt.Errorf("line %d: %s has %d fields, but the header (line %d) has %d (%s): check the header line and the delimiter (%s)", line, rows, w, headerLine, len(r.header), which, delimName(r.split.comma))
}

func widthList(layouts [][]string) string {
	var ws []string
	for _, l := range layouts {
		ws = append(ws, strconv.Itoa(len(l)))
	}
	if len(ws) < 2 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
}

// nameList quotes up to 5 column names.
func nameList(names []string) string {
	var q []string
	for i, n := range names {
		if i == 5 {
			q = append(q, fmt.Sprintf("and %d more", len(names)-5))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

func delimName(c byte) string {
	switch c {
	case '\t':
		return "TAB"
	case ' ':
		return "space"
	}
	return fmt.Sprintf("%q", c)
}

// sniffDelimiter picks the one of , ; TAB | that line holds most of outside quotes (',' on a tie).
func sniffDelimiter(line []byte) byte {
	const cands = ",;\t|"
	var n [len(cands)]int
	quoted := false
	for _, c := range line {
		if c == '"' {
			quoted = !quoted
		} else if !quoted {
			if i := strings.IndexByte(cands, c); i >= 0 {
				n[i]++
			}
		}
	}
	best := 0
	for i := range n {
		if n[i] > n[best] {
			best = i
		}
	}
	return cands[best]
}

// reset starts a fresh gocsv Unmarshaller over the header, dropping anything a parse error left
// buffered in the previous one.
func (r *csvReader) reset() error {
	r.feed.set(r.headerRaw)
	cr := csv.NewReader(r.feed)
	cr.FieldsPerRecord = 0 // set from the header: a row of another width is csv.ErrFieldCount
	cr.Comma = rune(r.split.comma)
	cr.LazyQuotes = r.split.lazy
	cr.ReuseRecord = true // gocsv copies the cells out of each record before the next
	um, err := gocsv.NewUnmarshaller(cr, csvRow{})
	if err != nil {
		return fmt.Errorf("gocsv: %w", err)
	}
	r.cr, r.um = cr, um
	return nil
}

func (r *csvReader) Header() []string { return r.header }

func (r *csvReader) Close() error { r.done = true; return nil }

func (r *csvReader) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if r.done {
		return Record{}, io.EOF
	}
	pr, err := r.nextPhys()
	if err != nil {
		r.done = true
		return Record{}, err
	}
	r.num++
	rec := Record{Num: r.num, Line: pr.line, Raw: pr.raw}
	switch {
	case pr.openQuote > 0:
		msg := "unterminated quoted field: it runs to the end of the input"
		if pr.resynced {
			msg = "unterminated quoted field (the lines after it were read as records again)"
		}
		rec.Err = &RecordError{Line: pr.openQuote, Msg: msg}
		return rec, nil
	case pr.tooLong:
		rec.Err = &RecordError{Line: pr.line, Msg: fmt.Sprintf("record longer than %d bytes", r.split.max)}
		return rec, nil
	}
	cells, rerr := r.parse(pr)
	if rerr != nil {
		rec.Err = rerr
		return rec, nil
	}
	if utf8.Valid(pr.raw) && bytes.IndexByte(pr.raw, 0) < 0 {
		// Cells are the record's bytes less some ASCII (quotes, CRs): they are clean too.
		rec.Cells = cells
		return rec, nil
	}
	for i, c := range cells {
		if !utf8.ValidString(c) {
			rec.Err = &RecordError{Line: pr.line, Msg: fmt.Sprintf("column %d: invalid UTF-8 (is the file UTF-8? if not, give its encoding)", i+1)}
			return rec, nil
		}
		if strings.IndexByte(c, 0) >= 0 {
			rec.Err = &RecordError{Line: pr.line, Msg: fmt.Sprintf("column %d: NUL byte", i+1)}
			return rec, nil
		}
	}
	rec.Cells = cells
	return rec, nil
}

// nextPhys is the next record, read ahead or not.
func (r *csvReader) nextPhys() (physRecord, error) {
	if len(r.pending) > 0 {
		pr := r.pending[0]
		r.pending = r.pending[1:]
		return pr, nil
	}
	if r.splitErr != nil {
		return physRecord{}, r.splitErr
	}
	return r.split.next()
}

// unescape rewrites, with BackslashEscapes, each unquoted field holding \<delimiter> as a quoted
// field holding the delimiter, so that gocsv reads it as one cell.
func (r *csvReader) unescape(raw []byte) ([]byte, bool) {
	if !r.split.backslash || bytes.IndexByte(raw, '\\') < 0 {
		return raw, false
	}
	r.unescBuf = unescapeFields(r.unescBuf[:0], raw, r.split.comma)
	return r.unescBuf, true
}

// unescapeFields appends raw to out with its backslash-escaped unquoted fields quoted instead.
func unescapeFields(out, raw []byte, comma byte) []byte {
	for i := 0; ; i++ { // i: the start of a field
		j := i
		if j < len(raw) && raw[j] == '"' {
			for j++; j < len(raw); j++ { // to the closing quote; "" is a literal one
				if raw[j] == '"' {
					if j+1 < len(raw) && raw[j+1] == '"' {
						j++
						continue
					}
					break
				}
			}
			for j < len(raw) && raw[j] != comma {
				j++
			}
			out = append(out, raw[i:j]...)
		} else {
			esc := false
			for ; j < len(raw) && (raw[j] != comma || j > i && raw[j-1] == '\\'); j++ {
				esc = esc || raw[j] == comma
			}
			if !esc {
				out = append(out, raw[i:j]...)
			} else {
				out = append(out, '"')
				for k := i; k < j; k++ {
					switch {
					case raw[k] == '\\' && k+1 < j && raw[k+1] == comma:
						continue
					case raw[k] == '"':
						out = append(out, '"', '"')
					default:
						out = append(out, raw[k])
					}
				}
				out = append(out, '"')
			}
		}
		if j >= len(raw) {
			return out
		}
		out = append(out, comma)
		i = j
	}
}

// parse runs one record through gocsv.
func (r *csvReader) parse(pr physRecord) ([]string, *RecordError) {
	in := pr.raw[:len(pr.raw)+1] // the splitter left a '\n' after the record for this
	if u, changed := r.unescape(pr.raw); changed {
		in = append(u, '\n')
	}
	r.feed.set(in)
	start := r.cr.InputOffset()
	_, cols, err := r.um.ReadUnmatched()
	whole := r.cr.InputOffset()-start == int64(len(in))
	if err == nil && whole {
		cells := r.cellSlab.take(len(r.header))
		for i, h := range r.header {
			cells[i] = cols[h]
		}
		return cells, nil
	}
	if !whole {
		// An error inside a multi-line record leaves its tail buffered in the parser.
		if rerr := r.reset(); rerr != nil {
			return nil, &RecordError{Line: pr.line, Msg: "internal: cannot restart the CSV parser"}
		}
	}
	var pe *csv.ParseError
	switch {
	case err == nil:
		return nil, &RecordError{Line: pr.line, Msg: "record could not be parsed"}
	case errors.Is(err, csv.ErrFieldCount):
		return nil, &RecordError{Line: pr.line, Msg: fmt.Sprintf("wrong number of fields (%d, header has %d)", max(r.width(pr), 0), len(r.header))}
	case errors.As(err, &pe):
		return nil, &RecordError{Line: pr.line + pe.Line - pe.StartLine, Msg: parseMsg(pe)}
	default:
		return nil, &RecordError{Line: pr.line, Msg: "record could not be parsed"}
	}
}

// parseMsg words a csv.ParseError without any cell contents.
func parseMsg(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`bare " in a non-quoted field (column %d)`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`extraneous or missing " in a quoted field (column %d)`, pe.Column)
	}
	return pe.Err.Error()
}

// recordFeed hands the csv.Reader exactly the bytes it is given, then io.EOF, so the parser
// never reads past the record the splitter found.
type recordFeed struct{ b []byte }

func (f *recordFeed) set(b []byte) { f.b = b }

func (f *recordFeed) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// physRecord is one record as found in the input.
type physRecord struct {
	line      int    // 1-based line where it starts
	raw       []byte // exact bytes without the line terminator; nil when too long
	tooLong   bool
	openQuote int  // >0: the input ended inside a quoted field opened on this line
	resynced  bool // the lines after that one were given back to be read again
}

// csvSplitter finds record boundaries with RFC 4180 quoting, in bounded memory.
type csvSplitter struct {
	br        *bufio.Reader
	max       int
	comma     byte
	lazy      bool // a quote inside a quoted field that is not followed by the delimiter is data
	backslash bool // \<comma> in an unquoted field is data
	line      int  // newlines consumed so far
	buf       []byte
	raws      slab[byte]
}

// CSV lexer states.
const (
	stFieldStart = iota
	stUnquoted
	stQuoted
	stQuoteInQuoted // a quote inside a quoted field: either its end or the first of ""
	stQuoteCR       // lazy: a quote then '\r' inside a quoted field: its end if '\n' follows
)

// inQuotes tells whether a record cannot end in this state.
func inQuotes(state int) bool { return state == stQuoted || state == stQuoteCR }

// quoteStep advances the quote state by one byte: a quote opens a field only at its start, and
// inside one "" is a literal quote. An unquoted newline ends the field (and, for the splitter,
// the record). lazy: a quote in a quoted field followed by anything but the delimiter, another
// quote or a newline is data, as encoding/csv's LazyQuotes reads it.
func quoteStep(state int, c, comma byte, lazy bool) int {
	switch state {
	case stFieldStart:
		switch c {
		case '"':
			return stQuoted
		case comma, '\n':
			return stFieldStart
		}
		return stUnquoted
	case stUnquoted:
		if c == comma || c == '\n' {
			return stFieldStart
		}
	case stQuoted:
		if c == '"' {
			return stQuoteInQuoted
		}
	case stQuoteInQuoted:
		switch c {
		case '"':
			return stQuoted
		case comma, '\n':
			return stFieldStart
		}
		switch {
		case lazy && c == '\r':
			return stQuoteCR // encoding/csv reads "\r\n as the end of the field and the line
		case lazy:
			return stQuoted
		}
		return stUnquoted // malformed; encoding/csv reports it
	case stQuoteCR:
		switch c {
		case '\n':
			return stFieldStart
		case '"':
			return stQuoteInQuoted
		}
		return stQuoted
	}
	return state
}

// skipComments consumes the blank lines and '#' comment lines before a header line (Clerk's
// migration-tool samples start with "# Password for users…"). A comment is '#' then a space,
// '#', '!' or the line's end: "#id,name" and "#,name" are header lines.
func (s *csvSplitter) skipComments() (int, error) {
	n := 0
	for {
		b, err := s.br.Peek(2)
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("reading input: %w", err)
		}
		blank := len(b) > 0 && b[0] == '\n' || len(b) > 1 && b[0] == '\r' && b[1] == '\n'
		comment := len(b) > 0 && b[0] == '#' && (len(b) < 2 || strings.IndexByte(" #!\r\n", b[1]) >= 0)
		if !blank && !comment {
			return n, nil
		}
		if _, _, err := readLine(s.br, s.max, nil); err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		s.line++
		if comment {
			n++
		}
	}
}

// peekLine returns the first non-blank line ahead (or as much of it as the buffer holds),
// without consuming it; on a pipe it waits for that line, not for a full buffer.
func (s *csvSplitter) peekLine() []byte {
	b, _, _ := peekDecided(s.br, func(b []byte, _ bool) bool {
		l := firstLine(b)
		return len(l) > 0 && l[len(l)-1] == '\n'
	})
	return firstLine(b)
}

// firstLine is b's first non-blank line, with its end of line when b holds it.
func firstLine(b []byte) []byte {
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l = b[:i+1]
		}
		if len(trimEOL(l)) > 0 {
			return l
		}
		b = b[len(l):]
	}
	return nil
}

func (s *csvSplitter) next() (physRecord, error) {
	var (
		rec      physRecord
		state    = stFieldStart
		size     int
		started  bool
		quoteOff int  // offset in the record of the last opening quote
		prev     byte // the byte before chunk[0]
	)
	s.buf = s.buf[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return physRecord{}, fmt.Errorf("reading input: %w", err)
		}
		if !started {
			if len(chunk) == 0 && errors.Is(err, io.EOF) {
				return physRecord{}, io.EOF
			}
			if t := trimEOL(chunk); len(t) == 0 && (err == nil || errors.Is(err, io.EOF)) {
				s.line++ // a blank line is no record, as in encoding/csv
				if errors.Is(err, io.EOF) {
					return physRecord{}, io.EOF
				}
				continue
			}
			started, rec.line = true, s.line+1
		}
		for i := 0; i < len(chunk); i++ {
			// Fast path over long cells: inside quotes only '"' matters, unquoted only ','; a
			// chunk holds at most one '\n', as its last byte, which is always looked at.
			var stop byte
			switch state {
			case stQuoted:
				stop = '"'
			case stUnquoted:
				stop = s.comma
			}
			if stop != 0 {
				if j := bytes.IndexByte(chunk[i:], stop); j < 0 {
					i = len(chunk) - 1
				} else {
					i += j
				}
			}
			c := chunk[i]
			if s.backslash && state == stUnquoted && c == s.comma && (i > 0 && chunk[i-1] == '\\' || i == 0 && prev == '\\') {
				continue // an escaped delimiter: the field goes on
			}
			next := quoteStep(state, c, s.comma, s.lazy)
			if state == stFieldStart && next == stQuoted {
				rec.openQuote, quoteOff = s.line+1, size+i
			}
			state = next
			if c == '\n' {
				s.line++
			}
		}
		size += len(chunk)
		if len(chunk) > 0 {
			prev = chunk[len(chunk)-1]
		}
		if !rec.tooLong {
			if size > s.max+2 {
				rec.tooLong, s.buf = true, s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		atEOF := errors.Is(err, io.EOF)
		ended := err == nil && !inQuotes(state)
		if !ended && !atEOF {
			continue
		}
		if !inQuotes(state) {
			rec.openQuote = 0
		} else if !rec.tooLong {
			s.resync(&rec, quoteOff)
		}
		if t := trimEOL(s.buf); !rec.tooLong && len(t) > s.max {
			rec.tooLong = true
		} else if !rec.tooLong {
			b := s.raws.take(len(t) + 1)
			copy(b, t)
			b[len(t)] = '\n'
			rec.raw = b[:len(t)]
		}
		if cap(s.buf) > 64<<10 {
			s.buf = nil // do not pin one huge record's buffer
		}
		return rec, nil
	}
}

// resync handles an input that ended inside a quoted field: the quote is the mistake, not
// the rows after it. The record is cut after the line holding that quote, and the lines
// after it (all in s.buf, as the record is within the size limit) are read again.
func (s *csvSplitter) resync(rec *physRecord, quoteOff int) {
	nl := bytes.IndexByte(s.buf[quoteOff:], '\n')
	if nl < 0 {
		return // the quote is on the last line: nothing to give back
	}
	cut := quoteOff + nl + 1
	rest := append([]byte(nil), s.buf[cut:]...)
	if len(bytes.TrimSpace(rest)) == 0 {
		return
	}
	s.line -= bytes.Count(rest, []byte("\n"))
	s.buf = s.buf[:cut]
	s.br = bufio.NewReaderSize(bytes.NewReader(rest), 64<<10) // the input is at its end: only rest is left
	rec.resynced = true
}

// loneCR tells whether raw holds a '\r' outside quotes that does not end a line.
func loneCR(raw []byte) bool {
	quoted := false
	for i, c := range raw {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\r' && !quoted && (i+1 == len(raw) || raw[i+1] != '\n'):
			return true
		}
	}
	return false
}

// slab hands out small slices carved from shared blocks: one allocation for many records
// instead of one each. A kept record keeps its block alive, a few dozen KB at most.
type slab[T any] struct{ block []T }

const slabBytes = 32 << 10

// take returns a zeroed slice of n elements whose capacity ends at n.
func (s *slab[T]) take(n int) []T {
	var zero T
	per := max(1, slabBytes/max(1, int(unsafe.Sizeof(zero))))
	if n > per/8 {
		return make([]T, n) // a large record gets its own
	}
	if len(s.block) < n {
		s.block = make([]T, per)
	}
	b := s.block[:n:n]
	s.block = s.block[n:]
	return b
}

// countRest counts the records left, as Next would return them, without parsing their cells.
func (r *csvReader) countRest() int {
	n := 0
	for !r.done {
		if _, err := r.nextPhys(); err != nil {
			r.done = true
			break
		}
		n++
	}
	return n
}
