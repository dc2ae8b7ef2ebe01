package db

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeValue decodes one JSON value as mapping.JSONRecord decodes a record's values
// (encoding/json into an any, numbers as json.Number), for the columns whose value is not read
// straight from the row: jsonb metadata above all. The common shape goes through a small
// scanner; anything it does not take as is (escapes, invalid UTF-8, odd syntax) goes to
// encoding/json, so every value decodes exactly as before.
func decodeValue(js []byte) (any, error) { return decodeString(string(js)) }

// decodeString is decodeValue over text the caller holds as a string: the keys and strings
// decoded are slices of it, not copies.
func decodeString(js string) (any, error) {
	d := fastDecoder{b: js}
	if v, ok := d.value(); ok {
		if d.skip(); d.i == len(js) {
			return v, nil
		}
	}
	var v any
	if err := decodeStd([]byte(js), &v); err != nil {
		return nil, err
	}
	return v, nil
}

// fastDecoder scans one JSON value; ok false means "let encoding/json decide".
type fastDecoder struct {
	b string
	i int
}

func (d *fastDecoder) skip() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value() (any, bool) {
	d.skip()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		return s, ok
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

func (d *fastDecoder) lit(w string) bool {
	if len(d.b)-d.i < len(w) || d.b[d.i:d.i+len(w)] != w {
		return false
	}
	d.i += len(w)
	return true
}

func (d *fastDecoder) object() (any, bool) {
	d.i++ // '{'
	m := make(map[string]any)
	d.skip()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		d.skip()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		if d.skip(); d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated key: the last one, as encoding/json
		d.skip()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *fastDecoder) array() (any, bool) {
	d.i++ // '['
	a := make([]any, 0, 4)
	d.skip()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.skip()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// str reads a string without escapes, control characters or invalid UTF-8.
func (d *fastDecoder) str() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() (any, bool) {
	b, j := d.b, d.i
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j < len(b) && b[j] == '0' {
		j++
	} else if !digits() {
		return nil, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			return nil, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return nil, false
		}
	}
	n := json.Number(b[d.i:j])
	d.i = j
	return n, true
}
