package source

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrNoContent is returned by Writer.Write for a record that kept neither cells nor bytes
// (one longer than the record size limit): it cannot be written back.
var ErrNoContent = errors.New("record has no content to write (it was longer than the record size limit)")

// Writer writes records back in the input's own format (the failed.<ext> file).
type Writer interface {
	Write(rec Record) error
	Close() error
}

// NewWriter writes records as format to w. CSV: the header (if any) then rows, from Cells, or
// Raw verbatim for rows that could not be parsed. JSONL: Raw + "\n". JSON: a streamed array of
// Raw, valid JSON even when empty. Close flushes; it does not close w.
func NewWriter(w io.Writer, format Format, header []string) Writer {
	bw := bufio.NewWriter(w)
	switch format {
	case CSV:
		return &csvWriter{bw: bw, cw: csv.NewWriter(bw), header: header}
	case JSON:
		return &jsonWriter{bw: bw}
	default:
		return &jsonlWriter{bw: bw}
	}
}

type csvWriter struct {
	bw      *bufio.Writer
	cw      *csv.Writer
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
	if w.lines == 0 && strings.HasPrefix(cells[0], "\ufeff") && !strings.ContainsAny(cells[0], ",\"\r\n") {
		// Readers drop a BOM that starts the file: quote the cell so it reads back whole
		// (found by FuzzCSV).
		var b strings.Builder
		cw := csv.NewWriter(&b)
		if err := cw.Write(cells[1:]); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
		cw.Flush()
		line := `"` + cells[0] + `"`
		if len(cells) > 1 {
			line += "," + strings.TrimSuffix(b.String(), "\n")
		}
		return w.raw([]byte(line))
	}
	w.lines++
	if err := w.cw.Write(cells); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
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
	if endsInQuote(rec.Raw) {
		w.tails = append(w.tails, rec.Raw)
		return nil
	}
	return w.raw(rec.Raw)
}

func (w *csvWriter) raw(b []byte) error {
	w.lines++
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	if err := w.bw.WriteByte('\n'); err != nil {
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
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// endsInQuote tells whether raw CSV bytes end inside a quoted field.
func endsInQuote(b []byte) bool {
	state := stFieldStart
	for _, c := range b {
		state = quoteStep(state, c)
	}
	return state == stQuoted
}

type jsonlWriter struct{ bw *bufio.Writer }

func (w *jsonlWriter) Write(rec Record) error {
	if rec.Raw == nil {
		return ErrNoContent
	}
	if _, err := w.bw.Write(rec.Raw); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	if err := w.bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	return nil
}

func (w *jsonlWriter) Close() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("writing JSONL: %w", err)
	}
	return nil
}

type jsonWriter struct {
	bw *bufio.Writer
	n  int
}

func (w *jsonWriter) Write(rec Record) error {
	if rec.Raw == nil {
		return ErrNoContent
	}
	sep := ",\n"
	if w.n == 0 {
		sep = "[\n"
	}
	if _, err := w.bw.WriteString(sep); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	if _, err := w.bw.Write(rec.Raw); err != nil {
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
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
