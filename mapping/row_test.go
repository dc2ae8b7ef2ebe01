package mapping

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type sliceRow []any

func (s sliceRow) Value(i int) any { return s[i] }

// rowKeys are a row's non-NULL columns, and the row as the object a JSON record holds.
func rowKeys(names []string, row sliceRow) ([]string, map[string]any) {
	var keys []string
	vals := map[string]any{}
	for i, n := range names {
		if row[i] != nil {
			keys = append(keys, n)
			vals[n] = row[i]
		}
	}
	return keys, vals
}

// A row record answers every look-up as the JSON record of the same row does: exact keys,
// dotted paths into objects, columns whose names hold dots, NULLs, and loose names.
func TestRowRecordLooksUpAsJSONRecord(t *testing.T) {
	names := []string{"id", "meta", "meta.plan", "Email Address", "gone", "list"}
	row := sliceRow{"u1", map[string]any{"plan": "pro", "name": map[string]any{"first": "Ada"}}, "basic",
		"ada@example.com", nil, []any{"a", map[string]any{"k": json.Number("2")}}}
	keys, vals := rowKeys(names, row)
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

// A preset maps a row record exactly as it maps the JSON record of the same row, row after
// row (the second time through the columns each expression found once), loose names included.
func TestRowRecordAppliesAsJSONRecord(t *testing.T) {
	m, err := Preset("supabase", PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"id", "Email", "email_confirmed_at", "phone", "raw_user_meta_data", "raw_app_meta_data", "created_at", "deleted_at"}
	rows := []sliceRow{
		{"u1", "a@example.com", "2024-01-01T00:00:00Z", nil, map[string]any{"full_name": "Ada Lovelace", "plan": "pro"},
			map[string]any{"provider": "email"}, "2024-01-01T00:00:00Z", nil},
		{"u2", "b@example.com", nil, "15551234567", map[string]any{"first_name": "Bo"}, nil, "2024-02-01T10:00:00.5Z", nil},
		{"u3", "c@example.com", nil, nil, nil, nil, nil, "2024-03-01T00:00:00Z"},
	}
	cols := NewColumns(names)
	for round := range 2 {
		for _, row := range rows {
			keys, vals := rowKeys(names, row)
			got, gerr := m.Apply(RowRecord(cols, keys, row))
			want, werr := m.Apply(ObjectRecord(keys, vals))
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("round %d, %s: error %v; the JSON record's %v", round, row[0], gerr, werr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round %d, %s: row record mapped differently (-json +row):\n%s", round, row[0], diff)
			}
		}
	}
}
