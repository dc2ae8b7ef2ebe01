package mapping

import (
	"bytes"
	"encoding/json"
	"io"
)

// fastJSONRecord decodes a well-formed object in one Decode call. Decoding it value by value
// (JSONRecord's general path) costs most of a database read: encoding/json builds a syntax
// error for the comma after every value it reads as a top-level one. Key order and repeats come
// from a scan of the top-level keys. ok is false for anything unusual (escaped or repeated keys,
// not an object, trailing data): the general path then decides, with its precise errors.
func fastJSONRecord(raw []byte) (r *jsonRecord, ok bool) {
	keys, ok := topLevelKeys(raw)
	if !ok {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any // into an interface: encoding/json's objectInterface, no reflection per key
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	m, isObj := v.(map[string]any)
	if !isObj || len(m) != len(keys) {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok { // invalid UTF-8 in a key: decoded otherwise than written
			return nil, false
		}
	}
	if len(keys) == 0 {
		keys = nil // as the general path leaves it
	}
	return &jsonRecord{keys: keys, values: m}, true
}

// topLevelKeys lists an object's top-level keys in order, for a key spelled without escapes;
// false when raw is not shaped so (it need not be valid JSON otherwise: Decode checks that).
func topLevelKeys(raw []byte) ([]string, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	keys := make([]string, 0, 16)
	depth, expectKey := 1, true
	for i++; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"':
			end := i + 1
			for end < len(raw) && raw[end] != '"' {
				if raw[end] == '\\' {
					if depth == 1 && expectKey {
						return nil, false // an escaped key: the general path unescapes it
					}
					end++
				}
				end++
			}
			if end >= len(raw) {
				return nil, false
			}
			if depth == 1 && expectKey {
				keys = append(keys, string(raw[i+1:end]))
				expectKey = false
			}
			i = end
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return keys, true
			}
		case c == ',' && depth == 1:
			expectKey = true
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
