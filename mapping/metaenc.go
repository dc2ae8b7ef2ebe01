package mapping

import (
	"encoding/json"
	"slices"
)

// encodeMetaFast writes a decoded metadata object as encoding/json does (keys sorted, HTML
// left unescaped) for the shape a database's jsonb column decodes to: plain printable-ASCII
// strings, json.Number, booleans, null, nested objects and arrays. ok is false for anything
// else (a string needing an escape, a float64, …): metaValue's encoder then writes it.
func encodeMetaFast(o map[string]any) (json.RawMessage, bool) {
	b, ok := appendMetaValue(make([]byte, 0, 64), o, 0)
	if !ok {
		return nil, false
	}
	return b, true
}

func appendMetaValue(b []byte, v any, depth int) ([]byte, bool) {
	if depth > 32 {
		return b, false
	}
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		if t {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case string:
		return appendPlainString(b, t)
	case json.Number:
		if !isJSONNumber(string(t)) {
			return b, false
		}
		return append(b, t...), true
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendMetaValue(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		var kb [16]string
		keys := kb[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendPlainString(b, k); !ok {
				return b, false
			}
			b = append(b, ':')
			if b, ok = appendMetaValue(b, t[k], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// appendPlainString quotes s when it needs no escape: printable ASCII without '"' or '\'.
func appendPlainString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// isJSONNumber is JSON's number grammar, which encoding/json checks a json.Number against.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() bool {
		k := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > k
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}
