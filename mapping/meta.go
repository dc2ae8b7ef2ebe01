package mapping

import (
	"encoding/json"
	"strings"
)

// maxSortKeys bounds the keys of one object canonicalJSON sorts on the stack; bigger objects
// take a slice.
const maxSortKeys = 16

// maxCanonDepth bounds canonicalJSON's nesting; deeper values are left to the decoder.
const maxCanonDepth = 32

type kvSpan struct{ k, v string } // raw key (without quotes) and raw value

// canonicalJSON writes s, a JSON object, as decoding and encoding it would: keys sorted at
// every level, insignificant space dropped, nil for {}. It declines (ok false) whatever it
// cannot copy byte for byte: escapes, duplicate keys, invalid UTF-8, U+2028/U+2029 (which the
// encoder escapes), malformed JSON, nesting past maxCanonDepth. The caller then decodes. A
// database's jsonb column becomes metadata this way without a map being built.
func canonicalJSON(s string) (raw json.RawMessage, ok bool) {
	var buf [maxSortKeys]kvSpan
	members, ok, sep := objIndex(s, buf[:0])
	if !ok || sep {
		return nil, false
	}
	return canonicalMembers(members, nil)
}

// canonicalMembers is canonicalJSON for an object objIndex has read (and found free of
// U+2028/U+2029), written into room when it fits.
func canonicalMembers(members []kvSpan, room *RowScratch) (raw json.RawMessage, ok bool) {
	if len(members) == 0 {
		return nil, true
	}
	var kb [maxSortKeys]kvSpan
	kv := append(kb[:0], members...) // sorted apart: members keeps its order for look-ups
	size := 1
	for _, e := range kv {
		size += len(e.k) + len(e.v) + 4
	}
	out, ok := appendMembers(room.take(size), kv, 0) // never longer than size: spaces only go
	if !ok {
		return nil, false
	}
	return out, true
}

// appendMembers writes an object's members (sorting kv) in the encoder's form.
func appendMembers(out []byte, kv []kvSpan, depth int) ([]byte, bool) {
	// Insertion sort: few keys, and encoding/json orders map keys bytewise.
	for a := 1; a < len(kv); a++ {
		for b := a; b > 0 && kv[b].k < kv[b-1].k; b-- {
			kv[b], kv[b-1] = kv[b-1], kv[b]
		}
	}
	out = append(out, '{')
	for x, e := range kv {
		if x > 0 {
			if e.k == kv[x-1].k {
				return out, false // the decoder keeps the last; leave that to it
			}
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, e.k...)
		out = append(out, '"', ':')
		if c := e.v[0]; c == '{' || c == '[' {
			var ok bool
			if out, ok = appendCanonical(out, e.v, depth+1); !ok {
				return out, false
			}
		} else {
			out = append(out, e.v...)
		}
	}
	return append(out, '}'), true
}

// valueEnd checks the JSON value at s[i] (strings without escapes) and returns the index after it.
func valueEnd(s string, i, depth int) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	open := s[i]
	if open != '{' && open != '[' {
		return scanScalar(s, i)
	}
	if depth >= maxCanonDepth {
		return 0, false
	}
	close := byte('}')
	if open == '[' {
		close = ']'
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == close {
		return i + 1, true
	}
	for {
		if open == '{' {
			_, j, ok := scanString(s, i)
			if !ok {
				return 0, false
			}
			if i = skipWS(s, j); i >= len(s) || s[i] != ':' {
				return 0, false
			}
			i = skipWS(s, i+1)
		}
		j, ok := valueEnd(s, i, depth+1)
		if !ok {
			return 0, false
		}
		if i = skipWS(s, j); i >= len(s) {
			return 0, false
		}
		if s[i] == close {
			return i + 1, true
		}
		if s[i] != ',' {
			return 0, false
		}
		i = skipWS(s, i+1)
	}
}

// appendCanonical writes v, one value valueEnd accepted, in the encoder's form.
func appendCanonical(out []byte, v string, depth int) ([]byte, bool) {
	switch v[0] {
	case '[':
		out = append(out, '[')
		i := skipWS(v, 1)
		for n := 0; v[i] != ']'; n++ {
			j, _ := valueEnd(v, i, depth+1)
			if n > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = appendCanonical(out, v[i:j], depth+1); !ok {
				return out, false
			}
			if i = skipWS(v, j); v[i] == ',' {
				i = skipWS(v, i+1)
			}
		}
		return append(out, ']'), true
	case '{':
		var kb [maxSortKeys]kvSpan
		kv, _, _ := objIndex(v, kb[:0]) // v was checked whole: it reads
		return appendMembers(out, kv, depth)
	}
	return append(out, v...), true
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString reads a JSON string without escapes at s[i]: its contents and the index after it.
func scanString(s string, i int) (body string, end int, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	e := strings.IndexByte(s[i+1:], '"')
	if e < 0 {
		return "", 0, false
	}
	body = s[i+1 : i+1+e]
	for j := 0; j < len(body); j++ {
		if body[j] < 0x20 {
			return "", 0, false
		}
	}
	return body, i + 2 + e, true
}

// scanScalar reads a string, number, true, false or null at s[i] and returns the index after it.
func scanScalar(s string, i int) (end int, ok bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case c == '"':
		_, end, ok = scanString(s, i)
		return end, ok
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(s, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(s[i:], lit) {
			return i + len(lit), true
		}
	}
	return 0, false
}

// scanNumber follows JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (end int, ok bool) {
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}
