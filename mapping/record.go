package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Record is one input record as mapping reads it.
type Record interface {
	// Lookup finds a column or key, or a dotted path into nested objects and arrays
	// ("user_metadata.plan", "identities.0.provider"). Absent, null and blank values
	// report false.
	Lookup(key string) (any, bool)
	// Keys lists the top-level columns or keys in input order.
	Keys() []string
	// Textual is true for CSV: every value is a string cell.
	Textual() bool
}

type csvRecord struct {
	header, cells []string
}

// CSVRecord views one CSV row under its header. Missing trailing cells read as absent,
// so do empty cells: an empty CSV cell means "not given", never "".
func CSVRecord(header, cells []string) Record {
	return csvRecord{header: header, cells: cells}
}

func (r csvRecord) Keys() []string { return r.header }
func (r csvRecord) Textual() bool  { return true }

func (r csvRecord) cell(name string) (string, bool) {
	// Linear scan: a header is short and this avoids building a map per row.
	for i, h := range r.header {
		if h == name {
			if i >= len(r.cells) || strings.TrimSpace(r.cells[i]) == "" {
				return "", false
			}
			return r.cells[i], true
		}
	}
	return "", false
}

func (r csvRecord) Lookup(key string) (any, bool) {
	if c, ok := r.cell(key); ok {
		return c, true
	}
	if !strings.Contains(key, ".") {
		return nil, false
	}
	parts := strings.Split(key, ".")
	// A dotted path reaches into a column holding JSON (a metadata cell, say).
	for i := len(parts) - 1; i >= 1; i-- {
		if c, ok := r.cell(strings.Join(parts[:i], ".")); ok {
			if v, ok := walk(c, parts[i:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

type jsonRecord struct {
	keys   []string
	values map[string]any
}

// JSONRecord decodes one JSON object (numbers kept as json.Number). Anything else, or a
// top-level key given twice, is an error.
func JSONRecord(raw []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("record is not valid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("record is not a JSON object")
	}
	r := &jsonRecord{values: map[string]any{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("record is not valid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("record is not valid JSON: object key is not a string")
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("record is not valid JSON at key %q: %w", key, err)
		}
		if _, seen := r.values[key]; seen {
			// Readers disagree on which of two values counts (first, last): refuse to guess.
			return nil, fmt.Errorf("record has the key %q twice", clip(key))
		}
		r.keys = append(r.keys, key)
		r.values[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("record is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("record is not valid JSON: data after the object")
	}
	return r, nil
}

func (r *jsonRecord) Keys() []string { return r.keys }
func (r *jsonRecord) Textual() bool  { return false }

func (r *jsonRecord) Lookup(key string) (any, bool) {
	if v, ok := r.values[key]; ok {
		return present(v)
	}
	if !strings.Contains(key, ".") {
		return nil, false
	}
	return walk(r.values, strings.Split(key, "."))
}

// present reports whether v counts as given: not null, not a blank string.
func present(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, false
		}
	}
	return v, true
}

// walk follows a dotted path; keys may themselves hold dots, and a string holding a JSON
// object or array (an encoded metadata column) is entered as if it were decoded.
func walk(v any, parts []string) (any, bool) {
	if len(parts) == 0 {
		return present(v)
	}
	switch t := v.(type) {
	case map[string]any:
		for i := len(parts); i >= 1; i-- {
			if c, ok := t[strings.Join(parts[:i], ".")]; ok {
				if r, ok := walk(c, parts[i:]); ok {
					return r, true
				}
			}
		}
	case []any:
		i, err := strconv.Atoi(parts[0])
		if err == nil && i >= 0 && i < len(t) {
			return walk(t[i], parts[1:])
		}
	case string:
		s := strings.TrimSpace(t)
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			if d, err := decodeJSON(s); err == nil {
				return walk(d, parts)
			}
		}
	}
	return nil, false
}

func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}
