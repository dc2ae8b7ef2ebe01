package mapping

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodeMetaFast must write exactly what metaValue's encoding/json writes, or decline.
func checkMetaEnc(t *testing.T, js string) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(js)))
	d.UseNumber()
	var o map[string]any
	if d.Decode(&o) != nil || o == nil {
		return
	}
	got, ok := encodeMetaFast(o)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		if ok {
			t.Fatalf("%q: fast wrote %s where encoding/json fails: %v", js, got, err)
		}
		return
	}
	if want := bytes.TrimRight(buf.Bytes(), "\n"); ok && !bytes.Equal(got, want) {
		t.Fatalf("%q: fast %s, encoding/json %s", js, got, want)
	}
}

var metaEncSeeds = []string{
	`{"full_name": "First1 Last1", "plan": "pro", "n": 1}`,
	`{"provider": "email", "providers": ["email"]}`,
	`{"z": {"b": [1, 2.5e3, -0, true, null, {"y": "x", "a": []}]}, "a": {}}`,
	`{"html": "<a href='x'>&</a>", "q": "say \"hi\"", "u": "Zoë", "ls": "a\u2028b"}`,
}

func TestEncodeMetaFastAsEncodingJSON(t *testing.T) {
	for _, js := range metaEncSeeds {
		checkMetaEnc(t, js)
	}
	if _, ok := encodeMetaFast(map[string]any{"plan": "pro", "n": json.Number("3"), "tags": []any{"a"}}); !ok {
		t.Fatal("a plain jsonb object went to encoding/json")
	}
	for _, bad := range []any{json.Number(""), json.Number("01"), json.Number("1e"), 1.5, "a\"b", map[string]string{}} {
		if raw, ok := encodeMetaFast(map[string]any{"k": bad}); ok {
			t.Errorf("%#v: fast wrote %s, want it left to encoding/json", bad, raw)
		}
	}
}

func FuzzEncodeMetaFast(f *testing.F) {
	for _, js := range metaEncSeeds {
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, js string) { checkMetaEnc(t, js) })
}
