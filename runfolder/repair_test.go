package runfolder

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSession writes one session (a header and the given rows, each pending then created).
func writeSession(t *testing.T, path string, input string, rows ...int) *Writer {
	t.Helper()
	w, err := OpenWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	must(t, w.WriteHeader(Header{Event: EventRun, Input: input, InputSHA256: input, StartedAt: time.Now().UTC()}))
	for _, r := range rows {
		must(t, w.Write(Event{Row: r, Line: r + 1, ExternalID: "x" + string(rune('a'+r)), Status: StatusPending}))
		must(t, w.Write(Event{Row: r, Line: r + 1, ExternalID: "x" + string(rune('a'+r)), Status: StatusCreated, UserID: "user_x"}))
	}
	return w
}

// scanAll reads path with a strict Scanner and returns the headers' inputs and the rows seen.
func scanAll(t *testing.T, path string) (inputs []string, rows []int, warnings []Warning) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := NewScanner(f)
	for sc.Scan() {
		if sc.IsHeader() {
			inputs = append(inputs, sc.Header().Input)
		} else if sc.Event().Status == StatusCreated {
			rows = append(rows, sc.Event().Row)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return inputs, rows, sc.Warnings()
}

// damagedJournal writes a session of rows 1 and 2 and appends tail to it; good is the size
// of the journal before the tail.
func damagedJournal(t *testing.T, tail string) (path string, good int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), ResultsFile)
	must(t, writeSession(t, path, "first", 1, 2).Close())
	st, err := os.Stat(path)
	must(t, err)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(tail)
	must(t, err)
	must(t, f.Close())
	return path, st.Size()
}

// A crash or a full disk leaves the journal's last line torn or NUL-padded: the reader says
// where and reads on, and the next session's writer cuts it before appending, so every later
// line is whole and the folder never becomes unreadable.
func TestWriterCutsADamagedTail(t *testing.T) {
	for _, tc := range []struct {
		name, tail string
	}{
		{"torn half line", `{"row":3,"line":4,"external_id":"xd","sta`},
		{"NUL padding", strings.Repeat("\x00", 4096)},
		{"torn line then NULs", `{"row":3,"line":4,"ext` + strings.Repeat("\x00", 300)},
		{"NULs then newline", strings.Repeat("\x00", 100) + "\n"},
		{"torn line longer than a line may be", `{"row":3,"external_id":"` + strings.Repeat("z", 3*MaxLine)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, good := damagedJournal(t, tc.tail)

			// Readers first: the damage is a warning with its offset, not an error.
			inputs, rows, warns := scanAll(t, path)
			if len(inputs) != 1 || len(rows) != 2 || len(warns) != 1 || warns[0].Offset != good {
				t.Fatalf("before repair: inputs %v rows %v warnings %v; want 1, 2 and one warning at offset %d", inputs, rows, warns, good)
			}

			w := writeSession(t, path, "second", 3)
			rep := w.Repaired()
			must(t, w.Close())
			if rep == nil || rep.Offset != good || rep.Bytes != int64(len(tc.tail)) {
				t.Fatalf("repair %v; want the %d bytes at offset %d cut", rep, len(tc.tail), good)
			}
			inputs, rows, warns = scanAll(t, path)
			if strings.Join(inputs, ",") != "first,second" || len(rows) != 3 || len(warns) != 0 {
				t.Errorf("after repair: inputs %v rows %v warnings %v", inputs, rows, warns)
			}
			b, _ := os.ReadFile(path)
			for i, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
				if !json.Valid(l) {
					t.Errorf("line %d not JSON after repair: %.80q", i+1, l)
				}
			}
		})
	}
}

// A full disk can take all of a line but its newline. The readers count that line (a JSON
// object cut short is never valid, so it is whole), and the writer must agree with them: it
// ends the line instead of cutting it, or resume would skip a row whose result the journal no
// longer holds. Followed by NULs, the readers do not count it, and the writer cuts it.
func TestWriterEndsAWholeLastLine(t *testing.T) {
	whole := `{"row":3,"line":4,"external_id":"xd","status":"created","user_id":"user_x","at":"2026-12-01T10:00:00Z"}`
	for _, tc := range []struct {
		name, tail string
		kept       bool
	}{
		{"row event", whole, true},
		{"row event and spaces", whole + "  ", true},
		{"NULs before it", strings.Repeat("\x00", 50) + whole, true},
		{"session header", `{"event":"run","input":"x","started_at":"2026-12-01T10:00:00Z"}`, true},
		{"NULs after it", whole + strings.Repeat("\x00", 30), false},
		{"not an event", `{"row":"three"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, good := damagedJournal(t, tc.tail)
			_, rows, _ := scanAll(t, path)
			counted := len(rows) == 3
			if counted != tc.kept && strings.Contains(tc.tail, "created") {
				t.Fatalf("the readers counted the last line: %v; this case expects %v", counted, tc.kept)
			}

			w := writeSession(t, path, "second", 4)
			rep := w.Repaired()
			must(t, w.Close())
			wantOff := good // where a cut line began
			if tc.kept {
				wantOff += int64(len(tc.tail)) // where the added newline went
			}
			if rep == nil || rep.Ended != tc.kept || rep.Offset != wantOff {
				t.Fatalf("repair %+v; want ended %v at offset %d", rep, tc.kept, wantOff)
			}
			inputs, rows, warns := scanAll(t, path)
			wantRows := 3
			if tc.kept && strings.Contains(tc.tail, "created") {
				wantRows = 4
			}
			if len(inputs) < 2 || inputs[len(inputs)-1] != "second" || len(rows) != wantRows || len(warns) != 0 {
				t.Errorf("after repair: inputs %v rows %v warnings %v, want %d rows", inputs, rows, warns, wantRows)
			}
			if !strings.Contains(rep.String(), "offset") {
				t.Errorf("repair says %q", rep)
			}
		})
	}
}

// A clean journal is left alone.
func TestWriterLeavesACleanJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), ResultsFile)
	must(t, writeSession(t, path, "a", 1).Close())
	before, _ := os.ReadFile(path)
	w := writeSession(t, path, "b")
	if w.Repaired() != nil {
		t.Errorf("repaired a clean journal: %v", w.Repaired())
	}
	must(t, w.Close())
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, before) {
		t.Error("a clean journal was changed before the new session")
	}
}

func TestScannerDamage(t *testing.T) {
	hdr := `{"event":"run","input":"a","started_at":"2026-11-26T02:00:00Z"}` + "\n"
	row := func(n string) string {
		return `{"row":` + n + `,"status":"created","at":"2026-11-26T02:00:01Z"}` + "\n"
	}
	scan := func(s string, lenient bool) (rows int, sc *Scanner) {
		sc = NewScanner(strings.NewReader(s))
		sc.Lenient = lenient
		for sc.Scan() {
			if !sc.IsHeader() {
				rows++
			}
		}
		return rows, sc
	}
	// A bad line with good lines after it: strict readers stop, naming line and offset.
	mid := hdr + row("1") + "not json\n" + row("2")
	_, sc := scan(mid, false)
	var le *LineError
	if err := sc.Err(); err == nil || !strings.Contains(err.Error(), "line 3") || !asLineError(err, &le) || le.Offset != int64(len(hdr+row("1"))) {
		t.Errorf("strict: %v, want line 3 at offset %d", err, len(hdr+row("1")))
	}
	if rows, sc := scan(mid, true); rows != 2 || sc.Err() != nil || sc.Skipped != 1 {
		t.Errorf("lenient: rows %d skipped %d err %v", rows, sc.Skipped, sc.Err())
	}
	// An over-long line is read past, not loaded, and reported with its offset.
	long := hdr + `{"row":9,"external_id":"` + strings.Repeat("z", MaxLine+1) + `","status":"created","at":"2026-11-26T02:00:01Z"}` + "\n" + row("1")
	if rows, sc := scan(long, true); rows != 1 || sc.Skipped != 1 || len(sc.Warnings()) != 1 || sc.Warnings()[0].Offset != int64(len(hdr)) ||
		!strings.Contains(sc.Warnings()[0].Problem, "longer than") {
		t.Errorf("long line: rows %d skipped %d warnings %v", rows, sc.Skipped, sc.Warnings())
	}
	if _, sc := scan(long, false); sc.Err() == nil {
		t.Error("strict: an over-long line in the middle is no error")
	}
	// Folders older versions left stuck: a header glued onto a torn line, NULs before a
	// session. Both read, with a warning each.
	glued := hdr + `{"row":2,"sta` + hdr + row("3")
	if rows, sc := scan(glued, false); rows != 1 || sc.Err() != nil || len(sc.Warnings()) != 1 {
		t.Errorf("glued header: rows %d err %v warnings %v", rows, sc.Err(), sc.Warnings())
	}
	padded := hdr + row("1") + strings.Repeat("\x00", 512) + hdr + row("2")
	if rows, sc := scan(padded, false); rows != 2 || sc.Err() != nil {
		t.Errorf("NULs before a session: rows %d err %v", rows, sc.Err())
	}
}

func asLineError(err error, le **LineError) bool {
	e, ok := err.(*LineError)
	*le = e
	return ok
}

// Old headers said a preset as mapping "preset:NAME" and nothing of the sandbox.
func TestScannerReadsOldHeaders(t *testing.T) {
	old := `{"event":"run","mapping":"preset:auth0","api_url":"http://127.0.0.1:4000/v1","key_fingerprint":"e5e4a691a288","started_at":"2026-11-26T02:00:00Z"}`
	var h Header
	var e Event
	isHeader, err := DecodeLine([]byte(old), &h, &e)
	if err != nil || !isHeader || h.Preset != "auth0" || h.Mapping != "" || !h.Sandbox {
		t.Errorf("old header read as %+v (header %v, %v)", h, isHeader, err)
	}
	cur := `{"event":"run","mapping":"m.json","preset":"","sandbox":false,"api_url":"http://127.0.0.1:4000/v1","key_fingerprint":"e5e4a691a288","started_at":"2026-11-26T02:00:00Z"}`
	if _, err := DecodeLine([]byte(cur), &h, &e); err != nil || h.Sandbox || h.Mapping != "m.json" || h.Preset != "" {
		t.Errorf("current header read as %+v (%v)", h, err)
	}
}

func TestNormalizeAPIURL(t *testing.T) {
	same := [][]string{
		{"https://api.clerk.com/v1", "https://api.clerk.com/v1/", "HTTPS://API.Clerk.com:443/v1", " https://api.clerk.com/v1 "},
		{"http://127.0.0.1:4010/v1", "http://localhost:4010/v1/", "http://[::1]:4010/v1", "http://127.0.0.2:4010/v1"},
		{"http://example.com/v1", "http://example.com:80/v1"},
	}
	for _, group := range same {
		for _, u := range group[1:] {
			if NormalizeAPIURL(u) != NormalizeAPIURL(group[0]) {
				t.Errorf("%q -> %q, %q -> %q: want equal", u, NormalizeAPIURL(u), group[0], NormalizeAPIURL(group[0]))
			}
		}
	}
	differ := [][2]string{
		{"http://127.0.0.1:4010/v1", "http://127.0.0.1:4011/v1"},
		{"https://api.clerk.com/v1", "http://api.clerk.com/v1"},
		{"https://api.clerk.com/v1", "https://api.clerk.com/v2"},
		{"https://api.clerk.com/v1", "https://clerk.example.com/v1"},
	}
	for _, d := range differ {
		if NormalizeAPIURL(d[0]) == NormalizeAPIURL(d[1]) {
			t.Errorf("%q and %q normalised alike: %q", d[0], d[1], NormalizeAPIURL(d[0]))
		}
	}
}
