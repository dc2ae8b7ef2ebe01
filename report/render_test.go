package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userimport/userimport/runfolder"
)

func renderFixture(t *testing.T) (string, *html.Node) {
	t.Helper()
	m, err := Build(filepath.Join("testdata", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(&b, m); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	return b.String(), doc
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// text is the visible text of n and its children, spaces collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

var urlLike = regexp.MustCompile(`(?i)(https?:|ftp:|//[a-z0-9.-]+\.[a-z]{2,}|url\()`)

// The page loads nothing, links nowhere, and holds no key or digest from the journal.
func TestRenderSelfContainedAndSecretFree(t *testing.T) {
	page, doc := renderFixture(t)
	for _, re := range secretPatterns {
		if s := re.FindString(page); s != "" {
			t.Errorf("page holds a secret: %q", s)
		}
	}
	for _, s := range []string{"sk_test_", "sk_live_", "$2b$10$", "4eC39HqLyjWDarjtT1zdp7dc"} {
		if strings.Contains(page, s) {
			t.Errorf("page holds %q", s)
		}
	}
	if m := urlLike.FindString(page); m != "" {
		t.Errorf("page holds something URL-like: %q", m)
	}
	var svgs int
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "link", "iframe", "img", "object", "embed", "base", "form":
			t.Errorf("page has a <%s> element", n.Data)
		case "svg":
			svgs++
		}
		for _, a := range n.Attr {
			if a.Key == "src" || a.Key == "href" || a.Key == "action" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	})
	if svgs != 2 {
		t.Errorf("%d inline SVGs, want 2 (counts bar and time chart)", svgs)
	}
}

// The numbers on the page are the model's.
func TestRenderShowsTheNumbers(t *testing.T) {
	_, doc := renderFixture(t)
	var sections []string
	var rows [][]string
	var pre []string
	var polyline string
	var throttleBars int
	facts := map[string]string{}
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "section":
			sections = append(sections, text(n))
		case "tr":
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					cells = append(cells, text(c))
				}
			}
			if cells != nil {
				rows = append(rows, cells)
			}
		case "dt":
			for d := n.NextSibling; d != nil; d = d.NextSibling {
				if d.Type == html.ElementNode && d.Data == "dd" {
					facts[text(n)] = text(d)
					break
				}
			}
		case "pre":
			pre = append(pre, text(n))
		case "polyline":
			for _, a := range n.Attr {
				if a.Key == "points" {
					polyline = a.Val
				}
			}
		case "rect":
			for _, a := range n.Attr {
				if a.Key == "class" && a.Val == "t429" {
					throttleBars++
				}
			}
		}
	})
	all := strings.Join(sections, "\n")
	for _, want := range []string{
		"Rows by status (15 rows)", "created 8", "exists 1", "failed 3", "invalid 1", "duplicate 1", "pending 1",
		"user_quota_exceeded: You have reached your limit of 100 users. (key [redacted])",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for k, v := range map[string]string{"Exit code": "2", "429 answers": "9", "Retries": "9", "Sessions": "2",
		"Active time": "48s", "Status": "fatal", "Key fingerprint": "3c9a1f0e7b2d", "API": "api.clerk.com/v1 (https)",
		"Started": "2026-11-26 02:00:00 UTC", "Last session": "23s, 12 requests"} {
		if facts[k] != v {
			t.Errorf("%s: %q, want %q", k, facts[k], v)
		}
	}
	if len(rows) != 4 {
		t.Fatalf("failure table has %d rows, want 4: %q", len(rows), rows)
	}
	if r := rows[0]; r[0] != "failed" || r[1] != "form_identifier_exists HTTP 422" || r[2] != "email_address" || r[3] != "2" ||
		!strings.Contains(r[4], "line 4: auth0|u3, line 12: auth0|u11") {
		t.Errorf("first failure row %q", r)
	}
	wantPre := []string{
		"userimport import --out testdata/run-refeed --preset auth0 testdata/run/failed.csv",
		"userimport import --out testdata/run --preset auth0 'exports/[redacted]/users.csv'",
	}
	if strings.Join(pre, "\n") != strings.Join(wantPre, "\n") {
		t.Errorf("commands %q, want %q", pre, wantPre)
	}
	if n := len(strings.Fields(polyline)); n != 6 {
		t.Errorf("rate line has %d points, want one per 10 s bucket (6)", n)
	}
	if throttleBars != 2 {
		t.Errorf("%d 429 marks, want 2 (one per bucket with 429s)", throttleBars)
	}
}

// Render redacts a hand-built model too, and says what to do for each run status.
func TestRenderStatuses(t *testing.T) {
	for _, tc := range []struct {
		status runfolder.RunStatus
		counts map[string]int
		want   []string
		not    []string
	}{
		{runfolder.RunComplete, map[string]int{"created": 3}, []string{"Complete: every row", "nothing is left to do"}, []string{"continue where it stopped", "Fix them"}},
		{runfolder.RunWithFailures, map[string]int{"created": 3, "failed": 2}, []string{"2 rows were not imported", "Fix them", "tries the refused rows again"}, []string{"nothing is left to do"}},
		{runfolder.RunStopped, map[string]int{"created": 3}, []string{"Stopped by --limit", "re-run the same command to continue"}, []string{"Fix them"}},
		{runfolder.RunInterrupted, map[string]int{"created": 1, "pending": 2}, []string{"Interrupted", "Pending rows were sent", "looked up first"}, nil},
		{runfolder.RunFatal, map[string]int{"created": 1}, []string{"Stopped by a fatal error", "Fix that, then re-run"}, nil},
		{"", nil, []string{"Unfinished", "If the import is no longer running", "Last event"}, []string{"Finished"}},
	} {
		m := &Model{Run: "r", Dir: "runs/r", Status: tc.status, Counts: tc.counts, Input: "in/sk_live_abcdef123.csv",
			Format: "csv", Mapping: "preset:native", Fatal: "$2y$12$" + strings.Repeat("a", 53)}
		if tc.status == "" {
			m.Status = "unfinished"
		}
		m.commands(m.Dir, runfolder.Header{Input: m.Input, Preset: "native"})
		m.Buckets = []Bucket{{Created: 2}, {Created: 5, Throttled: 1}}
		var b bytes.Buffer
		if err := Render(&b, m); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		page := text(doc)
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: page lacks %q", tc.status, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(page, w) {
				t.Errorf("%s: page has %q", tc.status, w)
			}
		}
		if strings.Contains(b.String(), "sk_live_") || strings.Contains(b.String(), "$2y$12$") {
			t.Errorf("%s: secret on the page", tc.status)
		}
	}
}

// Thousands of buckets are merged so the page stays small.
func TestRenderMergesLongSeries(t *testing.T) {
	m := &Model{Run: "r", Status: runfolder.RunComplete, Counts: map[string]int{"created": 1}}
	for i := 0; i < 5000; i++ {
		m.Buckets = append(m.Buckets, Bucket{Created: 800})
	}
	c := buildTimeChart(m)
	if n := len(strings.Fields(c.Line)); n > maxPoints {
		t.Errorf("%d points, want at most %d", n, maxPoints)
	}
	if c.Step != "1.5 min" || c.Peak != "80.0" {
		t.Errorf("step %q peak %q; want 9 buckets a point (1.5 min) at 80/s", c.Step, c.Peak)
	}
}

func TestYAxisTicks(t *testing.T) {
	for _, tc := range []struct {
		perBucket int
		want      string
	}{
		{840, "0 25 50 75 100"},  // 84/s
		{3, "0 0.1 0.2 0.3"},     // 0.3/s
		{0, "0 0.25 0.5 0.75 1"}, // nothing created
		{80, "0 2 4 6 8"},        // 8/s exactly
	} {
		m := &Model{Buckets: []Bucket{{Created: tc.perBucket}}}
		var labels []string
		for _, tk := range buildTimeChart(m).YTicks {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("%d a bucket: ticks %q, want %q", tc.perBucket, got, tc.want)
		}
	}
}

// A session that has only just started still gets a page.
func TestRenderHeaderOnly(t *testing.T) {
	dir := writeRun(t, []any{header("a.jsonl", t0)}, nil)
	m, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 0 || m.Status != "unfinished" || len(m.Buckets) != 0 {
		t.Errorf("rows %d status %q buckets %d", m.Rows, m.Status, len(m.Buckets))
	}
	var b bytes.Buffer
	if err := Render(&b, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "No timed events") || !strings.Contains(b.String(), "No row was refused") {
		t.Error("empty run page lacks its empty-state notes")
	}
}

func TestWriteReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := GenerateJournal(dir, 2000); err != nil {
		t.Fatal(err)
	}
	path, err := WriteReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() == 0 {
		t.Errorf("report mode %v size %d, want 0600 and not empty", st.Mode().Perm(), st.Size())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	b, _ := os.ReadFile(path)
	if !bytes.Contains(b, []byte("Rows by status (2,000 rows)")) {
		t.Error("report lacks the row count")
	}
}
