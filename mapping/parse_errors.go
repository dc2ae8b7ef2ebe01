package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/userimport/userimport/internal/nearest"
)

// fieldsShape is what a mapping file looks like, for errors about its shape.
const fieldsShape = `a mapping is {"fields": {"email_address": "email", ...}}`

// topKeys are the keys a mapping file may hold at its top level, from its struct tags.
var topKeys = func() []string {
	var keys []string
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				add(f.Type)
				continue
			}
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				keys = append(keys, name)
			}
		}
	}
	add(reflect.TypeFor[file]())
	return keys
}()

// targetNames are the fields of POST /v1/users a mapping may set, for "did you mean".
func targetNames() []string {
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		names = append(names, t.name)
	}
	return names
}

// didYouMean is "; did you mean X?" when s looks like a typo of one of names, else "".
func didYouMean(s string, names []string) string {
	if near := nearest.Name(s, names); near != "" {
		return fmt.Sprintf("; did you mean %s?", near)
	}
	return ""
}

// decodeError says where in spec a decode error is (line and column) and, for a key the top
// level does not hold, what was meant: a field name there is a mapping without its wrapper.
func decodeError(spec []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s: %w", position(spec, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: %s: want %s, not a JSON %s", position(spec, typ.Offset), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: the JSON ends early (a missing } or ]?)", position(spec, int64(len(spec))))
	}
	if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		key = strings.Trim(key, `"`)
		at := position(spec, topKeyOffset(spec, key))
		if _, ok := targetByName[key]; ok {
			return fmt.Errorf("%s: %q is at the top level: %s", at, key, fieldsShape)
		}
		return fmt.Errorf("%s: unknown key %q at the top level%s (%s)", at, key, didYouMean(key, topKeys), fieldsShape)
	}
	return err
}

// position is "line L, column C" of byte offset off in spec (both from 1).
func position(spec []byte, off int64) string {
	off = min(max(off, 0), int64(len(spec)))
	head := spec[:off]
	line := bytes.Count(head, []byte("\n")) + 1
	col := len(head) - (bytes.LastIndexByte(head, '\n') + 1) + 1
	if off > 0 && col > 1 { // a syntax error's offset is just past the byte it stopped at
		col--
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// topKeyOffset is the offset just past key where the top-level object names it (the end of spec
// if it does not): an unknown field's error does not say where it is.
func topKeyOffset(spec []byte, key string) int64 {
	dec := json.NewDecoder(bytes.NewReader(spec))
	depth, wantKey := 0, false
	for {
		tok, err := dec.Token()
		if err != nil {
			return int64(len(spec))
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth == 1 {
				wantKey = tok == json.Delim('{')
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
			wantKey = depth == 1 // a value ended: a key comes next
		default:
			if depth != 1 {
				continue
			}
			if k, ok := tok.(string); ok && wantKey && k == key {
				return dec.InputOffset()
			}
			wantKey = !wantKey // a key, then its value
		}
	}
}
