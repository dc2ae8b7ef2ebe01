package mapping

import (
	"reflect"
	"strings"
	"testing"
)

// walkPath must find what walk finds for every path, dotted keys and encoded JSON included.
func checkWalkPath(t *testing.T, doc, path string) {
	t.Helper()
	v, err := decodeJSON(doc)
	if err != nil {
		return
	}
	wv, wok := walk(v, strings.Split(path, "."))
	gv, gok := walkPath(v, path, true)
	if gok != wok || !reflect.DeepEqual(gv, wv) {
		t.Fatalf("%s in %s: walkPath %#v (%v), walk %#v (%v)", path, doc, gv, gok, wv, wok)
	}
}

var walkSeeds = [][2]string{
	{`{"a":{"b":"c"}}`, "a.b"},
	{`{"a.b":"x","a":{"b":"y"}}`, "a.b"},
	{`{"a.b":{"c":" "},"a":{"b":{"c":"z"}}}`, "a.b.c"},
	{`{"ids":[{"p":"g"},{"p":"e"}]}`, "ids.1.p"},
	{`{"ids":[{"p":"g"},{"q":1},{"p":"e"}]}`, "ids.*.p"},
	{`{"m":"{\"plan\":\"pro\"}"}`, "m.plan"},
	{`{"a":{"":{"b":1}}}`, "a..b"},
	{`{"a":[1,2]}`, "a.-1"},
	{`{"a":[1,2]}`, "a.*"},
	{`{"a":null}`, "a.b"},
	{`{"a":{"b":""}}`, "a.b"},
}

func TestWalkPathAsWalk(t *testing.T) {
	for _, s := range walkSeeds {
		checkWalkPath(t, s[0], s[1])
	}
	if v, ok := walkPath(map[string]any{"a": map[string]any{"b": "c"}}, "a.b", true); !ok || v != "c" {
		t.Fatalf("a.b = %#v, %v; want c", v, ok)
	}
}

func FuzzWalkPath(f *testing.F) {
	for _, s := range walkSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, doc, path string) { checkWalkPath(t, doc, path) })
}
