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
	sameLookups(t, got, want, "the JSON record", "id", "meta", "meta.plan", "meta.name.first", "meta.name", "meta.missing",
		"gone", "gone.x", "absent", "absent.x", "email_address", "emailaddress", "list.1.k", "list.*", "list.0", "ID")
}

// sameLookups looks each key up in got and want twice (the second time from the cache of the
// key's columns) and reports where got differs from want, which is named wantName.
func sameLookups(t *testing.T, got, want Record, wantName string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		for round := range 2 {
			gv, gok := got.Lookup(k)
			wv, wok := want.Lookup(k)
			if gok != wok || !reflect.DeepEqual(gv, wv) {
				t.Errorf("round %d, Lookup(%q) = %#v, %v; %s gives %#v, %v", round, k, gv, gok, wantName, wv, wok)
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

// textRow is a row whose object columns are JSON text, as a PostgreSQL json or jsonb column
// arrives: it offers RowText, so the mapping scans and copies that text instead of decoding it.
type textRow struct {
	vals    []any
	text    []string // the JSON object text of column i, or ""
	decodes *int     // how often a text column was decoded
	room    *RowScratch
}

func (r textRow) Scratch() *RowScratch { return r.room }

func (r textRow) Value(i int) any {
	if r.text[i] != "" {
		*r.decodes++
		v, err := decodeJSON(r.text[i])
		if err != nil {
			panic(err)
		}
		return v
	}
	return r.vals[i]
}
func (r textRow) Null(i int) bool { return r.text[i] == "" && r.vals[i] == nil }
func (r textRow) JSONText(i int) (string, bool) {
	return r.text[i], r.text[i] != ""
}
func (r textRow) Present(i int) (ok, known bool) {
	if r.text[i] != "" {
		return true, true
	}
	_, ok = present(r.vals[i])
	return ok, true
}

// asTextRow holds each object of row as text: texts[i] when given (spacing, key order and
// escapes as a database writes them), else the object marshalled.
func asTextRow(t testing.TB, row sliceRow, texts map[int]string) textRow {
	tr := textRow{vals: make([]any, len(row)), text: make([]string, len(row)), decodes: new(int), room: &RowScratch{}}
	for i, v := range row {
		if s, ok := texts[i]; ok {
			tr.text[i] = s
			continue
		}
		if _, ok := v.(map[string]any); ok {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			tr.text[i] = string(b)
			continue
		}
		tr.vals[i] = v
	}
	return tr
}

// A row whose object columns are text answers every look-up as the decoded row does: paths
// found by scanning the text, and the cases the scan leaves to the decoder (escapes, nested
// objects and arrays taken whole, JSON inside a string).
func TestRowTextLooksUpAsDecoded(t *testing.T) {
	names := []string{"id", "meta", "meta.plan", "other", "esc", "gone"}
	texts := map[int]string{
		1: `{"plan": "pro", "name": {"first": "Ada", "x.y": 1}, "blank": "  ", "n": 0, "ok": true, "no": false, "nil": null,` +
			` "list": ["a", {"k": 2}], "enc": "{\"a\": 1}", "dup": 1, "dup": "last", "a.b": "dotted", "a": {"b": "nested"}, "s": "str"}`,
		3: ` {"plan":{"tier":"gold"},"plan.tier":"  "}`,
		4: `{"k\u00e9y": "v", "p": "x"}`,
	}
	decoded := sliceRow{"u1", nil, "basic", nil, nil, nil}
	for i, s := range texts {
		v, err := decodeJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		decoded[i] = v
	}
	row := asTextRow(t, decoded, texts)
	keys, _ := rowKeys(names, decoded)
	cols := NewColumns(names)
	got := RowRecord(cols, keys, row)
	want := RowRecord(cols, keys, decoded)
	sameLookups(t, got, want, "decoded", "meta.plan", "meta.name.first", "meta.name", "meta.name.x.y", "meta.blank", "meta.n", "meta.ok",
		"meta.no", "meta.nil", "meta.list", "meta.list.1.k", "meta.enc.a", "meta.dup", "meta.a.b", "meta.s.x", "meta.missing",
		"other.plan.tier", "other.plan", "esc.kéy", "esc.p", "gone.x", "meta")
}

// A preset maps a row with its jsonb columns as text exactly as it maps the decoded row:
// names from the metadata's paths, metadata copied in canonical form.
func TestRowTextAppliesAsDecoded(t *testing.T) {
	m, err := Preset("supabase", PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A column named as people write it (Phone_Confirmed_At), and presence conditions on
	// NULL, blank and set columns.
	names := []string{"id", "email", "raw_user_meta_data", "raw_app_meta_data", "created_at", "email_confirmed_at", "deleted_at",
		"phone", "Phone_Confirmed_At"}
	cases := []map[int]string{
		{2: `{"n": 7, "plan": "pro", "full_name": "Ada King Lovelace"}`, 3: `{"provider": "email", "providers": ["email", "google"]}`},
		{2: `{"first_name": "Bo", "last_name": "  ", "name": "Bo Diddley", "nested": {"z": 1, "a": [true, null]}}`, 3: `{}`},
		{2: `{"full_name": "Caf\u00e9 Owner"}`, 3: `{"a": 1, "a": 2}`}, // escapes and a duplicate: decoded instead
		{2: `{"name": "Di"}`},
	}
	others := [][]any{
		{"2024-01-01T00:00:00Z", nil, "15551234567", "2024-01-02T00:00:00Z"},
		{nil, nil, "15551234567", nil},
		{"  ", nil, nil, nil},
		{nil, "2024-05-01T00:00:00Z", nil, nil},
	}
	decodes := []bool{false, false, true, false}
	cols := NewColumns(names)
	for n, texts := range cases {
		decoded := append(sliceRow{fmt.Sprint("u", n), "a@example.com", nil, nil, "2024-01-01T00:00:00Z"}, others[n]...)
		for i, s := range texts {
			if decoded[i], err = decodeJSON(s); err != nil {
				t.Fatal(err)
			}
		}
		keys, _ := rowKeys(names, decoded)
		for round := range 2 {
			tr := asTextRow(t, decoded, texts)
			got, gerr, gverr := m.ApplyValid(RowRecord(cols, keys, tr))
			if (*tr.decodes > 0) != decodes[n] {
				t.Errorf("case %d: the text columns were decoded %d times; decoded at all: want %v", n, *tr.decodes, decodes[n])
			}
			want, werr, wverr := m.ApplyValid(RowRecord(cols, keys, decoded))
			if fmt.Sprint(gerr, gverr) != fmt.Sprint(werr, wverr) {
				t.Fatalf("case %d round %d: error %v; decoded %v", n, round, gerr, werr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("case %d round %d: text row mapped differently (-decoded +text):\n%s", n, round, diff)
			}
		}
	}
}

// FuzzTextPath: whenever the scan decides, it finds what walkPath finds in the decoded object.
func FuzzTextPath(f *testing.F) {
	for _, c := range [][2]string{{`{"a": 1, "b": {"c": "x"}}`, "b.c"}, {`{"a.b": " ", "a": {"b": 2}}`, "a.b"},
		{`{"a": "{\"b\": 1}"}`, "a.b"}, {`{"a": [1, 2]}`, "a.1"}, {`{"a": null, "a": "z"}`, "a"}, {`{}`, "a"},
		{"{\"a\":\t1,\n \"b\": \"x\"}", "b"}, {"{\"a\": \"x\ty\"}", "a"}, {"{\"a\":\n\"\\\\\"}", "a"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, s, p string) {
		v, found, decided := textPath(s, p)
		if !decided {
			return
		}
		d, err := decodeJSON(s)
		if err != nil {
			t.Fatalf("textPath(%q, %q) decided, but the text does not decode: %v", s, p, err)
		}
		if _, ok := d.(map[string]any); !ok {
			t.Fatalf("textPath(%q, %q) decided on a non-object", s, p)
		}
		wv, wok := walkPath(d, p, true)
		if found != wok || !reflect.DeepEqual(v, wv) {
			t.Fatalf("textPath(%q, %q) = %#v, %v; walkPath gives %#v, %v", s, p, v, found, wv, wok)
		}
	})
}

// A row with more JSON columns and members than a row's index holds inline reads each as the
// decoded row does.
func TestRowTextManyColumns(t *testing.T) {
	var names []string
	texts := map[int]string{}
	decoded := sliceRow{}
	for i := range 5 {
		names = append(names, fmt.Sprint("m", i))
		texts[i] = fmt.Sprintf(`{"a": %d, "b": "x%d", "c": true, "d": null, "e": 1.5}`, i, i)
		v, err := decodeJSON(texts[i])
		if err != nil {
			t.Fatal(err)
		}
		decoded = append(decoded, v)
	}
	keys, _ := rowKeys(names, decoded)
	cols := NewColumns(names)
	tr := asTextRow(t, decoded, texts)
	got := RowRecord(cols, keys, tr)
	want := RowRecord(cols, keys, decoded)
	defer func() {
		if *tr.decodes != 0 {
			t.Errorf("the text columns were decoded %d times: the scan should answer every look-up", *tr.decodes)
		}
	}()
	for round := range 2 {
		for _, n := range names {
			for _, k := range []string{"a", "b", "c", "d", "e", "z"} {
				gv, gok := got.Lookup(n + "." + k)
				wv, wok := want.Lookup(n + "." + k)
				if gok != wok || !reflect.DeepEqual(gv, wv) {
					t.Errorf("round %d, %s.%s = %#v, %v; decoded gives %#v, %v", round, n, k, gv, gok, wv, wok)
				}
			}
		}
	}
}
