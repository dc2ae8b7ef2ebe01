package db

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// appendValues writes one row of converted values as a JSON object, NULLs (nil) left out.
func appendValues(b []byte, keys [][]byte, vals []any) ([]byte, int, error) {
	b = append(b, '{')
	first := true
	for i, v := range vals {
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, keys[i]...)
		var err error
		if b, err = appendJSON(b, v); err != nil {
			return b, i, err
		}
	}
	return append(b, '}'), 0, nil
}

// appendJSON writes one converted value. Values come from the backends' converters: string,
// bool, the integer and float kinds, json.RawMessage (already valid JSON), json.Number,
// time.Time, []any and map[string]any (PostgreSQL arrays, hstore).
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return appendFloat(b, v, 64)
	case float32:
		return appendFloat(b, float64(v), 32)
	case json.RawMessage:
		return append(b, v...), nil
	case json.Number:
		return append(b, v...), nil
	case time.Time:
		return appendString(b, formatTime(v)), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("cannot write a %T as JSON: %w", v, err)
	}
	return append(b, enc...), nil
}

func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendString(b, strconv.FormatFloat(f, 'g', -1, bits)), nil // JSON has no NaN: keep it readable
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits), nil
}

// formatTime is RFC 3339 in UTC, with as many fraction digits as the value has.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// appendString quotes s as JSON. Invalid UTF-8 (bytes columns) becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

// appendCompact appends JSON text without its insignificant whitespace.
func appendCompact(b, js []byte) []byte {
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, js); err != nil {
		return appendStringBytes(b, js) // not JSON after all: keep it as text
	}
	return buf.Bytes()
}

// appendStringBytes is appendString for bytes, without a copy in the common case.
func appendStringBytes(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			enc, _ := json.Marshal(string(s))
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// boolName tells whether a column name reads as a flag, for MySQL and SQLite 0/1 integers:
// is…/has… (isAnonymous, is_sso_user, has_oauth_account), …verified, …enabled, …confirmed,
// banned, locked, disabled, deleted.
func boolName(name string) bool {
	if strings.HasPrefix(name, "is_") || strings.HasPrefix(name, "has_") {
		return true
	}
	for _, p := range []string{"is", "has"} {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			if r, _ := utf8.DecodeRuneInString(rest); unicode.IsUpper(r) {
				return true
			}
		}
	}
	l := strings.ToLower(name)
	for _, s := range []string{"verified", "enabled", "confirmed", "banned", "locked", "disabled", "deleted"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

// decodeStd is encoding/json's decode of one value, numbers as json.Number.
func decodeStd(js []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("cannot decode the value written: %w", err)
	}
	return nil
}
