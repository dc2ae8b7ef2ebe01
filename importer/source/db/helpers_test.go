package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// mustOpen opens rawURL or fails the test; the reader is closed when the test ends (a test may
// close it before: Close is idempotent).
func mustOpen(t *testing.T, ctx context.Context, rawURL string, opts Options) *Reader {
	t.Helper()
	r, err := Open(ctx, rawURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readAll opens rawURL and returns every record decoded, keyed by the given column, plus the log.
func readAll(t *testing.T, rawURL string, opts Options, key string) (map[string]map[string]any, []string) {
	t.Helper()
	var logs []string
	opts.Log = func(m string) { logs = append(logs, m) }
	ctx := context.Background()
	r := mustOpen(t, ctx, rawURL, opts)
	n, err := r.Count(ctx)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	out := map[string]map[string]any{}
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rec.Err != nil {
			t.Fatalf("record %d: %v", rec.Num, rec.Err)
		}
		m := decode(t, rec.Bytes())
		out[m[key].(string)] = m
		sameDecoded(t, rawURL, rec)
	}
	if int(n) != len(out) {
		t.Errorf("Count = %d, read %d rows", n, len(out))
	}
	return out, logs
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("record is not one JSON object: %v: %s", err, raw)
	}
	return m
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// wantTime checks an RFC 3339 UTC timestamp equal to want.
func wantTime(t *testing.T, rec map[string]any, col string, want time.Time) {
	t.Helper()
	s, ok := rec[col].(string)
	if !ok {
		t.Errorf("%s = %#v, want an RFC 3339 string", col, rec[col])
		return
	}
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want RFC 3339 in UTC (…Z)", col, s)
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", col, got, want.UTC())
	}
}

func wantAbsent(t *testing.T, rec map[string]any, cols ...string) {
	t.Helper()
	for _, c := range cols {
		if v, ok := rec[c]; ok {
			t.Errorf("%s = %#v, want it absent (NULL)", c, v)
		}
	}
}

func wantEq(t *testing.T, rec map[string]any, col string, want any) {
	t.Helper()
	got, ok := rec[col]
	if !ok {
		t.Errorf("%s absent, want %#v", col, want)
		return
	}
	g := fmtAny(got)
	if n, ok := got.(json.Number); ok {
		g = n.String()
	}
	if w := fmtAny(want); g != w {
		t.Errorf("%s = %s, want %s", col, g, w)
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sameDecoded checks a record's Decoded (PostgreSQL sets it) is what decoding its Raw gives:
// the same keys in order and every value equal, so the importer's shortcut changes nothing.
func sameDecoded(t *testing.T, rawURL string, rec source.Record) {
	t.Helper()
	if rec.Decoded == nil {
		if scheme(rawURL) == "postgres" || scheme(rawURL) == "postgresql" {
			t.Fatalf("record %d: a PostgreSQL row without Decoded", rec.Num)
		}
		return
	}
	got, ok := rec.Decoded.(mapping.Record)
	if !ok {
		t.Fatalf("record %d: Decoded is a %T, not a mapping.Record", rec.Num, rec.Decoded)
	}
	want, err := mapping.JSONRecord(rec.Bytes())
	if err != nil {
		t.Fatalf("record %d: JSONRecord(Bytes()): %v", rec.Num, err)
	}
	if !reflect.DeepEqual(got.Keys(), want.Keys()) {
		t.Fatalf("record %d: Decoded keys %q, Raw's %q", rec.Num, got.Keys(), want.Keys())
	}
	for _, k := range want.Keys() {
		gv, gok := got.Lookup(k)
		wv, wok := want.Lookup(k)
		if gok != wok || !reflect.DeepEqual(gv, wv) {
			t.Errorf("record %d, %s: Decoded %#v (%v), Raw's %#v (%v)", rec.Num, k, gv, gok, wv, wok)
		}
	}
	// Each database preset maps the row as it maps its JSON: the row's shortcuts (paths found
	// in a jsonb column's text, metadata copied from it, presence seen without decoding) agree.
	for _, name := range []string{"supabase", "authjs", "betterauth"} {
		m, err := mapping.Preset(name, mapping.PresetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		gp, gerr, gverr := m.ApplyValid(got)
		wp, werr, wverr := m.ApplyValid(want)
		if fmt.Sprint(gerr, gverr) != fmt.Sprint(werr, wverr) || !reflect.DeepEqual(gp, wp) {
			t.Errorf("record %d, preset %s: the row maps to %+v (%v, %v), its JSON to %+v (%v, %v)", rec.Num, name, gp, gerr, gverr, wp, werr, wverr)
		}
	}
}
