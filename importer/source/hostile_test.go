package source

import (
	"fmt"
	"strings"
	"testing"
)

// summary is "line:ok" or "line:err" per record, for compact expectations.
func summary(recs []Record) string {
	var parts []string
	for _, r := range recs {
		s := "ok"
		if r.Err != nil {
			s = "err"
		}
		parts = append(parts, strings.Join([]string{itoa(r.Line), s}, ":"))
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { return fmt.Sprintf("%02d", n) }

func TestCSVStrayQuotesPairUp(t *testing.T) {
	// Two stray quotes close each other: lines 3-5 become one bad record, kept whole so
	// failed.csv loses nothing; the third quote has no partner and costs only its own line.
	in := "a,b\n1,2\n3,\"x\n4,5\n6,\"y\n7,8\n9,\"z\n10,11\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	if got, want := summary(recs), "02:ok 03:err 06:ok 07:err 08:ok"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	if got := string(recs[1].Raw); got != "3,\"x\n4,5\n6,\"y" {
		t.Errorf("paired record raw %q", got)
	}
	if re := recErr(t, recs[3]); re.Line != 7 || !strings.Contains(re.Msg, "unterminated") {
		t.Errorf("last stray quote: %v", re)
	}
}

func TestCSVStrayQuoteKeepsLegitMultilineCells(t *testing.T) {
	// The closed multi-line cell on lines 2-3 stays one record; the stray quote on line 4 costs
	// only its own line.
	in := "a,b\n1,\"two\nlines\"\n2,\"open\n3,4\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV})
	if got, want := summary(recs), "02:ok 04:err 05:ok"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	if recs[0].Cells[1] != "two\nlines" {
		t.Errorf("multi-line cell read as %q", recs[0].Cells[1])
	}
}

func TestCSVStrayQuotePastTheSizeLimitRunsToTheEnd(t *testing.T) {
	// Past the size limit the swallowed lines are not kept, so they cannot be read again: one
	// error record says so, and the stream ends cleanly.
	in := "a,b\n1,2\n3,\"x\n" + strings.Repeat("5,6\n", 100) + "7,8\n"
	_, recs := mustReadAll(t, []byte(in), Options{Format: CSV, MaxRecordSize: 64})
	if got, want := summary(recs), "02:ok 03:err"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
}

func TestCSVBOMAfterBlankLines(t *testing.T) {
	h, recs := mustReadAll(t, []byte("\n\n\xEF\xBB\xBFa,b\n1,2\n"), Options{Format: CSV})
	if len(h) != 2 || h[0] != "a" || len(recs) != 1 || recs[0].Line != 4 {
		t.Fatalf("header %q, records %+v", h, recs)
	}
}

func TestCSVWriterKeepsALeadingBOMCell(t *testing.T) {
	for _, header := range [][]string{{"\ufeff"}, {"\ufeffa", "b", ""}} {
		var buf strings.Builder
		w := NewWriter(&buf, CSV, header)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(strings.NewReader(buf.String()+strings.Repeat("x,", len(header)-1)+"x\n"), Options{Format: CSV})
		if err != nil {
			t.Fatalf("%q: %v", buf.String(), err)
		}
		if got := r.Header(); strings.Join(got, "|") != strings.Join(header, "|") {
			t.Errorf("wrote header %q as %q, read back %q", header, buf.String(), got)
		}
	}
}

func TestJSONArrayGoesOnPastBadElements(t *testing.T) {
	deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)
	long := `{"s":"` + strings.Repeat(`x\"]}[{`, 20_000) + `"}` // brackets and escaped quotes inside a string
	in := "{\"meta\":{},\"users\":[\n{\"id\":1},\n" + deep + ",\n" + long + ",\n\n{\"id\":4},\n" + deep + "\n],\"after\":[1,{}]}"
	_, recs := mustReadAll(t, []byte(in), Options{Format: JSON, MaxRecordSize: 100})
	if got, want := summary(recs), "02:ok 03:err 04:err 06:ok 07:err"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	if string(recs[3].Raw) != `{"id":4}` || recs[1].Raw != nil || recs[2].Raw != nil {
		t.Errorf("raws %q %q %q", recs[3].Raw, recs[1].Raw, recs[2].Raw)
	}
	// Whatever follows the array is still checked.
	_, _, err := readAll(t, []byte("[\n"+deep+"\n] x"), Options{Format: JSON})
	if err == nil || !strings.Contains(err.Error(), "line 3: trailing data") {
		t.Errorf("trailing data after a resync: %v", err)
	}
	// An element cut off by the end of the input is a file-level error.
	_, recs, err = readAll(t, []byte("[{\"id\":1},\n"+deep[:15_000]), Options{Format: JSON})
	if err == nil || len(recs) != 2 || recs[1].Err == nil {
		t.Errorf("truncated: %d records, error %v", len(recs), err)
	}
}
