package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"testing"
)

// readAll reads every record; the error is the file-level one (nil at a clean end).
func readAll(t testing.TB, in []byte, opts Options) (header []string, recs []Record, err error) {
	t.Helper()
	r, err := Open(bytes.NewReader(in), opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	for i := 0; ; i++ {
		if i > 1<<21 {
			t.Fatalf("reader did not end after %d records", i)
		}
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return r.Header(), recs, nil
		}
		if err != nil {
			return r.Header(), recs, err
		}
		recs = append(recs, rec)
	}
}

func mustReadAll(t testing.TB, in []byte, opts Options) ([]string, []Record) {
	t.Helper()
	h, recs, err := readAll(t, in, opts)
	if err != nil {
		t.Fatalf("unexpected file-level error: %v", err)
	}
	return h, recs
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// errLine returns the RecordError of rec, failing the test when there is none.
func recErr(t testing.TB, rec Record) *RecordError {
	t.Helper()
	var re *RecordError
	if !errors.As(rec.Err, &re) {
		t.Fatalf("record %d (line %d): want a *RecordError, got %v", rec.Num, rec.Line, rec.Err)
	}
	return re
}
