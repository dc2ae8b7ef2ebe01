package report

import (
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/runfolder"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// The fixture run: two sessions of one input. The first is interrupted with row 9 pending and
// a 429 storm; the second settles row 9 by look-up, imports row 10 (failed before), refuses
// rows 3, 7 and 11 again and stops on a quota error with row 15 pending.
func TestBuildGolden(t *testing.T) {
	m, err := Build(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "run.model.json", append(b, '\n'))

	// The numbers that matter, spelled out so a wrong golden file cannot hide them.
	wantCounts := map[string]int{"created": 8, "exists": 1, "failed": 3, "invalid": 1, "duplicate": 1, "pending": 1}
	if diff := cmp.Diff(wantCounts, m.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if m.Rows != 15 || m.Sessions != 2 || m.Throttled != 9 || m.Retries != 9 {
		t.Errorf("rows %d sessions %d throttled %d retries %d; want 15 2 9 9", m.Rows, m.Sessions, m.Throttled, m.Retries)
	}
	if m.Status != runfolder.RunFatal || m.ExitCode != 2 || !m.HasSummary {
		t.Errorf("status %q exit %d summary %v; want fatal 2 true", m.Status, m.ExitCode, m.HasSummary)
	}
	if m.ActiveSeconds != 48 {
		t.Errorf("active = %vs, want 48 (25 + 23: the hour between sessions left out)", m.ActiveSeconds)
	}
	type group struct {
		code, param string
		count       int
		lines       []int
	}
	var got []group
	for _, g := range m.Failures {
		var lines []int
		for _, e := range g.Examples {
			lines = append(lines, e.Line)
		}
		got = append(got, group{g.Code, g.Param, g.Count, lines})
	}
	want := []group{ // internal_clerk_error is gone: its only row was created in session 2
		{"form_identifier_exists", "email_address", 2, []int{4, 12}},
		{"form_param_format_invalid", "phone_number", 1, []int{5}},
		{"duplicate_in_input", "external_id", 1, []int{6}},
		{"form_password_digest_invalid_code", "password_digest", 1, []int{8}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(group{})); diff != "" {
		t.Errorf("failure groups (-want +got):\n%s", diff)
	}
	// Session 1 spans buckets 0-2, session 2 starts at bucket 3.
	if diff := cmp.Diff([]int{0, 3}, m.SessionStarts); diff != "" {
		t.Errorf("session starts (-want +got):\n%s", diff)
	}
	var created, throttled int
	for _, b := range m.Buckets {
		created += b.Created
		throttled += b.Throttled
	}
	if created != 8 || throttled != 9 { // created events: rows 1, 2, 8 then 9, 10, 12, 13, 14
		t.Errorf("buckets hold %d creates and %d 429s, want 8 and 9", created, throttled)
	}
	if m.Buckets[2].Seconds != 5 || m.Buckets[5].Seconds != 3 || m.Buckets[1].Seconds != 0 {
		t.Errorf("sessions end 5 s and 3 s into their last buckets: %+v", m.Buckets)
	}
	if m.Buckets[1].Throttled != 6 || m.Buckets[4].Throttled != 3 {
		t.Errorf("429 storm in the wrong buckets: %+v", m.Buckets)
	}
	wantResume := "userimport import --out testdata/run --preset auth0 'exports/[redacted]/users.csv'"
	if m.ResumeCommand != wantResume {
		t.Errorf("resume command %q", m.ResumeCommand)
	}
	if m.RefeedCommand != "userimport import --out testdata/run-refeed --preset auth0 testdata/run/failed.csv" {
		t.Errorf("refeed command %q", m.RefeedCommand)
	}
}

func TestBuildHidesSecrets(t *testing.T) {
	m, err := Build(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	for _, re := range secretPatterns {
		if loc := re.Find(b); loc != nil {
			t.Errorf("model holds a secret: %s", loc)
		}
	}
	if strings.Contains(string(b), "https://") {
		t.Errorf("model holds a URL: %s", b)
	}
}

// writeRun writes a journal (and a summary when sum is not nil) into a fresh folder.
func writeRun(t *testing.T, lines []any, sum *runfolder.Summary, raw ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		j, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	for _, r := range raw {
		b.WriteString(r)
	}
	if err := os.WriteFile(filepath.Join(dir, runfolder.ResultsFile), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if sum != nil {
		j, _ := json.Marshal(sum)
		if err := os.WriteFile(filepath.Join(dir, runfolder.SummaryFile), j, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func header(input string, start time.Time) runfolder.Header {
	return runfolder.Header{Event: "run", Tool: "userimport", Input: input, InputSHA256: "sha-" + input,
		Format: "jsonl", Mapping: "maps/m.json", MappingSHA256: "m", APIURL: "http://127.0.0.1:4010/v1",
		KeyFingerprint: "f", StartedAt: start}
}

func rowEv(row int, status string, at time.Time) runfolder.Event {
	e := runfolder.Event{Row: row, Line: row, ExternalID: "x" + string(rune('a'+row)), Status: runfolder.Status(status), At: at}
	if status == string(runfolder.StatusFailed) {
		e.Error = &runfolder.RowError{Code: "form_param_unknown", Param: "foo", HTTP: 422, Message: "unknown"}
	}
	return e
}

// Sessions of another input in the same folder are not this run's rows.
func TestBuildCountsOnlyTheLatestRun(t *testing.T) {
	a, b := header("a.jsonl", t0), header("b.jsonl", t0.Add(time.Hour))
	a2 := a
	a2.StartedAt = t0.Add(2 * time.Hour)
	dir := writeRun(t, []any{
		a, rowEv(1, "pending", t0.Add(time.Second)), rowEv(1, "created", t0.Add(2*time.Second)),
		rowEv(2, "failed", t0.Add(3*time.Second)),
		b, rowEv(1, "invalid", b.StartedAt.Add(time.Second)), rowEv(2, "invalid", b.StartedAt.Add(time.Second)),
		rowEv(3, "invalid", b.StartedAt.Add(time.Second)),
		a2, rowEv(2, "pending", a2.StartedAt.Add(time.Second)), rowEv(2, "failed", a2.StartedAt.Add(2*time.Second)),
	}, nil)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 2 || m.Counts["created"] != 1 || m.Counts["failed"] != 1 || m.Counts["invalid"] != 0 {
		t.Errorf("rows %d counts %v; want 2 rows, 1 created, 1 failed, no invalid", m.Rows, m.Counts)
	}
	if m.Sessions != 2 || m.OtherSessions != 1 {
		t.Errorf("sessions %d other %d, want 2 and 1", m.Sessions, m.OtherSessions)
	}
	if m.Status != "unfinished" || m.HasSummary {
		t.Errorf("status %q summary %v: a session without an end line is unfinished", m.Status, m.HasSummary)
	}
	if len(m.Failures) != 1 || m.Failures[0].Count != 1 || len(m.Failures[0].Examples) != 1 {
		t.Fatalf("failures %+v", m.Failures)
	}
	if m.ResumeCommand != "userimport import --out "+dir+" --mapping maps/m.json a.jsonl" {
		t.Errorf("resume command %q", m.ResumeCommand)
	}
	if m.API != "127.0.0.1:4010/v1 (http)" {
		t.Errorf("api %q", m.API)
	}
}

// A summary from an earlier session says nothing about the latest one.
func TestBuildIgnoresStaleSummary(t *testing.T) {
	h1, h2 := header("a.jsonl", t0), header("a.jsonl", t0.Add(time.Hour))
	dir := writeRun(t, []any{
		h1, rowEv(1, "created", t0.Add(time.Second)), runfolder.Event{Event: runfolder.EventEnd, RunStatus: runfolder.RunStopped, At: t0.Add(2 * time.Second)},
		h2, rowEv(2, "created", h2.StartedAt.Add(time.Second)), runfolder.Event{Event: runfolder.EventEnd, RunStatus: runfolder.RunComplete, At: h2.StartedAt.Add(2 * time.Second)},
	}, &runfolder.Summary{RunStatus: runfolder.RunStopped, ExitCode: 75, StartedAt: t0})
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.HasSummary || m.Status != runfolder.RunComplete {
		t.Errorf("summary %v status %q; want the journal's end line, complete", m.HasSummary, m.Status)
	}
	if m.RefeedCommand != "" {
		t.Errorf("no rows failed, yet a re-feed command: %q", m.RefeedCommand)
	}
}

// A damaged line in the middle is skipped and counted; a torn last line is a crash mid-write.
func TestBuildSkipsDamagedLines(t *testing.T) {
	h := header("a.jsonl", t0)
	long := `{"row":3,"status":"created","external_id":"` + strings.Repeat("z", maxLine+10) + `","at":"2026-11-26T02:00:05Z"}` + "\n"
	dir := writeRun(t, []any{h, rowEv(1, "created", t0.Add(time.Second))},
		nil, "{not json\n", long, `{"row": 2, "status": "created", "at": "2026-11-26T02:00:03Z"}`+"\n", `{"row":4,"status":"crea`)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.SkippedLines != 2 {
		t.Errorf("skipped %d lines, want 2 (the bad one and the over-long one)", m.SkippedLines)
	}
	if m.Counts["created"] != 2 {
		t.Errorf("created %d, want 2 (spaced JSON still read)", m.Counts["created"])
	}
}

func TestBuildErrors(t *testing.T) {
	if _, err := Build(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing journal: %v, want fs.ErrNotExist", err)
	}
	dir := writeRun(t, nil, nil)
	if _, err := Build(dir); err == nil {
		t.Error("empty journal: no error")
	}
	bad := writeRun(t, []any{header("a.jsonl", t0)}, nil)
	os.WriteFile(filepath.Join(bad, runfolder.SummaryFile), []byte("{"), 0o600)
	if _, err := Build(bad); err == nil {
		t.Error("broken summary.json: no error")
	}
}

// The hand-read path must agree with encoding/json on every row event the importer writes.
func TestParseLineMatchesJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	events := []runfolder.Event{
		{Row: 1, Line: 2, ExternalID: `quote " and \ slash`, Status: "pending", At: at},
		{Row: 123456789, Status: "created", UserID: "user_1", Attempts: 3, Settled: "lookup", At: at},
		{Row: 7, ExternalID: `"status":"failed","at":"x"`, Status: "exists", At: at.Add(time.Hour)},
		{Row: 8, Status: "failed", Error: &runfolder.RowError{Code: "c", Message: `m "row":9`}, At: at},
		{Event: runfolder.EventThrottled, At: at},
		{Row: 9, Status: "weird", At: at},
	}
	for _, e := range events {
		b, _ := json.Marshal(e)
		var fast, slow journalLine
		if err := parseLine(b, &fast); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatal(err)
		}
		if fast.Row != slow.Row || fast.Status != slow.Status || !fast.At.Equal(slow.At) || fast.Event != slow.Event {
			t.Errorf("%s: fast %+v, json %+v", b, fast, slow)
		}
	}
	// Lines the importer never writes, where a reader that looks for key patterns would part
	// from encoding/json: a later key with a space before it, a key in other case, an escaped
	// quote before a key pattern, and a status key inside an array.
	for _, line := range []string{
		`{"row":1,"status":"failed","at":"2026-11-26T02:00:01Z", "status":"created"}`,
		`{"row":1,"status":"failed","at":"2026-11-26T02:00:01Z","Status":"created"}`,
		`{"row":1,"status":"failed","at":"2026-11-26T02:00:01Z","a\"status":"created"}`,
		`{"row":1,"status":"failed","at":"2026-11-26T02:00:01Z","x":["status","created"]}`,
		`{"row":2,"row":3,"status":"failed","at":"2026-11-26T02:00:01Z","at":"2026-11-26T03:00:01Z"}`,
	} {
		var fast, slow journalLine
		ferr, serr := parseLine([]byte(line), &fast), json.Unmarshal([]byte(line), &slow)
		if (ferr == nil) != (serr == nil) || fast.Row != slow.Row || fast.Status != slow.Status || !fast.At.Equal(slow.At) {
			t.Errorf("%s: fast %+v (%v), json %+v (%v)", line, fast, ferr, slow, serr)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"row":1,"line":2,"external_id":"a","status":"pending","at":"2026-11-26T02:00:01Z"}`))
	f.Add([]byte(`{"row":12,"status":"created","at":"2026-11-26T02:00:01.5+01:00"}`))
	f.Add([]byte(`{"row":1,"external_id":"\"row\":5","status":"failed","at":"2026-11-26T02:00:01Z"}`))
	f.Add([]byte(`{"row":1,"row":2,"status":"failed","status":"created","at":"2026-11-26T02:00:01Z","at":"2026-11-26T02:00:02Z"}`))
	f.Add([]byte(`{"row":3,"x":{"status":"failed"},"status":"created","at":"2026-11-26T02:00:01Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow journalLine
		ferr := parseLine(b, &fast)
		if json.Unmarshal(b, &slow) != nil {
			return // the slow path decides what is malformed
		}
		if ferr != nil {
			t.Fatalf("%q: valid JSON refused: %v", b, ferr)
		}
		if fast.Row != slow.Row || fast.Status != slow.Status || !fast.At.Equal(slow.At) {
			t.Fatalf("%q: fast %+v, json %+v", b, fast, slow)
		}
	})
}

// The second pass stops where the first did, so lines a running import appends in between
// cannot give a group examples the counts never saw.
func TestScanJournalLimit(t *testing.T) {
	h := header("a.jsonl", t0)
	dir := writeRun(t, []any{h, rowEv(1, "created", t0), rowEv(2, "created", t0), rowEv(3, "created", t0)}, nil)
	path := filepath.Join(dir, runfolder.ResultsFile)
	all, err := scanJournal(path, -1, nil, nil, func(*journalLine) {})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if all != st.Size() {
		t.Errorf("read %d bytes of %d", all, st.Size())
	}
	b, _ := os.ReadFile(path)
	cut := int64(strings.Index(string(b), `{"row":3`))
	var rows []int
	n, err := scanJournal(path, cut, nil, nil, func(l *journalLine) { rows = append(rows, l.Row) })
	if err != nil || n != cut {
		t.Fatalf("read %d, %v; want %d", n, err, cut)
	}
	if diff := cmp.Diff([]int{0, 1, 2}, rows); diff != "" {
		t.Errorf("rows read (-want +got):\n%s", diff)
	}
}

// An event stamped months after its session (a clock jump) counts as a row but does not
// stretch the time line or the active time.
func TestBuildClockJump(t *testing.T) {
	h := header("a.jsonl", t0)
	dir := writeRun(t, []any{h, rowEv(1, "created", t0.Add(5*time.Second)),
		rowEv(2, "created", t0.Add(200*24*time.Hour)), rowEv(3, "created", t0.Add(15*time.Second))}, nil)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts["created"] != 3 || len(m.Buckets) != 2 || m.ActiveSeconds != 15 {
		t.Errorf("created %d buckets %d active %v; want 3, 2, 15", m.Counts["created"], len(m.Buckets), m.ActiveSeconds)
	}
}

// A --sandbox rehearsal's commands keep --sandbox: without it they would reach Clerk.
func TestBuildSandboxCommands(t *testing.T) {
	h := header("users.csv", t0)
	h.Mapping, h.KeyFingerprint = "preset:native", rehearsalFingerprint
	dir := writeRun(t, []any{legacyHeader(t, h), rowEv(1, "failed", t0.Add(time.Second))}, nil)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Sandbox || m.ResumeCommand != "userimport import --out "+dir+" --sandbox --preset native users.csv" ||
		m.RefeedCommand != "userimport import --out "+dir+"-refeed --sandbox --preset native "+dir+"/failed.jsonl" {
		t.Errorf("sandbox %v\nresume %q\nrefeed %q", m.Sandbox, m.ResumeCommand, m.RefeedCommand)
	}
	var b strings.Builder
	if err := Render(&b, m); err != nil || !strings.Contains(b.String(), "rehearsal: nothing was sent to Clerk") {
		t.Errorf("page does not say it was a rehearsal (%v)", err)
	}
	h.APIURL = "https://api.clerk.com/v1" // the same key against Clerk is no rehearsal
	dir = writeRun(t, []any{legacyHeader(t, h)}, nil)
	if m, err = Build(dir); err != nil || m.Sandbox || strings.Contains(m.ResumeCommand, "--sandbox") {
		t.Errorf("sandbox %v resume %q err %v", m.Sandbox, m.ResumeCommand, err)
	}
}

// rehearsalFingerprint is the fingerprint of the key `import --sandbox` used when none was
// set: headers from before the header said Sandbox are still read as a rehearsal.
const rehearsalFingerprint = "e5e4a691a288" // sha256("sk_test_sandbox_rehearsal")[:12]

// legacyHeader is h as the journal wrote it before headers said Sandbox and Preset: no
// "sandbox" key, the preset as mapping "preset:NAME".
func legacyHeader(t *testing.T, h runfolder.Header) map[string]any {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "sandbox")
	delete(m, "preset")
	return m
}

// A header that says what it is needs no fingerprint: Sandbox and Preset are read as written.
func TestBuildExplicitHeaderFacts(t *testing.T) {
	h := header("users.csv", t0)
	h.Mapping, h.Preset, h.Sandbox, h.KeyFingerprint = "", "auth0", true, "any-key"
	dir := writeRun(t, []any{h, rowEv(1, "failed", t0.Add(time.Second))}, nil)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Sandbox || m.Mapping != "preset:auth0" ||
		m.ResumeCommand != "userimport import --out "+dir+" --sandbox --preset auth0 users.csv" {
		t.Errorf("sandbox %v mapping %q resume %q", m.Sandbox, m.Mapping, m.ResumeCommand)
	}
	h.Sandbox, h.KeyFingerprint = false, rehearsalFingerprint // said not a sandbox: believed
	dir = writeRun(t, []any{h}, nil)
	if m, err = Build(dir); err != nil || m.Sandbox || strings.Contains(m.ResumeCommand, "--sandbox") {
		t.Errorf("sandbox %v resume %q err %v", m.Sandbox, m.ResumeCommand, err)
	}
}

// A journal a full disk left NUL-padded, and one a later session repaired, both read whole:
// the padding is neither a row nor a damaged line.
func TestBuildReadsAPaddedEnd(t *testing.T) {
	h := header("a.jsonl", t0)
	dir := writeRun(t, []any{h, rowEv(1, "created", t0.Add(time.Second)), rowEv(2, "created", t0.Add(2*time.Second))},
		nil, strings.Repeat("\x00", 4096))
	m, err := Build(dir)
	if err != nil || m.Counts["created"] != 2 || m.SkippedLines != 0 {
		t.Fatalf("padded journal: %v, created %d, skipped %d", err, m.Counts["created"], m.SkippedLines)
	}
	w, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if w.Repaired() == nil {
		t.Error("the writer did not cut the padding")
	}
	h2 := header("a.jsonl", t0.Add(time.Hour))
	if err := errors.Join(w.WriteHeader(h2), w.Write(rowEv(3, "created", h2.StartedAt.Add(time.Second))), w.Close()); err != nil {
		t.Fatal(err)
	}
	if m, err = Build(dir); err != nil || m.Counts["created"] != 3 || m.Sessions != 2 || m.SkippedLines != 0 {
		t.Errorf("repaired journal: %v, created %d, sessions %d, skipped %d", err, m.Counts["created"], m.Sessions, m.SkippedLines)
	}
}
