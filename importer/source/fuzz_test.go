package source

import (
	"bytes"
	"context"
	"errors"
	"testing"
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
		switch opts.Format {
		case CSV:
			if len(rec.Cells) != len(r.Header()) {
				t.Fatalf("record %d: %d cells, header has %d", i, len(rec.Cells), len(r.Header()))
			}
			checkCSVRoundTrip(t, r.Header(), rec)
		default:
			if len(rec.Raw) == 0 || bytes.TrimLeft(rec.Raw, " \t\r")[0] != '{' {
				t.Fatalf("record %d: good record with raw %q", i, rec.Raw)
			}
		}
	}
}

// checkCSVRoundTrip writes one good record and reads back the same cells.
func checkCSVRoundTrip(t *testing.T, header []string, rec Record) {
	var buf bytes.Buffer
	w := NewWriter(&buf, CSV, header)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(&buf, Options{Format: CSV, MaxRecordSize: 1 << 20})
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
