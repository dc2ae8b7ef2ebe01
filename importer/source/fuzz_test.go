package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/iotest"
)

// fuzzRead reads everything from in and checks the invariants every reader keeps: no panic,
// records numbered in order with lines that never go back, and each record either has its
// content or an error. Count must agree with the records read.
func fuzzRead(t *testing.T, in []byte, opts Options) {
	opts.MaxRecordSize = 256 // small, so the too-long paths are reached
	r, err := Open(bytes.NewReader(in), opts)
	if err != nil {
		return
	}
	defer r.Close()
	det, _ := DetectedOf(r)
	lastLine := 0
	for i := 1; ; i++ {
		rec, err := r.Next(context.Background())
		if err != nil {
			if n := Count(bytes.NewReader(in), opts); n != i-1 {
				t.Fatalf("Count = %d, Next gave %d records", n, i-1)
			}
			return
		}
		if i > len(in)+1 {
			t.Fatalf("more records (%d) than input bytes (%d)", i, len(in))
		}
		if rec.Num != i || rec.Line < 1 || rec.Line < lastLine {
			t.Fatalf("record %d: Num %d Line %d after line %d", i, rec.Num, rec.Line, lastLine)
		}
		lastLine = rec.Line
		if rec.Err != nil {
			var re *RecordError
			if !errors.As(rec.Err, &re) || re.Line < rec.Line {
				t.Fatalf("record %d: error %v is not a RecordError at or after line %d", i, rec.Err, rec.Line)
			}
			if rec.Cells != nil {
				t.Fatalf("record %d: error record has cells", i)
			}
			continue
		}
		switch det.Format {
		case CSV:
			if len(rec.Cells) != len(r.Header()) {
				t.Fatalf("record %d: %d cells, header has %d", i, len(rec.Cells), len(r.Header()))
			}
			checkCSVRoundTrip(t, r.Header(), rec, det.Dialect)
		default:
			if len(rec.Raw) == 0 || bytes.TrimLeft(rec.Raw, " \t\r")[0] != '{' {
				t.Fatalf("record %d: good record with raw %q", i, rec.Raw)
			}
		}
	}
}

// checkCSVRoundTrip writes one good record in the input's dialect and reads back the same cells
// with the options that dialect stands for.
func checkCSVRoundTrip(t *testing.T, header []string, rec Record, d Dialect) {
	var buf bytes.Buffer
	w := NewWriterFor(&buf, CSV, header, d)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(&buf, Options{Format: CSV, MaxRecordSize: 1 << 20, Encoding: d.Encoding,
		Delimiter: rune(d.Delimiter), LazyQuotes: d.LazyQuotes, BackslashEscapes: d.BackslashEscapes})
	if err != nil {
		t.Fatalf("reading back %q: %v", buf.String(), err)
	}
	back, err := r.Next(context.Background())
	if err != nil || back.Err != nil || len(back.Cells) != len(rec.Cells) {
		t.Fatalf("reading back %q: %v %v", buf.String(), err, back.Err)
	}
	for i := range rec.Cells {
		if back.Cells[i] != rec.Cells[i] {
			t.Fatalf("cell %d: wrote %q, read %q", i, rec.Cells[i], back.Cells[i])
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\xEF\xBB\xBFa\r\n\"x\r\ny\"\n", "a,b\n1\n1,2,3\n\"", "a,a\n", "a\n\"\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzRead(t, in, Options{Format: CSV}) })
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n\n[1]\n{\"a\":1} x\n", "{\"a\":\"\xff\"}\r\n{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzRead(t, in, Options{Format: JSONL}) })
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{"[{\"a\":1},2,{\"b\":[]}]", "{\"x\":{},\"users\":[{}]}", "[{}\n{}]", "[[[[", "[{\"a\":1}] 1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzRead(t, in, Options{Format: JSON}) })
}

// FuzzSniff reads any input with the format left to the content: Sniff must agree with what
// Open read, leave its reader unconsumed and say the same twice; every reader's invariants hold.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{
		"{\"a\":1}\n{\"a\":2}\n", "{\"users\": [\n  {\n    \"a\": 1\n  }]}", `{"users":[{"a":1}]}`, `{"identities":[{"a":1}],"b":2}`,
		"[{\"a\":1}]", "a;b\r\n1;2\r\n", "\xFF\xFE[\x00]\x00", "\xEF\xBB\xBF{\"Users\":[]}", "{x},y\n", "[1],2\n",
		`{"clerkMigrate":{"v":[1]},"users":[{"id":"u"}]}`, "# c\nid\tname\n1\t2\n",
	} {
		f.Add([]byte(s), false)
		f.Add(gz(f, []byte(s)), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, small bool) {
		size := 64 << 10
		if small {
			size = 16 // the sniff window cuts the first value short
		}
		br := bufio.NewReaderSize(bytes.NewReader(in), size)
		f1, gz1, err1 := Sniff(br)
		f2, gz2, err2 := Sniff(br)
		if f1 != f2 || gz1 != gz2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Sniff not stable: %q %v %v, then %q %v %v", f1, gz1, err1, f2, gz2, err2)
		}
		if n := br.Buffered(); n > 0 && !bytes.HasPrefix(in, mustPeek(br, n)) {
			t.Fatal("Sniff consumed input")
		}
		if !small {
			if r, err := Open(bytes.NewReader(in), Options{}); err == nil {
				det, _ := DetectedOf(r)
				if err1 == nil && (det.Format != f1 || det.Gzip != gz1) {
					t.Fatalf("Open read %q (gzip %v), Sniff said %q (gzip %v)", det.Format, det.Gzip, f1, gz1)
				}
				r.Close()
			}
			sameOnAPipe(t, in)
		}
		fuzzRead(t, in, Options{})
	})
}

// sameOnAPipe checks that in, arriving a byte at a time (a slow pipe, whose format is decided
// on what has arrived), is detected as it is read from a file, whose first read fills the window.
func sameOnAPipe(t *testing.T, in []byte) {
	t.Helper()
	file, ferr := Open(bytes.NewReader(in), Options{})
	pipe, perr := Open(iotest.OneByteReader(bytes.NewReader(in)), Options{})
	if (ferr == nil) != (perr == nil) {
		t.Fatalf("from a file: %v; a byte at a time: %v", ferr, perr)
	}
	if ferr != nil {
		return
	}
	defer file.Close()
	defer pipe.Close()
	fd, _ := DetectedOf(file)
	pd, _ := DetectedOf(pipe)
	if fd != pd {
		t.Fatalf("from a file %+v, a byte at a time %+v", fd, pd)
	}
}

func mustPeek(br *bufio.Reader, n int) []byte {
	b, _ := br.Peek(n)
	return b
}

// FuzzCSVDialect reads CSV in every dialect: a delimiter given or detected, lazy quotes,
// backslash escapes and an encoding; each good record written back in its dialect reads the same.
func FuzzCSVDialect(f *testing.F) {
	for _, s := range []string{
		"\xEF\xBB\xBFid;name\r\n1;\"a;b\"\r\n", "id\tname\n1\tJos\xe9\n", "# x\nu,n\nj,Doe\\, J\n",
		"a,b\n1,J \"JJ\" D\n2,\"D, \"JJ\" J\"\n", "a|b\n\\|x|y\n", "\xFF\xFEa\x00,\x00b\x00\n\x001\x00,\x002\x00",
	} {
		f.Add([]byte(s), byte(0), false, false, byte(0))
		f.Add([]byte(s), byte(';'), true, true, byte(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, delim byte, lazy, backslash bool, enc byte) {
		opts := Options{Format: CSV, LazyQuotes: lazy, BackslashEscapes: backslash}
		switch delim {
		case 0, ',', ';', '\t', '|':
			opts.Delimiter = rune(delim)
		}
		opts.Encoding = []string{"", "latin1", "utf-16le", "utf-8"}[enc%4]
		fuzzRead(t, in, opts)
	})
}
