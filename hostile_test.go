package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
)

// repeatReader yields n copies of b without holding them.
type repeatReader struct {
	b   []byte
	n   int64 // bytes left
	off int
}

func repeat(b string, total int64) io.Reader {
	return &repeatReader{b: []byte(strings.Repeat(b, max(1, 64<<10/len(b)))), n: total}
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	r.n -= int64(n)
	return n, nil
}

// hostileCase is one hostile input: rows around the bad one must still be imported.
type hostileCase struct {
	name    string
	format  string                 // file extension, or the --format for stdin
	input   func() io.Reader       // the whole input
	stdin   bool                   // feed it on stdin instead of a file
	args    []string               // extra flags
	code    int                    // exit code
	created []string               // external ids that must be in the sandbox afterwards
	lines   map[int]string         // input line -> final status ("invalid"), when the run has a journal
	msgs    map[int]*regexp.Regexp // input line -> pattern its error message must match
	stderr  *regexp.Regexp         // when set, stderr must match (file-level problems)
	short   bool                   // stdout and stderr together stay under 16 KiB
}

func text(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

// utf16LE encodes s as UTF-16 little-endian with its byte order mark.
func utf16LE(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

func readers(rs ...func() io.Reader) func() io.Reader {
	return func() io.Reader {
		var all []io.Reader
		for _, r := range rs {
			all = append(all, r())
		}
		return io.MultiReader(all...)
	}
}

func csvRow(id string) string { return id + "," + id + "@example.com\n" }
func jsonlRow(id string) string {
	return `{"external_id":"` + id + `","email_address":"` + id + `@example.com"}` + "\n"
}

const csvHead = "external_id,email_address\n"

var (
	deepArray  = strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObject = strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	hugeNumber = "1" + strings.Repeat("0", 400)
)

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func hostileCases() []hostileCase {
	// 100,000 columns: the two the mapping reads, then filler.
	var wideHead, wideRow1, wideRow2 strings.Builder
	wideHead.WriteString("external_id,email_address")
	wideRow1.WriteString("wc1,wc1@example.com")
	wideRow2.WriteString("wc2,wc2@example.com")
	for i := 2; i < 100000; i++ {
		fmt.Fprintf(&wideHead, ",c%d", i)
		wideRow1.WriteString(",x")
		wideRow2.WriteString(",")
	}
	wide := wideHead.String() + "\n" + wideRow1.String() + "\n" + wideRow2.String() + "\n"

	return []hostileCase{
		{name: "csv invalid utf-8", format: "csv",
			input: text(csvHead + csvRow("a1") + "a2,a2\xff\xfe@example.com\n" + csvRow("a3")),
			code:  1, created: []string{"a1", "a3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`line 3: column 2: invalid UTF-8`)}},
		{name: "jsonl invalid utf-8", format: "jsonl",
			input: text(jsonlRow("b1") + "{\"external_id\":\"b2\",\"email_address\":\"b2\xff@example.com\"}\n" + jsonlRow("b3")),
			code:  1, created: []string{"b1", "b3"},
			lines: map[int]string{2: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`line 2: invalid UTF-8`)}},
		{name: "csv NUL byte", format: "csv",
			input: text(csvHead + csvRow("c1") + "c2,c2\x00@example.com\n" + csvRow("c3")),
			code:  1, created: []string{"c1", "c3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`NUL byte`)}},
		{name: "jsonl NUL byte", format: "jsonl",
			input: text(jsonlRow("d1") + "{\"external_id\":\"d2\",\"email_address\":\"d2\x00@example.com\"}\n" + `{"external_id":"d4","email_address":"d4\u0000@example.com"}` + "\n" + jsonlRow("d3")),
			code:  1, created: []string{"d1", "d3"},
			lines: map[int]string{2: "invalid", 3: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`invalid JSON`)}},
		{name: "csv 10 MB line", format: "csv",
			input: readers(text(csvHead+csvRow("e1")+"e2,"), func() io.Reader { return repeat("x", 10<<20) }, text("\n"+csvRow("e3"))),
			code:  1, created: []string{"e1", "e3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`record longer than 1048576 bytes`)}},
		{name: "jsonl 10 MB line", format: "jsonl",
			input: readers(text(jsonlRow("f1")+`{"external_id":"f2","first_name":"`), func() io.Reader { return repeat("y", 10<<20) }, text("\"}\n"+jsonlRow("f3"))),
			code:  1, created: []string{"f1", "f3"},
			lines: map[int]string{2: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`line longer than 1048576 bytes`)}},
		{name: "json 10 MB record", format: "json",
			input: readers(text("["+strings.TrimSpace(jsonlRow("g1"))+",\n"+`{"external_id":"g2","first_name":"`), func() io.Reader { return repeat("y", 10<<20) }, text("\"},\n"+strings.TrimSpace(jsonlRow("g3"))+"]")),
			code:  1, created: []string{"g1", "g3"},
			lines: map[int]string{2: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`line 2: record longer than 1048576 bytes`)}},
		{name: "max record size flag", format: "csv", args: []string{"--max-record-size", "100"},
			input: text(csvHead + csvRow("h1") + "h2,h2@example.com," + strings.Repeat("z", 200) + "\n" + csvRow("h3")),
			code:  1, created: []string{"h1", "h3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`longer than 100 bytes`)}},
		{name: "csv unbalanced quote", format: "csv",
			input: text(csvHead + csvRow("i1") + "i2,\"i2@example.com\n" + csvRow("i3") + csvRow("i4")),
			code:  1, created: []string{"i1", "i3", "i4"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`line 3: unterminated quoted field`)}},
		{name: "csv bare quote", format: "csv",
			input: text(csvHead + csvRow("j1") + "j2,j2\"@example.com\n" + csvRow("j3")),
			code:  1, created: []string{"j1", "j3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`bare "`)}},
		{name: "csv wrong field counts", format: "csv",
			input: text(csvHead + csvRow("k1") + "k2\n" + "k3,k3@example.com,extra\n" + csvRow("k4")),
			code:  1, created: []string{"k1", "k4"},
			lines: map[int]string{3: "invalid", 4: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`wrong number of fields \(1, header has 2\)`), 4: re(`wrong number of fields \(3, header has 2\)`)}},
		{name: "csv mixed CRLF and LF", format: "csv",
			input: text("external_id,email_address,first_name\r\n" + "l1,l1@example.com,One\n" + "l2,l2@example.com,\"Two\r\nLines\"\r\n" + "l3,l3@example.com,Three"),
			code:  0, created: []string{"l1", "l2", "l3"}},
		{name: "jsonl mixed CRLF and LF", format: "jsonl",
			input: text(strings.TrimSpace(jsonlRow("m1")) + "\r\n" + jsonlRow("m2") + "\r\n" + strings.TrimSpace(jsonlRow("m3"))),
			code:  0, created: []string{"m1", "m2", "m3"}},
		{name: "csv BOM", format: "csv", input: text("\xEF\xBB\xBF" + csvHead + csvRow("n1")), code: 0, created: []string{"n1"}},
		{name: "jsonl BOM", format: "jsonl", input: text("\xEF\xBB\xBF" + jsonlRow("o1")), code: 0, created: []string{"o1"}},
		{name: "json BOM", format: "json", input: text("\xEF\xBB\xBF[" + jsonlRow("p1") + "]"), code: 0, created: []string{"p1"}},
		// Excel's "Unicode text" and PowerShell write UTF-16 with a BOM: it is decoded, not refused.
		{name: "UTF-16LE BOM", format: "csv", input: text(utf16LE(csvHead + csvRow("t1"))), code: 0, created: []string{"t1"}},
		{name: "jsonl nested 10000 deep", format: "jsonl",
			input: text(jsonlRow("q1") + deepArray + "\n" + `{"external_id":"q2","email_address":"q2@example.com","public_metadata":` + deepObject + "}\n" + jsonlRow("q3")),
			code:  1, created: []string{"q1", "q3"},
			lines: map[int]string{2: "invalid", 3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`nested too deeply`)}},
		{name: "json nested 10000 deep", format: "json",
			input: text("[" + jsonlRow("r1") + "," + `{"external_id":"r2","email_address":"r2@example.com","public_metadata":` + deepObject + "}\n," + jsonlRow("r3") + "]"),
			code:  1, created: []string{"r1", "r3"},
			lines: map[int]string{2: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`nested too deeply`)}},
		{name: "huge numbers", format: "jsonl",
			input: text(`{"external_id":"s1","email_address":"s1@example.com","create_organizations_limit":` + hugeNumber + "}\n" +
				`{"external_id":"s2","email_address":"s2@example.com","create_organizations_limit":-` + hugeNumber + "e999}\n" + jsonlRow("s3")),
			code: 1, created: []string{"s3"},
			lines: map[int]string{1: "invalid", 2: "invalid"}, msgs: map[int]*regexp.Regexp{1: re(`whole number`)}},
		{name: "csv huge number", format: "csv",
			input: text("external_id,email_address,create_organizations_limit\n" + "t1,t1@example.com," + hugeNumber + "\nt2,t2@example.com,3\n"),
			code:  1, created: []string{"t2"},
			lines: map[int]string{2: "invalid"}},
		{name: "duplicate JSON keys", format: "jsonl",
			input: text(`{"external_id":"u1","email_address":"u1@example.com","email_address":"u1b@example.com"}` + "\n" + jsonlRow("u2")),
			code:  1, created: []string{"u2"},
			lines: map[int]string{1: "invalid"}, msgs: map[int]*regexp.Regexp{1: re(`email_address.*twice|duplicate`)}},
		{name: "jsonl trailing garbage", format: "jsonl",
			input: text(jsonlRow("v1") + strings.TrimSpace(jsonlRow("v2")) + " garbage\n" + strings.TrimSpace(jsonlRow("v4")) + jsonlRow("v5") + jsonlRow("v3")),
			code:  1, created: []string{"v1", "v3"},
			lines: map[int]string{2: "invalid", 3: "invalid"}, msgs: map[int]*regexp.Regexp{2: re(`trailing data`)}},
		{name: "json trailing garbage", format: "json",
			input: text("[" + jsonlRow("w1") + "] garbage"),
			code:  2, created: []string{"w1"}, stderr: re(`trailing data`)},
		{name: "csv empty", format: "csv", input: text(""), code: 2, stderr: re(`empty input`)},
		{name: "jsonl empty", format: "jsonl", input: text(""), code: 2, stderr: re(`empty input`)},
		{name: "json empty", format: "json", input: text(""), code: 2, stderr: re(`empty input`)},
		{name: "csv header only", format: "csv", input: text(csvHead), code: 0},
		// The 99,998 columns the mapping never reads must not become a 700 KB warning line.
		{name: "csv 100000 columns", format: "csv", input: text(wide), code: 0, created: []string{"wc1", "wc2"}, short: true},
		{name: "csv 100 MB metadata cell on stdin", format: "csv", stdin: true,
			input: readers(text("external_id,email_address,public_metadata\n"+csvRow("x1")[:len(csvRow("x1"))-1]+",{}\n"+`x2,x2@example.com,"{""k"":""`),
				func() io.Reader { return repeat("m", 100<<20) }, text(`""}"`+"\n"+"x3,x3@example.com,{}\n")),
			code: 1, created: []string{"x1", "x3"},
			lines: map[int]string{3: "invalid"}, msgs: map[int]*regexp.Regexp{3: re(`record longer than 1048576 bytes`)}},
	}
}

// TestHostileInput runs a whole import of each hostile input against a sandbox: the bad row is
// an invalid line in the journal with its line number (or, for a file-level problem, exit 2
// and a message), and the valid rows around it are imported.
func TestHostileInput(t *testing.T) {
	c := newCLI(t, "sk_test_hostile_input_0123456789")
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "run")
			args := append([]string{"import", "--rate", "1000", "--no-progress", "--out", out}, tc.args...)
			var stdin io.Reader
			if tc.stdin {
				args = append(args, "--format", tc.format, "-")
				stdin = tc.input()
			} else {
				path := filepath.Join(dir, "input."+tc.format)
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(f, tc.input()); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				args = append(args, path)
			}
			res := c.run(stdin, args...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.code, clipOutput(res.stdout), clipOutput(res.stderr))
			}
			if n := len(res.stdout) + len(res.stderr); tc.short && n > 16<<10 {
				t.Errorf("printed %d bytes; a long list (of unread columns) should be clipped:\n%s", n, clipOutput(res.stdout))
			}
			if tc.stderr != nil && !tc.stderr.MatchString(res.stderr) {
				t.Errorf("stderr does not match %q:\n%s", tc.stderr, clipOutput(res.stderr))
			}
			have := c.externalIDs()
			for _, id := range tc.created {
				if !have[id] {
					t.Errorf("user %s was not imported", id)
				}
			}
			if len(tc.lines) == 0 {
				return
			}
			rows := journal(t, out)
			for line, want := range tc.lines {
				got := rows[line]
				if got.Status != want {
					t.Errorf("line %d: status %q, want %q (journal: %+v)", line, got.Status, want, rows)
					continue
				}
				if m := tc.msgs[line]; m != nil && (got.Error == nil || !m.MatchString(got.Error.Message)) {
					t.Errorf("line %d: error %+v does not match %q", line, got.Error, m)
				}
			}
		})
	}
}

// clipOutput keeps a failure message readable when the CLI printed a lot.
func clipOutput(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// peakHeap samples the heap in use while f runs and returns the largest figure seen.
func peakHeap(f func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	<-sampled
	return peak.Load()
}

// BenchmarkHostileMemory imports the big hostile inputs and reports the peak heap in use: it
// must stay near the record size limit, not grow with the input.
func BenchmarkHostileMemory(b *testing.B) {
	for _, name := range []string{"csv 10 MB line", "jsonl 10 MB line", "csv 100000 columns", "csv 100 MB metadata cell on stdin"} {
		var tc hostileCase
		for _, c := range hostileCases() {
			if c.name == name {
				tc = c
			}
		}
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			c := newCLI(b, "sk_test_hostile_bench_0123456789")
			var peak uint64
			for i := 0; i < b.N; i++ {
				out := filepath.Join(b.TempDir(), "run")
				args := []string{"import", "--rate", "100000", "--no-progress", "--out", out, "--format", tc.format, "-"}
				runtime.GC()
				if p := peakHeap(func() { c.run(tc.input(), args...) }); p > peak {
					peak = p
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
