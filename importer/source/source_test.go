package source

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDetect(t *testing.T) {
	for path, want := range map[string]struct {
		f  Format
		gz bool
	}{
		"users.csv": {CSV, false}, "dir.v2/Users.CSV.GZ": {CSV, true}, "a.jsonl": {JSONL, false},
		"a.ndjson.gz": {JSONL, true}, "export.json": {JSON, false}, "export.json.gz": {JSON, true},
	} {
		f, gz, err := Detect(path)
		if err != nil || f != want.f || gz != want.gz {
			t.Errorf("Detect(%q) = %q, %v, %v; want %q, %v", path, f, gz, err, want.f, want.gz)
		}
	}
	for _, path := range []string{"users.txt", "users.gz", "users", "csv"} {
		if _, _, err := Detect(path); err == nil {
			t.Errorf("Detect(%q): no error", path)
		}
	}
}

func TestGzipEachFormat(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		in   string
		want []string // Raw of each record
	}{
		{CSV, "a,b\r\n1,2\n3,\"4\n5\"\n", []string{"1,2", "3,\"4\n5\""}},
		{JSONL, "{\"a\":1}\n\n{\"a\":2}\n", []string{`{"a":1}`, `{"a":2}`}},
		{JSON, `{"users":[{"a":1},{"a":2}]}`, []string{`{"a":1}`, `{"a":2}`}},
	} {
		_, recs := mustReadAll(t, gz(t, []byte(tc.in)), Options{Format: tc.f, Gzip: true})
		var got []string
		for _, r := range recs {
			if r.Err != nil {
				t.Errorf("%s: %v", tc.f, r.Err)
			}
			got = append(got, string(r.Raw))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s gzip records (-want +got):\n%s", tc.f, diff)
		}
	}
}

func TestGzipFileErrors(t *testing.T) {
	if _, _, err := readAll(t, []byte("a,b\n1,2\n"), Options{Format: CSV, Gzip: true}); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("plain input as gzip: %v", err)
	}
	z := gz(t, []byte(strings.Repeat("{\"a\":1}\n", 10_000)))
	_, _, err := readAll(t, z[:len(z)/2], Options{Format: JSONL, Gzip: true})
	if err == nil {
		t.Error("truncated gzip: no file-level error")
	}
}

func TestOpenOptionErrors(t *testing.T) {
	if _, err := Open(strings.NewReader("{}"), Options{Format: JSON, Header: []string{"a"}}); err == nil {
		t.Error("header for JSON: no error")
	}
	if _, err := Open(strings.NewReader(""), Options{Format: "xml"}); err == nil {
		t.Error("unknown format: no error")
	}
}

// roundTrip writes recs with a Writer and reads them back.
func roundTrip(t *testing.T, f Format, header []string, recs []Record) []Record {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, f, header)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h, back, err := readAll(t, buf.Bytes(), Options{Format: f})
	if err != nil {
		t.Fatalf("reading back %q: %v", buf.String(), err)
	}
	if f == CSV {
		if diff := cmp.Diff(header, h); diff != "" {
			t.Errorf("header read back (-want +got):\n%s", diff)
		}
	}
	return back
}

func TestWriterCSVRoundTrip(t *testing.T) {
	in := "id,name,note\n1,\"Doe, J\",\"say \"\"hi\"\"\"\n2,x\n3,\"multi\r\nline\",\n4,\n5,a\"b,c\n6,,\n7,\"open"
	h, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	back := roundTrip(t, CSV, h, recs)
	if len(back) != len(recs) {
		t.Fatalf("read back %d records, wrote %d", len(back), len(recs))
	}
	for i, r := range recs {
		b := back[i]
		if diff := cmp.Diff(r.Cells, b.Cells); diff != "" {
			t.Errorf("record %d cells (-wrote +read):\n%s", i+1, diff)
		}
		if r.Err != nil && string(r.Raw) != string(b.Raw) {
			t.Errorf("record %d raw: wrote %q, read %q", i+1, r.Raw, b.Raw)
		}
		if (r.Err == nil) != (b.Err == nil) {
			t.Errorf("record %d: error %v, read back as %v", i+1, r.Err, b.Err)
		}
	}
}

func TestWriterCSVUnterminatedRowGoesLast(t *testing.T) {
	recs := []Record{
		{Raw: []byte("1,\"open\n2,3")},
		{Cells: []string{"4", "5"}},
		{Raw: []byte("6,7,8")},
	}
	back := roundTrip(t, CSV, []string{"a", "b"}, recs)
	got := []string{}
	for _, b := range back {
		got = append(got, string(b.Raw))
	}
	// Read back, the lines after the stray quote are records again.
	if diff := cmp.Diff([]string{"4,5", "6,7,8", "1,\"open", "2,3"}, got); diff != "" {
		t.Errorf("rows read back (-want +got):\n%s", diff)
	}
}

func TestWriterCSVCellWithCRLF(t *testing.T) {
	back := roundTrip(t, CSV, []string{"a\r\nb", "c"}, []Record{{Cells: []string{"x\r\ny\r\n", "\r\r\n"}}})
	if len(back) != 1 {
		t.Fatalf("read back %d records", len(back))
	}
	if diff := cmp.Diff([]string{"x\r\ny\r\n", "\r\r\n"}, back[0].Cells); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
}

func TestWriterCSVSingleEmptyColumn(t *testing.T) {
	back := roundTrip(t, CSV, []string{""}, []Record{{Cells: []string{""}}, {Cells: []string{"x"}}})
	if len(back) != 2 || back[0].Cells[0] != "" || back[1].Cells[0] != "x" {
		t.Fatalf("read back %+v", back)
	}
}

func TestWriterJSONRoundTrip(t *testing.T) {
	in := "[{\"id\":1,\"n\":1e400,\"id\":2},\n5,\n{\"id\":\n  3}]"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
	for _, f := range []Format{JSON, JSONL} {
		if f == JSONL {
			recs = recs[:1] // JSONL needs one line per record
		}
		back := roundTrip(t, f, nil, recs)
		if len(back) != len(recs) {
			t.Fatalf("%s: read back %d records, wrote %d", f, len(back), len(recs))
		}
		for i := range recs {
			if string(back[i].Raw) != string(recs[i].Raw) || (back[i].Err == nil) != (recs[i].Err == nil) {
				t.Errorf("%s record %d: wrote %q (%v), read %q (%v)", f, i+1, recs[i].Raw, recs[i].Err, back[i].Raw, back[i].Err)
			}
		}
	}
}

func TestWriterEmptyAndNoContent(t *testing.T) {
	for f, want := range map[Format]string{JSON: "[\n]\n", JSONL: "", CSV: "a,b\n"} {
		var buf bytes.Buffer
		w := NewWriter(&buf, f, []string{"a", "b"})
		if err := w.Write(Record{Num: 1, Err: &RecordError{Line: 2, Msg: "too long"}}); err != ErrNoContent {
			t.Errorf("%s: Write of a record without content: %v", f, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("%s: empty output %q, want %q", f, buf.String(), want)
		}
	}
}
