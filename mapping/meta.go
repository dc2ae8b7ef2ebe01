package mapping

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// maxFlatKeys bounds the keys canonicalFlat sorts in place; bigger objects are decoded.
const maxFlatKeys = 16

type kvSpan struct{ k, v string } // raw key (without quotes) and raw value

// canonicalFlat writes s, a JSON object of scalars, as decoding and encoding it would: keys
// sorted, insignificant space dropped, nil for {}. It declines (ok false) whatever it cannot
// copy byte for byte: nesting, escapes, duplicate keys, invalid UTF-8, U+2028/U+2029 (which the
// encoder escapes), malformed JSON. The caller then decodes.
func canonicalFlat(s string) (raw json.RawMessage, ok bool) {
	if len(s) < 2 || s[0] != '{' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) ||
		strings.Contains(s, "\u2028") || strings.Contains(s, "\u2029") {
		return nil, false
	}
	var kv [maxFlatKeys]kvSpan
	n := 0
	i := skipWS(s, 1)
	if i < len(s) && s[i] == '}' {
		return nil, skipWS(s, i+1) == len(s)
	}
	for {
		k, j, ok := scanString(s, i)
		if !ok {
			return nil, false
		}
		if i = skipWS(s, j); i >= len(s) || s[i] != ':' {
			return nil, false
		}
		i = skipWS(s, i+1)
		if j, ok = scanScalar(s, i); !ok {
			return nil, false
		}
		if n == maxFlatKeys {
			return nil, false
		}
		for _, e := range kv[:n] {
			if e.k == k {
				return nil, false // the decoder keeps the last; leave that to it
			}
		}
		kv[n] = kvSpan{k, s[i:j]}
		n++
		if i = skipWS(s, j); i >= len(s) {
			return nil, false
		}
		if s[i] == '}' {
			if skipWS(s, i+1) != len(s) {
				return nil, false
			}
			break
		}
		if s[i] != ',' {
			return nil, false
		}
		i = skipWS(s, i+1)
	}
	// Insertion sort: few keys, and encoding/json orders map keys bytewise.
	for a := 1; a < n; a++ {
		for b := a; b > 0 && kv[b].k < kv[b-1].k; b-- {
			kv[b], kv[b-1] = kv[b-1], kv[b]
		}
	}
	size := 1 + n // braces, colons and commas
	for _, e := range kv[:n] {
		size += len(e.k) + 2 + len(e.v)
	}
	out := make([]byte, 0, size)
	out = append(out, '{')
	for x, e := range kv[:n] {
		if x > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, e.k...)
		out = append(out, '"', ':')
		out = append(out, e.v...)
	}
	return append(out, '}'), true
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
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
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
