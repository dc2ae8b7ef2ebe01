package db

import (
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// decodeValue's scanner must decode every value exactly as encoding/json does (numbers as
// json.Number), or hand it over: the importer maps what it returns instead of decoding Raw.
func checkDecode(t *testing.T, js string) {
	t.Helper()
	var want any
	werr := decodeStd([]byte(js), &want)
	got, gerr := decodeValue([]byte(js))
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", js, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %#v, encoding/json gives %#v", js, got, want)
	}
}

func TestDecodeValueAsEncodingJSON(t *testing.T) {
	for _, js := range decodeSeeds {
		checkDecode(t, js)
	}
	// The scanner, not the fallback, takes the common jsonb shape.
	d := fastDecoder{b: `{"full_name": "Ann Lee", "n": 3, "plan": "pro", "tags": ["a", "b"], "x": null}`}
	if _, ok := d.value(); !ok {
		t.Fatal("a plain jsonb object went to encoding/json")
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, js := range decodeSeeds {
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, js string) { checkDecode(t, js) })
}

var decodeSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `9007199254740993`, `true`, `false`, `null`,
	`{"provider": "email", "providers": ["email"]}`,
	`{"full_name": "First1 Last1", "n": 1, "plan": "pro"}`,
	`{"a":{"b":[1,{"c":null}]},"d":[]}`,
	`{"a": 1, "a": 2}`,
	`{"q": "say \"hi\"\n", "u": "\u00e9\ud83d\ude00", "bad": "\ud800"}`,
	`{"name": "Zoë ✓ 日本"}`,
	"{\"ctl\": \"a\tb\"}",
	"\"\xff\xfe\"",
	`{"a": 01}`, `{"a": 1.}`, `{"a": .5}`, `{"a": -}`, `{"a": 1e}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{1: 2}`,
	`[1 2]`, `tru`, `nul`, `{"a": [true, false, null]} `, ` [ 1 , 2 ] `, `{"a": 1} x`, `"unterminated`,
}

// FuzzPGTimeFast: the day-number formatting writes what time.Time's does, for times and dates
// of every year it takes (1 to 9999), before and after 2000, with and without a fraction.
func FuzzPGTimeFast(f *testing.F) {
	for _, n := range []int64{0, 1, -1, 86400e6 - 1, -86400e6, 757382400123456, -63082281600000000, 252423993599999999, 1e6, 123} {
		f.Add(n, false)
	}
	for _, n := range []int64{0, -1, 8766, -730119, 2914, 2921939} {
		f.Add(n, true)
	}
	f.Fuzz(func(t *testing.T, n int64, date bool) {
		unit := time.Microsecond
		if date {
			unit, n = 24*time.Hour, int64(int32(n))
		}
		got, ok := appendPGTimeFast(nil, n, unit)
		if !ok {
			return
		}
		if want := appendPGTimeByTime(nil, n, unit); string(got) != string(want) {
			t.Fatalf("n %d (unit %v): %s; time formats %s", n, unit, got, want)
		}
	})
}

// FuzzTextValue: a text column's Value is what decoding its JSON gives, whatever the text
// holds (quotes, controls, bytes that are not UTF-8), with the shortcut that skips the JSON or
// without it.
func FuzzTextValue(f *testing.F) {
	for _, s := range []string{"", "bob@example.com", `say "hi"\n`, "a\tb\x00c", "Zoë ✓ 日本", "\xff\xfe", "\xed\xa0\x80", "<&>\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs := &pgRows{oids: []uint32{pgtype.TextOID}, kinds: []pgKind{pgText}, cols: []string{"t"}}
		row := &pgRow{t: &pgTable{rs: rs}, shape: &pgShape{null: []bool{false}}, data: s, end: []uint32{uint32(len(s))}}
		want, err := decodeString(string(appendColumn(nil, pgText, pgtype.TextOID, s)))
		if err != nil {
			t.Fatalf("the text's JSON does not decode: %v", err)
		}
		if got := row.Value(0); got != want {
			t.Errorf("Value %q, its JSON decodes to %q", got, want)
		}
	})
}
