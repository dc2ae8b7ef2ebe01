package source

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCSVRecordsStayIntact keeps every record of a long input and checks them at the end:
// records share blocks of memory and the parser reuses its record, so a later record must
// never overwrite an earlier one's bytes, cells or the header.
func TestCSVRecordsStayIntact(t *testing.T) {
	var in strings.Builder
	in.WriteString("id,email,note\n")
	const rows = 3000
	for i := range rows {
		note := fmt.Sprintf(`"n%d, ""q"""`, i)
		if i%500 == 0 {
			note = strings.Repeat("x", 5000+i) // large records take their own memory
		}
		fmt.Fprintf(&in, "u%d,user%d@x.io,%s\n", i, i, note)
	}
	r, err := Open(strings.NewReader(in.String()), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for {
		rec, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil || rec.Err != nil {
			t.Fatal(err, rec.Err)
		}
		recs = append(recs, rec)
	}
	if diff := cmp.Diff([]string{"id", "email", "note"}, r.Header()); diff != "" {
		t.Fatalf("header changed (-want +got):\n%s", diff)
	}
	if len(recs) != rows {
		t.Fatalf("%d records, want %d", len(recs), rows)
	}
	lines := strings.Split(strings.TrimSuffix(in.String(), "\n"), "\n")[1:]
	for i, rec := range recs {
		note := fmt.Sprintf(`n%d, "q"`, i)
		if i%500 == 0 {
			note = strings.Repeat("x", 5000+i)
		}
		want := []string{fmt.Sprint("u", i), fmt.Sprintf("user%d@x.io", i), note}
		if diff := cmp.Diff(want, rec.Cells); diff != "" {
			t.Fatalf("record %d cells (-want +got):\n%s", i+1, diff)
		}
		if string(rec.Raw) != lines[i] {
			t.Fatalf("record %d raw = %q, want %q", i+1, rec.Raw, lines[i])
		}
	}
}
