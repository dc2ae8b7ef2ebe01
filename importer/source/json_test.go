package source

import (
	"strings"
	"testing"
)

func TestJSONArray(t *testing.T) {
	huge := `{"n":123456789012345678901234567890e999,"k":1,"k":"dup"}`
	in := "\xEF\xBB\xBF[\n  {\"id\":1},\n  {\"id\":2,\n   \"x\":[1,2]},\n  " + huge + ",\n  5,\n  {\"id\":\"\xff\"},\n\n  {\"id\":3}\n]\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{
		{Line: 2, Raw: `{"id":1}`},
		{Line: 3, Raw: "{\"id\":2,\n   \"x\":[1,2]}"},
		{Line: 5, Raw: huge},
		{Line: 6, Raw: "5", Err: "line 6: not a JSON object (a number)"},
		{Line: 7, Raw: "-", Err: "line 7: invalid UTF-8"},
		{Line: 9, Raw: `{"id":3}`},
	})
}

func TestJSONObjectHoldingArray(t *testing.T) {
	in := `{"hash_config":{"algorithm":"SCRYPT","rounds":8,"nested":[1,{"a":[]}]},"count":2,` + "\n" +
		`"users":[{"localId":"a"},` + "\n" + `{"localId":"b"}],"other":[{"x":1}],"tail":{"t":[]}}` + "\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{
		{Line: 2, Raw: `{"localId":"a"}`},
		{Line: 3, Raw: `{"localId":"b"}`},
	})
	_, recs = mustReadAll(t, []byte(in), Options{Format: JSON, Field: "other"})
	checkRaw(t, recs, []rawWant{{Line: 3, Raw: `{"x":1}`}})

	for field, want := range map[string]string{"missing": `no field "missing"`, "count": `"count" is not an array`} {
		if _, _, err := readAll(t, []byte(in), Options{Format: JSON, Field: field}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("field %q: error %v, want %q", field, err, want)
		}
	}
}

func TestJSONEmptyAndFileErrors(t *testing.T) {
	for _, in := range []string{"[]", " [ ] \n", `{"users":[]}`} {
		_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
		if len(recs) != 0 {
			t.Errorf("%q: %d records, want none", in, len(recs))
		}
	}
	for in, want := range map[string]string{
		"":               "empty input",
		"  \n":           "empty input",
		`"users"`:        "not a JSON array",
		`{"a":1,"b":{}}`: "holds no array",
		"\n\n{,":         "line 3: JSON syntax error",
		"[":              "ends",
	} {
		_, _, err := readAll(t, []byte(in), Options{Format: JSON})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", in, err, want)
		}
	}
}

func TestJSONSyntaxErrorMidArray(t *testing.T) {
	in := "[\n{\"id\":1},\n{\"id\":2},\n{\"id\":\n  x},\n{\"id\":4}\n]"
	_, recs, err := readAll(t, []byte(in), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{
		{Line: 2, Raw: `{"id":1}`},
		{Line: 3, Raw: `{"id":2}`},
		{Line: 4, Raw: "", Err: "line 4: invalid JSON (at line 5)"},
	})
	if err == nil || !strings.Contains(err.Error(), "line 5: JSON syntax error") {
		t.Fatalf("file-level error %v, want one naming line 5", err)
	}
}

func TestJSONMissingCommaAndTrailingData(t *testing.T) {
	_, recs, err := readAll(t, []byte("[{\"a\":1}\n {\"a\":2}]"), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"a":1}`}, {Line: 2, Raw: "", Err: "line 2: invalid JSON"}})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("missing comma: file error %v", err)
	}

	_, recs, err = readAll(t, []byte("[{\"a\":1}]\n[]"), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"a":1}`}})
	if err == nil || !strings.Contains(err.Error(), "line 2: trailing data") {
		t.Errorf("trailing document: file error %v", err)
	}

	_, recs, err = readAll(t, []byte("[{\"a\":1}\n"), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"a":1}`}})
	if err == nil {
		t.Error("unclosed array: no file error")
	}
}

func TestJSONDeepNesting(t *testing.T) {
	// 10,000 levels is encoding/json's limit: still valid JSON, so these are plain non-objects.
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	_, recs := mustReadAll(t, []byte(deep), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: "-", Err: "not a JSON object (an array)"}})
	_, recs = mustReadAll(t, []byte(`{"a":{"b":`+deep+`},"users":[{"id":1}]}`), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"id":1}`}})

	// Deeper than the limit: an error record keeping the element, and the array goes on.
	deeper := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	_, recs = mustReadAll(t, []byte("[{\"a\":1},\n{\"a\":"+deeper+"},\n{\"a\":3}]"), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"a":1}`}, {Line: 2, Raw: `{"a":` + deeper + `}`, Err: "line 2: invalid JSON: nested too deeply"}, {Line: 3, Raw: `{"a":3}`}})
	// An array that does not hold objects is not the records, even a deep one: it is walked past.
	_, recs = mustReadAll(t, []byte(`{"a":`+deeper+`,"users":[{"id":3}]}`), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"id":3}`}})
	// Named by Field, it is the records: its element is refused.
	_, recs = mustReadAll(t, []byte(`{"a":`+deeper+`,"users":[]}`), Options{Format: JSON, Field: "a"})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: "-", Err: "nested too deeply"}})
	// Skipped fields are walked token by token, which has no depth limit.
	_, recs = mustReadAll(t, []byte(`{"a":{"b":`+deeper+`},"users":[{"id":2}]}`), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"id":2}`}})
}

func TestJSONLongElement(t *testing.T) {
	in := "[{\"a\":1},\n{\"a\":\"" + strings.Repeat("x", 3<<20) + "\"},\n{\"a\":3}]"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
	checkRaw(t, recs, []rawWant{{Line: 1, Raw: `{"a":1}`}, {Line: 2, Raw: "", Err: "line 2: record longer than 1048576 bytes"}, {Line: 3, Raw: `{"a":3}`}})
	// Many small elements never trip the limit, however far the decoder reads ahead.
	var b strings.Builder
	b.WriteString("[")
	for i := range 20_000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"id":"` + strings.Repeat("y", 50) + `"}`)
	}
	b.WriteString("]")
	_, recs = mustReadAll(t, []byte(b.String()), Options{Format: JSON, MaxRecordSize: 100})
	if len(recs) != 20_000 || recs[19_999].Line != 20_000 {
		t.Fatalf("got %d records, last line %d", len(recs), recs[len(recs)-1].Line)
	}
}
