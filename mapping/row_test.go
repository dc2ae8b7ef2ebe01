package mapping

import (
	"encoding/json"
	"reflect"
	"testing"
)

type sliceRow []any

func (s sliceRow) Value(i int) any { return s[i] }

// A row record answers every look-up as the JSON record of the same row does: exact keys,
// dotted paths into objects, columns whose names hold dots, NULLs, and loose names.
func TestRowRecordLooksUpAsJSONRecord(t *testing.T) {
	names := []string{"id", "meta", "meta.plan", "Email Address", "gone", "list"}
	row := sliceRow{"u1", map[string]any{"plan": "pro", "name": map[string]any{"first": "Ada"}}, "basic",
		"ada@example.com", nil, []any{"a", map[string]any{"k": json.Number("2")}}}
	var keys []string
	vals := map[string]any{}
	for i, n := range names {
		if row[i] != nil {
			keys = append(keys, n)
			vals[n] = row[i]
		}
	}
	cols := NewColumns(names)
	got := RowRecord(cols, keys, row)
	want := ObjectRecord(keys, vals)
	if !reflect.DeepEqual(got.Keys(), want.Keys()) {
		t.Fatalf("keys %q, want %q", got.Keys(), want.Keys())
	}
	for _, k := range []string{"id", "meta", "meta.plan", "meta.name.first", "meta.name", "meta.missing",
		"gone", "gone.x", "absent", "absent.x", "email_address", "emailaddress", "list.1.k", "list.*", "list.0", "ID"} {
		for round := range 2 { // the second time from the cache of the key's columns
			gv, gok := got.Lookup(k)
			wv, wok := want.Lookup(k)
			if gok != wok || !reflect.DeepEqual(gv, wv) {
				t.Errorf("round %d, Lookup(%q) = %#v, %v; the JSON record gives %#v, %v", round, k, gv, gok, wv, wok)
			}
		}
	}
}
