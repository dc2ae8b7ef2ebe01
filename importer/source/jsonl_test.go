package source

import (
	"strings"
	"testing"
)

type rawWant struct {
	Line int
	Raw  string // "-" = do not check
	Err  string // substring; "" = no error
}

func checkRaw(t *testing.T, recs []Record, want []rawWant) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Num != i+1 || r.Line != w.Line {
			t.Errorf("record %d: Num %d Line %d, want Line %d", i+1, r.Num, r.Line, w.Line)
		}
		if w.Raw != "-" && string(r.Raw) != w.Raw {
			t.Errorf("record %d: Raw = %.80q, want %.80q", i+1, r.Raw, w.Raw)
		}
		if w.Err == "" && r.Err != nil {
			t.Errorf("record %d: unexpected error %v", i+1, r.Err)
		}
		if w.Err != "" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), w.Err) {
				t.Errorf("record %d: error %v, want it to contain %q", i+1, r.Err, w.Err)
			} else {
				recErr(t, r)
			}
		}
		if r.Cells != nil {
			t.Errorf("record %d: JSON record has cells", i+1)
		}
	}
}

func TestJSONLRecords(t *testing.T) {
	huge := `{"n":123456789012345678901234567890.5e-400,"a":1,"a":2}`
	in := "\xEF\xBB\xBF{\"id\":1}\r\n\n   \n" +
		"{\"id\":2} x\n" + // trailing garbage
		"{\"id\":\n" + // cut short
		"[1,2]\n" + // not an object
		"{\"id\":\"\xff\"}\n" + // invalid UTF-8
		"{\"id\":\"a\x00b\"}\n" + // raw NUL
		huge + "\n" +
		"  {\"id\":3}  \n" +
		"{\"id\":4}" // no final newline
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSONL})
	checkRaw(t, recs, []rawWant{
		{Line: 1, Raw: `{"id":1}`},
		{Line: 4, Raw: `{"id":2} x`, Err: "line 4: trailing data after the JSON value (column 9)"},
		{Line: 5, Raw: `{"id":`, Err: "line 5: invalid JSON"},
		{Line: 6, Raw: `[1,2]`, Err: "line 6: not a JSON object (an array)"},
		{Line: 7, Raw: "-", Err: "line 7: invalid UTF-8"},
		{Line: 8, Raw: "-", Err: "line 8: invalid JSON"},
		{Line: 9, Raw: huge},
		{Line: 10, Raw: `  {"id":3}  `},
		{Line: 11, Raw: `{"id":4}`},
	})
}

func TestJSONLDeepNestingAndLongLines(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "}"
	long := `{"a":"` + strings.Repeat("x", 10<<20) + `"}`
	in := deep + "\n" + long + "\n" + `{"ok":true}` + "\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSONL})
	checkRaw(t, recs, []rawWant{
		{Line: 1, Raw: "-", Err: "line 1: invalid JSON: nested too deeply"},
		{Line: 2, Raw: "", Err: "line 2: line longer than 1048576 bytes"},
		{Line: 3, Raw: `{"ok":true}`},
	})
}

func TestJSONLSmallLimit(t *testing.T) {
	in := "{\"a\":1}\r\n{\"a\":12}\n{\"a\":2}"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSONL, MaxRecordSize: 7})
	checkRaw(t, recs, []rawWant{
		{Line: 1, Raw: `{"a":1}`},
		{Line: 2, Raw: "", Err: "line 2: line longer than 7 bytes"},
		{Line: 3, Raw: `{"a":2}`},
	})
}

func TestJSONLEmpty(t *testing.T) {
	if _, err := Open(strings.NewReader(""), Options{Format: JSONL}); err == nil || !strings.Contains(err.Error(), "empty input") {
		t.Errorf("zero bytes: error %v, want empty input", err)
	}
	for _, in := range []string{"\n\n", "\r\n  \n"} {
		_, recs := mustReadAll(t, []byte(in), Options{Format: JSONL})
		if len(recs) != 0 {
			t.Errorf("%q: %d records, want none", in, len(recs))
		}
	}
}

func TestJSONLErrorsHoldNoContents(t *testing.T) {
	in := `{"password":"SECRET"` + "\n" + `{"p":"SECRET"} SECRET` + "\n" + `{"p":SECRET}` + "\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSONL})
	for _, r := range recs {
		if r.Err == nil {
			t.Errorf("record %d: want an error", r.Num)
		} else if strings.Contains(r.Err.Error(), "SECRET") || strings.Contains(r.Err.Error(), "'S'") {
			t.Errorf("record %d error leaks contents: %v", r.Num, r.Err)
		}
	}
}
