package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type csvWant struct {
	Line  int
	Cells []string
	Raw   string
	Err   string // substring of Err.Error(); "" = no error
}

func checkCSV(t *testing.T, recs []Record, want []csvWant) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Num != i+1 {
			t.Errorf("record %d: Num = %d", i+1, r.Num)
		}
		if r.Line != w.Line {
			t.Errorf("record %d: Line = %d, want %d", i+1, r.Line, w.Line)
		}
		if w.Err == "" {
			if r.Err != nil {
				t.Errorf("record %d: unexpected error %v", i+1, r.Err)
			}
			if diff := cmp.Diff(w.Cells, r.Cells); diff != "" {
				t.Errorf("record %d cells (-want +got):\n%s", i+1, diff)
			}
		} else {
			if r.Err == nil || !strings.Contains(r.Err.Error(), w.Err) {
				t.Errorf("record %d: error %v, want it to contain %q", i+1, r.Err, w.Err)
			}
			recErr(t, r)
			if r.Cells != nil {
				t.Errorf("record %d: error record has cells", i+1)
			}
		}
		if w.Raw != "-" && string(r.Raw) != w.Raw {
			t.Errorf("record %d: Raw = %q, want %q", i+1, r.Raw, w.Raw)
		}
	}
}

func TestCSVLineEndsBOMAndQuotedNewlines(t *testing.T) {
	in := "\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\n2,c\r\n\n\r\n3,\"x,\"\"y\"\"\"\n4,\"multi\n\nline\"\r\n5,last"
	h, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	if diff := cmp.Diff([]string{"id", "name"}, h); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	checkCSV(t, recs, []csvWant{
		{Line: 2, Cells: []string{"1", "a\nb"}, Raw: "1,\"a\r\nb\""},
		{Line: 4, Cells: []string{"2", "c"}, Raw: "2,c"},
		{Line: 7, Cells: []string{"3", `x,"y"`}, Raw: `3,"x,""y"""`},
		{Line: 8, Cells: []string{"4", "multi\n\nline"}, Raw: "4,\"multi\n\nline\""},
		{Line: 11, Cells: []string{"5", "last"}, Raw: "5,last"},
	})
}

func TestCSVWrongFieldCounts(t *testing.T) {
	in := "a,b,c\n1,2\n1,2,3,4\n5,6,7\n,,\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Raw: "1,2", Err: "line 2: wrong number of fields (2, header has 3)"},
		{Line: 3, Raw: "1,2,3,4", Err: "line 3: wrong number of fields (4, header has 3)"},
		{Line: 4, Cells: []string{"5", "6", "7"}, Raw: "5,6,7"},
		{Line: 5, Cells: []string{"", "", ""}, Raw: ",,"},
	})
}

func TestCSVUnterminatedQuote(t *testing.T) {
	in := "a,b\n1,2\n3,\"x\n4,5\n6,7\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Cells: []string{"1", "2"}, Raw: "1,2"},
		{Line: 3, Raw: "3,\"x", Err: "line 3: unterminated quoted field"},
		{Line: 4, Cells: []string{"4", "5"}, Raw: "4,5"}, // the rows after the stray quote are read again
		{Line: 5, Cells: []string{"6", "7"}, Raw: "6,7"},
	})
}

func TestCSVUnterminatedQuoteNamesTheOpeningLine(t *testing.T) {
	// The record starts on line 2; its first quoted field closes, the second opens on line 3.
	in := "a,b\n\"x\ny\",\"z\nmore\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Raw: "-", Err: "line 3: unterminated"},
		{Line: 4, Raw: "more", Err: "line 4: wrong number of fields"},
	})
}

func TestCSVMalformedQuotesRecover(t *testing.T) {
	in := "a,b\n1,x\"y\n\"ab\"c,2\n3,4\n\"ab\"x,\"c\nd\"\n5,6\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Raw: "1,x\"y", Err: "line 2: bare \""},
		{Line: 3, Raw: "\"ab\"c,2", Err: "line 3: extraneous or missing \""},
		{Line: 4, Cells: []string{"3", "4"}, Raw: "3,4"},
		// The parser stops on line 5 with line 6 still unread: it must not leak into the next record.
		{Line: 5, Raw: "\"ab\"x,\"c\nd\"", Err: "line 5: extraneous or missing \""},
		{Line: 7, Cells: []string{"5", "6"}, Raw: "5,6"},
	})
}

func TestCSVHeaderOnlyAndEmpty(t *testing.T) {
	for _, in := range []string{"a,b\n", "a,b", "a,b\r\n\r\n\n"} {
		h, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
		if len(recs) != 0 || len(h) != 2 {
			t.Errorf("%q: header %q, %d records; want 2 columns, 0 records", in, h, len(recs))
		}
	}
	for _, in := range []string{"", "\n\r\n", "\xEF\xBB\xBF"} {
		_, _, err := readAll(t, []byte(in), Options{Format: CSV})
		if err == nil || !strings.Contains(err.Error(), "empty input: no header") {
			t.Errorf("%q: error %v, want empty input", in, err)
		}
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"a,b,a\n1,2,3\n":   `duplicate column name "a" (columns 1 and 3)`,
		"a,\"b\n1,2\n":     "line 1: header has an unterminated quoted field",
		"a,b\x00c\n1,2\n":  "NUL byte",
		"a,\"b\"x\n1,2\n":  "line 1: CSV header: extraneous",
		"\n\na,b\"\n1,2\n": "line 3: CSV header: bare",
		"a,b\r1,2\r":       "lone CR",
	} {
		_, _, err := readAll(t, []byte(in), Options{Format: CSV})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want it to contain %q", in, err, want)
		}
	}
}

func TestCSVGivenHeader(t *testing.T) {
	in := "u1,a@x.io\nu2\nu3,c@x.io\n"
	h, recs := mustReadAll(t, []byte(in), Options{Format: CSV, Header: []string{"id", "email"}})
	if diff := cmp.Diff([]string{"id", "email"}, h); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	checkCSV(t, recs, []csvWant{
		{Line: 1, Cells: []string{"u1", "a@x.io"}, Raw: "u1,a@x.io"},
		{Line: 2, Raw: "u2", Err: "line 2: wrong number of fields (1, header has 2)"},
		{Line: 3, Cells: []string{"u3", "c@x.io"}, Raw: "u3,c@x.io"},
	})
	if _, err := Open(strings.NewReader(""), Options{Format: CSV, Header: []string{"id"}}); err == nil || !strings.Contains(err.Error(), "empty input") {
		t.Errorf("empty header-less input: error %v, want empty input", err)
	}
	if _, recs := mustReadAll(t, []byte("\n"), Options{Format: CSV, Header: []string{"id"}}); len(recs) != 0 {
		t.Errorf("blank header-less input: %d records", len(recs))
	}
}

func TestCSVBadBytes(t *testing.T) {
	in := "a,b\n1,x\x00y\n2,\xff\xfe\n3,ok\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Raw: "1,x\x00y", Err: "line 2: column 2: NUL byte"},
		{Line: 3, Raw: "2,\xff\xfe", Err: "line 3: column 2: invalid UTF-8"},
		{Line: 4, Cells: []string{"3", "ok"}, Raw: "3,ok"},
	})
}

func TestCSVErrorsHoldNoCellContents(t *testing.T) {
	secret := "sk_live_SECRET"
	in := "a,b\n" + secret + "\n1," + secret + "\"x\n\"" + secret + "\"y,2\n3,\xff" + secret + "\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	for _, r := range recs {
		if r.Err != nil && strings.Contains(r.Err.Error(), "SECRET") {
			t.Errorf("record %d error leaks contents: %v", r.Num, r.Err)
		}
	}
	if len(recs) != 4 {
		t.Fatalf("got %d records, want 4", len(recs))
	}
}

func TestCSVManyColumns(t *testing.T) {
	const n = 100_000
	var hdr, row bytes.Buffer
	for i := range n {
		if i > 0 {
			hdr.WriteByte(',')
			row.WriteByte(',')
		}
		fmt.Fprintf(&hdr, "c%d", i)
		fmt.Fprintf(&row, "%d", i)
	}
	in := hdr.String() + "\n" + row.String() + "\n1,2\n"
	h, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	if len(h) != n || h[n-1] != fmt.Sprintf("c%d", n-1) {
		t.Fatalf("header has %d columns", len(h))
	}
	if len(recs) != 2 || recs[0].Err != nil || len(recs[0].Cells) != n {
		t.Fatalf("want 2 records, the first with %d cells: %d records", n, len(recs))
	}
	if recs[0].Cells[0] != "0" || recs[0].Cells[n-1] != fmt.Sprint(n-1) {
		t.Errorf("cells misaligned: first %q last %q", recs[0].Cells[0], recs[0].Cells[n-1])
	}
	if re := recErr(t, recs[1]); !strings.Contains(re.Msg, "(2, header has 100000)") {
		t.Errorf("short row error %q", re.Msg)
	}
}

func TestCSVLongRecord(t *testing.T) {
	long := strings.Repeat("x", 10<<20)
	in := "a,b\n1,2\n" + long + ",y\n3,4\n\"" + long + "\n" + long + "\",z\n5,6\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Cells: []string{"1", "2"}, Raw: "1,2"},
		{Line: 3, Raw: "", Err: "line 3: record longer than 1048576 bytes"},
		{Line: 4, Cells: []string{"3", "4"}, Raw: "3,4"},
		{Line: 5, Raw: "", Err: "line 5: record longer than"},
		{Line: 7, Cells: []string{"5", "6"}, Raw: "5,6"},
	})
	if recs[1].Raw != nil {
		t.Error("too-long record kept its bytes")
	}
}

func TestCSVSmallLimit(t *testing.T) {
	in := "a,b\n1,2222\n1,2345\r\n3,4\n1,22\r\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV, MaxRecordSize: 5})
	checkCSV(t, recs, []csvWant{
		{Line: 2, Raw: "", Err: "record longer than 5 bytes"},
		{Line: 3, Raw: "", Err: "record longer than 5 bytes"},
		{Line: 4, Cells: []string{"3", "4"}, Raw: "3,4"},
		{Line: 5, Cells: []string{"1", "22"}, Raw: "1,22"},
	})
}

func TestCSVContextCanceled(t *testing.T) {
	r, err := Open(strings.NewReader("a\n1\n"), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on a canceled context: %v", err)
	}
}

// TestCountMatchesNext holds Count to the records Next gives, bad ones included, on inputs that
// exercise each path of the splitter: quoted newlines, blank lines, a stray quote that resyncs,
// a too-long record, a given header and gzip.
func TestCountMatchesNext(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := []struct {
		name string
		in   string
		opts Options
	}{
		{"plain", "a,b\n1,2\n3,4\n", Options{Format: CSV}},
		{"quoted newline and blank lines", "a,b\n\"1\n2\",3\n\n\n4,5\n", Options{Format: CSV}},
		{"wrong widths", "a,b\n1\n1,2,3\n1,2\n", Options{Format: CSV}},
		{"stray quote resyncs", "a,b\n\"1,2\n3,4\n5,6\n", Options{Format: CSV}},
		{"too long", "a,b\n" + long + ",1\n2,3\n", Options{Format: CSV, MaxRecordSize: 256}},
		{"given header", "1,2\n3,4\n", Options{Format: CSV, Header: []string{"a", "b"}}},
		{"header only", "a,b\n", Options{Format: CSV}},
		{"jsonl", "{\"a\":1}\n\nnot json\n{\"a\":2}\n", Options{Format: JSONL}},
		{"json", "[{\"a\":1},2,{\"b\":3}]", Options{Format: JSON}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, recs, _ := readAll(t, []byte(c.in), c.opts)
			want := len(recs)
			if want == 0 && c.name != "header only" {
				t.Fatal("the case reads no records: it tests nothing")
			}
			if got := Count(strings.NewReader(c.in), c.opts); got != want {
				t.Errorf("Count = %d, Next gave %d", got, want)
			}
		})
	}
	if got := Count(strings.NewReader(""), Options{Format: CSV}); got != 0 {
		t.Errorf("an input that cannot be opened counts %d", got)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a\n1\n2\n"))
	zw.Close()
	if got := Count(&gz, Options{Format: CSV, Gzip: true}); got != 2 {
		t.Errorf("gzipped CSV counts %d, want 2", got)
	}
}
