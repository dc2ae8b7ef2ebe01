package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
)

// Record is one input record as mapping reads it. A Record that also implements Joiner
// (WithJoins builds one) carries the rows of other files joined to it.
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
	plan          *csvPlan   // set by Apply: the header's columns resolved once
	rules         *cellRules // set by Apply: the preset's cell rules (NULL spellings, escapes)
}

// CSVRecord views one CSV row under its header. Missing trailing cells read as absent,
// so do empty cells: an empty CSV cell means "not given", never "". Column names match
// exactly first, then as people write them (see normKey).
func CSVRecord(header, cells []string) Record {
	return csvRecord{header: header, cells: cells}
}

func (r csvRecord) Keys() []string { return r.header }
func (r csvRecord) Textual() bool  { return true }

// col is the column key names: from the plan when Apply made one, else by scanning.
func (r csvRecord) col(name string) int {
	if r.plan != nil {
		if i, ok := r.plan.index[name]; ok {
			return i
		}
	}
	i, _ := resolveCol(r.header, name)
	return i
}

func (r csvRecord) cell(name string) (string, bool) {
	i := r.col(name)
	if i < 0 || i >= len(r.cells) {
		return "", false
	}
	return r.rules.clean(r.cells[i])
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

// resolveCol finds name in header: the first exact match, else the one column that
// normalises to the same (normKey). Two such columns and no exact one are ambiguous: -1 and
// both of them.
func resolveCol(header []string, name string) (int, []string) {
	for i, h := range header {
		if h == name {
			return i, nil
		}
	}
	var buf [64]byte
	n := normInto(buf[:0], name)
	found, other := -1, -1
	var hb [64]byte
	for i, h := range header {
		if string(normInto(hb[:0], h)) == string(n) {
			if found < 0 {
				found = i
			} else if other < 0 {
				other = i
			}
		}
	}
	if other >= 0 {
		return -1, []string{header[found], header[other]}
	}
	return found, nil
}

// normKey is a column or key name as people write it: trimmed, lowercased, spaces, dashes
// and underscores dropped (so "Email Address", "email-address", "EMAIL_ADDRESS" and
// "emailAddress" are one name).
func normKey(s string) string { return string(normInto(nil, s)) }

func normInto(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '_' || c == '\t' || c == '\r' || c == '\n':
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AmbiguousError is a header (or record) where two columns both match a key the mapping
// reads, none of them exactly: which one is meant cannot be guessed.
type AmbiguousError struct {
	Key     string   // the key the mapping reads
	Columns []string // the columns that match it
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("columns %q and %q both match %q; rename one, or map the field explicitly with --mapping", e.Columns[0], e.Columns[1], e.Key)
}

// cellRules are a preset's declared cell conventions for CSV input: NULL spellings read as
// absent, and escape prefixes stripped (Auth0's leading ', Clerk's csvsafe TAB).
type cellRules struct {
	Null        []string `json:"null,omitempty"`
	StripPrefix []string `json:"strip_prefix,omitempty"`
}

// clean applies the rules to one cell: the value, or false when it is absent.
func (c *cellRules) clean(s string) (string, bool) {
	if c != nil {
		for _, p := range c.StripPrefix {
			if strings.HasPrefix(s, p) {
				s = s[len(p):]
				break
			}
		}
		for _, n := range c.Null {
			if s == n {
				return "", false
			}
		}
	}
	if strings.TrimSpace(s) == "" {
		return "", false
	}
	return s, true
}

type jsonRecord struct {
	keys   []string
	values map[string]any
	cols   *Columns                          // set instead of values for a row held by column (RowRecord)
	row    RowValues                         // its values
	text   RowText                           // row, when it can also answer without decoding
	tidx   *textIndex                        // text's JSON objects as scanned so far
	room   *RowScratch                       // the row's room for what the mapping works out, or nil
	norm   atomic.Pointer[map[string]string] // normKey -> key, built on the first miss; "" for two keys
}

// JSONRecord decodes one JSON object (numbers kept as json.Number). Anything else, or a
// top-level key given twice, is an error.
func JSONRecord(raw []byte) (Record, error) {
	if r, ok := fastJSONRecord(raw); ok {
		return r, nil
	}
	return jsonRecordGeneral(raw)
}

// jsonRecordGeneral decodes value by value, so that every malformed record gets its own error.
func jsonRecordGeneral(raw []byte) (Record, error) {
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

func (r *jsonRecord) Lookup(key string) (any, bool) { return r.lookup(key, r.resolve) }

// lookup finds key exactly, then (for a key's first segment absent as written) through
// loose, which names the one key that matches as people write it, or "".
func (r *jsonRecord) lookup(key string, loose func(string) string) (any, bool) {
	if r.cols != nil {
		return r.rowLookup(key, loose)
	}
	if v, ok := r.values[key]; ok {
		return present(v)
	}
	if !strings.Contains(key, ".") {
		if k := loose(key); k != "" {
			return present(r.values[k])
		}
		return nil, false
	}
	if v, ok := walkPath(r.values, key, true); ok {
		return v, true
	}
	first, rest, _ := strings.Cut(key, ".")
	if _, ok := r.values[first]; !ok {
		if k := loose(first); k != "" {
			return walkPath(r.values[k], rest, true)
		}
	}
	return nil, false
}

// resolve finds the one top-level key that normalises as key does, or "".
func (r *jsonRecord) resolve(key string) string {
	np := r.norm.Load()
	if np == nil {
		// Built at most once per goroutine that misses first; any of the equal maps will do.
		m := make(map[string]string, len(r.keys))
		for _, k := range r.keys {
			n := normKey(k)
			if _, dup := m[n]; dup {
				m[n] = "" // two keys: ambiguous, so neither
				continue
			}
			m[n] = k
		}
		r.norm.Store(&m)
		np = &m
	}
	var buf [64]byte
	return (*np)[string(normInto(buf[:0], key))]
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
		if parts[0] == "*" { // every item: a list of the present values
			var out []any
			for _, it := range t {
				if v, ok := walk(it, parts[1:]); ok {
					out = append(out, v)
				}
			}
			return out, len(out) > 0
		}
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

// ObjectRecord is JSONRecord for a source that already holds the decoded object (a database
// row): keys in order, values exactly as JSONRecord would decode them (string, bool,
// json.Number, map[string]any, []any; absent keys left out). It skips the JSON round trip.
func ObjectRecord(keys []string, values map[string]any) Record {
	if len(keys) == 0 {
		keys = nil // as JSONRecord leaves it
	}
	return &jsonRecord{keys: keys, values: values}
}
