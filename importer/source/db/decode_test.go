package db

import (
	"reflect"
	"testing"
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
