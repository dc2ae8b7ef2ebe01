package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/transform"
)

// ErrNoContent is returned by Writer.Write for a record that kept neither cells nor bytes
// (one longer than the record size limit): it cannot be written back.
var ErrNoContent = errors.New("record has no content to write (it was longer than the record size limit)")

// Writer writes records back in the input's own format (the failed.<ext> file).
type Writer interface {
	Write(rec Record) error
	Close() error
}

// NewWriter writes records as format to w, in UTF-8 with ',' between CSV cells. CSV: the header
// (if any) then rows, from Cells, or Raw verbatim for rows that could not be parsed. JSONL: Raw +
// "\n". JSON: a streamed array of Raw, valid JSON even when empty. Close flushes; it does not
// close w.
func NewWriter(w io.Writer, format Format, header []string) Writer {
	return NewWriterFor(w, format, header, Dialect{})
}

// NewWriterFor is NewWriter in the input's own dialect (Detected.Dialect), so that its failed
// rows can be fixed in the same tool and fed in again with the same options: the same encoding
// (a Latin-1 or Windows-1252 input gets Latin-1 or Windows-1252 back, which holds every cell read
// from it; UTF-16 likewise), its byte order mark, and for CSV the same delimiter, line ends and
// backslash escapes.
func NewWriterFor(w io.Writer, format Format, header []string, d Dialect) Writer {
	o := output{}
	if enc := encoder(d.Encoding); enc != nil {
		tw := transform.NewWriter(w, enc)
		w, o.enc = tw, tw
	}
	o.bw = bufio.NewWriter(w)
	if d.BOM {
		_, _ = o.bw.WriteString("\ufeff") // through the encoder: the input's own mark; errors come back from Flush
	}
	switch format {
	case CSV:
		if d.Delimiter == 0 {
			d.Delimiter = ','
		}
		cw := &csvWriter{output: o, d: d, header: header, eol: "\n"}
		if d.CRLF {
			cw.eol = "\r\n"
		}
		cw.cw = csv.NewWriter(&cw.scratch)
		cw.cw.Comma = rune(d.Delimiter)
		return cw
	case JSON:
		return &jsonWriter{output: o}
	default:
		return &jsonlWriter{output: o}
	}
}

// output is a writer's buffered, possibly encoding, output.
type output struct {
	bw  *bufio.Writer
	enc io.Closer // the encoder: Close flushes its last bytes, not w
}

func (o output) flush() error {
	if err := o.bw.Flush(); err != nil {
		return err
	}
	if o.enc != nil {
		return o.enc.Close()
	}
	return nil
}

type csvWriter struct {
	output
	d       Dialect
	cw      *csv.Writer // writes one row at a time into scratch
	scratch bytes.Buffer
	eol     string
	header  []string
	started bool
	lines   int // lines written
	// tails are rows with an unterminated quote: written last, so they cannot swallow other rows.
	tails [][]byte
}

func (w *csvWriter) start() error {
	if w.started {
		return nil
	}
	w.started = true
	if len(w.header) == 0 {
		return nil
	}
	return w.cells(w.header)
}

func (w *csvWriter) cells(cells []string) error {
	if len(cells) == 1 && cells[0] == "" {
		return w.raw([]byte(`""`)) // csv.Writer would write a blank line, which readers skip
	}
	for i, c := range cells {
		if strings.Contains(c, "\r\n") {
			// Readers turn a quoted "\r\n" into "\n"; "\r\r\n" reads back as "\r\n".
			cells = slices.Clone(cells)
			for j := i; j < len(cells); j++ {
				cells[j] = strings.ReplaceAll(cells[j], "\r\n", "\r\r\n")
			}
			break
		}
	}
	if w.lines == 0 && (strings.HasPrefix(cells[0], "\ufeff") || strings.HasPrefix(cells[0], "#")) && !strings.ContainsAny(cells[0], string(rune(w.d.Delimiter))+"\"\r\n") {
		// Readers drop a BOM that starts the file (found by FuzzCSV) and skip '#' comment lines
		// before a header: quote the cell so it reads back whole.
		line := `"` + cells[0] + `"`
		if len(cells) > 1 {
			rest, err := w.format(cells[1:])
			if err != nil {
				return err
			}
			line += string(rune(w.d.Delimiter)) + string(rest)
		}
		return w.raw([]byte(line))
	}
	line, err := w.format(cells)
	if err != nil {
		return err
	}
	return w.raw(line)
}

// format is one row without its line end.
func (w *csvWriter) format(cells []string) ([]byte, error) {
	w.scratch.Reset()
	if !w.d.BackslashEscapes {
		if err := w.cw.Write(cells); err != nil {
			return nil, fmt.Errorf("writing CSV: %w", err)
		}
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return nil, fmt.Errorf("writing CSV: %w", err)
		}
		return bytes.TrimSuffix(w.scratch.Bytes(), []byte("\n")), nil
	}
	// The input's own escapes, \<delimiter>; a cell they cannot carry (quotes, line breaks, a
	// backslash before a delimiter or at its end) is quoted, which the reader also takes.
	comma := string(rune(w.d.Delimiter))
	for i, c := range cells {
		if i > 0 {
			w.scratch.WriteString(comma)
		}
		if strings.ContainsAny(c, "\"\r\n") || strings.HasSuffix(c, `\`) || strings.Contains(c, `\`+comma) || strings.HasPrefix(c, " ") && strings.Contains(c, comma) {
			w.scratch.WriteString(`"` + strings.ReplaceAll(c, `"`, `""`) + `"`)
			continue
		}
		w.scratch.WriteString(strings.ReplaceAll(c, comma, `\`+comma))
	}
	return w.scratch.Bytes(), nil
}

func (w *csvWriter) Write(rec Record) error {
	if err := w.start(); err != nil {
		return err
	}
	if rec.Cells != nil {
		return w.cells(rec.Cells)
	}
	if rec.Raw == nil {
		return ErrNoContent
	}
	if endsInQuote(rec.Raw, w.d.Delimiter, w.d.LazyQuotes) {
		w.tails = append(w.tails, rec.Raw)
		return nil
	}
	return w.raw(rec.Raw)
}

func (w *csvWriter) raw(b []byte) error {
	w.lines++
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	if _, err := w.bw.WriteString(w.eol); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

func (w *csvWriter) Close() error {
	if err := w.start(); err != nil {
		return err
	}
	for _, t := range w.tails {
		if err := w.raw(t); err != nil {
			return err
		}
	}
	w.tails = nil
	if err := w.flush(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// endsInQuote tells whether raw CSV bytes end inside a quoted field.
func endsInQuote(b []byte, comma byte, lazy bool) bool {
	state := stFieldStart
	for _, c := range b {
		state = quoteStep(state, c, comma, lazy)
	}
	return inQuotes(state)
}

type jsonlWriter struct{ output }

func (w *jsonlWriter) Write(rec Record) error {
	raw := rec.Bytes()
	if raw == nil {
		return ErrNoContent
	}
	if _, err := w.bw.Write(raw); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	if err := w.bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	return nil
}

func (w *jsonlWriter) Close() error {
	if err := w.flush(); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	return nil
}

type jsonWriter struct {
	output
	n int
}

func (w *jsonWriter) Write(rec Record) error {
	raw := rec.Bytes()
	if raw == nil {
		return ErrNoContent
	}
	sep := ",\n"
	if w.n == 0 {
		sep = "[\n"
	}
	if _, err := w.bw.WriteString(sep); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	if _, err := w.bw.Write(raw); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	w.n++
	return nil
}

func (w *jsonWriter) Close() error {
	end := "\n]\n"
	if w.n == 0 {
		end = "[\n]\n"
	}
	if _, err := w.bw.WriteString(end); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	if err := w.flush(); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
