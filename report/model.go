// Package report turns a run folder into a self-contained HTML page and a Prometheus textfile.
// It reads the journal as a stream: memory grows by a few bytes a row, never with the file.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/userimport/userimport/importer"
)

const (
	// BucketSeconds is the width of one step of the time series.
	BucketSeconds = 10
	bucket        = BucketSeconds * time.Second
	// maxExamples is how many rows each failure group lists.
	maxExamples = 10
	// maxGroups bounds the (code, param) groups; any beyond fold into one "other" group.
	maxGroups = 200
	// maxRow and maxBuckets stop a corrupt line from asking for a huge allocation.
	maxRow     = 1 << 28
	maxBuckets = 1 << 20 // ~120 days of active time
	// maxLine bounds one journal line; longer lines are skipped.
	maxLine = 1 << 20
)

// Statuses in the order the page shows them.
var Statuses = []string{
	importer.StatusCreated, importer.StatusExists, importer.StatusFailed,
	importer.StatusInvalid, importer.StatusDuplicate, importer.StatusPending,
}

// status codes in the per-row state array; 0 means the row was never seen.
const (
	stNone uint8 = iota
	stPending
	stCreated
	stExists
	stFailed
	stInvalid
	stDuplicate
)

var statusCode = map[string]uint8{
	importer.StatusPending: stPending, importer.StatusCreated: stCreated, importer.StatusExists: stExists,
	importer.StatusFailed: stFailed, importer.StatusInvalid: stInvalid, importer.StatusDuplicate: stDuplicate,
}

var statusName = [...]string{"", importer.StatusPending, importer.StatusCreated, importer.StatusExists,
	importer.StatusFailed, importer.StatusInvalid, importer.StatusDuplicate}

func failing(st uint8) bool { return st >= stFailed }

// Bucket is one BucketSeconds step of the run's active time.
type Bucket struct {
	Created   int `json:"created"`
	Throttled int `json:"throttled"`
	Retries   int `json:"retries"`
	// Seconds is set on a session's last bucket when the session ended inside it, so its rate
	// is not understated.
	Seconds float64 `json:"seconds,omitempty"`
}

// span is how many seconds of active time the bucket covers.
func (b Bucket) span() float64 {
	if b.Seconds > 0 {
		return b.Seconds
	}
	return BucketSeconds
}

// Example is a row of a failure group, enough to find it in the input.
type Example struct {
	Row        int    `json:"row"`
	Line       int    `json:"line,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// FailureGroup is the rows whose last status is a refusal with the same code and parameter.
type FailureGroup struct {
	Status   string    `json:"status"` // of the first row seen in the group
	Code     string    `json:"code"`
	Param    string    `json:"param,omitempty"`
	HTTP     int       `json:"http,omitempty"`
	Message  string    `json:"message"` // the first row's, redacted and shortened
	Count    int       `json:"count"`
	Examples []Example `json:"examples"`
}

// Model is every number the page shows: built streaming from the run folder, golden-testable.
// It covers the run of the folder's latest session: every session with the same input,
// mapping and target. Its strings have been through redaction; it never holds a key.
type Model struct {
	Dir            string `json:"dir"`
	Run            string `json:"run"` // the run folder's name
	Tool           string `json:"tool"`
	Version        string `json:"version"`
	Input          string `json:"input"`
	Format         string `json:"format"`
	Mapping        string `json:"mapping"`
	API            string `json:"api"` // host and path, no scheme
	KeyFingerprint string `json:"key_fingerprint"`

	StartedAt     time.Time `json:"started_at"`  // the run's first session
	FinishedAt    time.Time `json:"finished_at"` // the last event or summary, whichever is later
	Sessions      int       `json:"sessions"`
	OtherSessions int       `json:"other_sessions,omitempty"` // of other inputs in the same folder, not counted
	ActiveSeconds float64   `json:"active_seconds"`           // summed over sessions, gaps between them left out

	// Status is the latest session's run status: from summary.json, else the journal's end
	// line, else "unfinished" (running, or killed without a summary).
	Status      string  `json:"status"`
	ExitCode    int     `json:"exit_code"`
	HasSummary  bool    `json:"has_summary"` // ExitCode and the Last* figures are known
	Fatal       string  `json:"fatal,omitempty"`
	LastElapsed string  `json:"last_elapsed,omitempty"`
	Requests    int64   `json:"requests"` // latest session
	RequestRate float64 `json:"request_rate"`
	CreateRate  float64 `json:"create_rate"`

	Rows      int            `json:"rows"`   // rows the journal knows
	Counts    map[string]int `json:"counts"` // by each row's last status
	Throttled int            `json:"throttled"`
	Retries   int            `json:"retries"`

	Buckets       []Bucket       `json:"buckets"`
	SessionStarts []int          `json:"session_starts"` // bucket index where each session begins
	Failures      []FailureGroup `json:"failures"`

	Sandbox       bool   `json:"sandbox,omitempty"` // a --sandbox rehearsal: the commands say so too
	FailedFile    string `json:"failed_file,omitempty"`
	RefeedCommand string `json:"refeed_command,omitempty"`
	ResumeCommand string `json:"resume_command,omitempty"`
	SkippedLines  int    `json:"skipped_lines,omitempty"` // not JSON, or too long
}

// Failing is how many rows ended refused: failed, invalid or duplicate.
func (m *Model) Failing() int {
	return m.Counts[importer.StatusFailed] + m.Counts[importer.StatusInvalid] + m.Counts[importer.StatusDuplicate]
}

// journalLine is a header or an event: one decode per line whatever it is.
type journalLine struct {
	Event      string             `json:"event"`
	Row        int                `json:"row"`
	Line       int                `json:"line"`
	ExternalID string             `json:"external_id"`
	Status     string             `json:"status"`
	Error      *importer.RowError `json:"error"`
	At         time.Time          `json:"at"`
	RunStatus  string             `json:"run_status"`

	Tool           string    `json:"tool"`
	Version        string    `json:"version"`
	Input          string    `json:"input"`
	InputSHA256    string    `json:"input_sha256"`
	Format         string    `json:"format"`
	Mapping        string    `json:"mapping"`
	MappingSHA256  string    `json:"mapping_sha256"`
	APIURL         string    `json:"api_url"`
	KeyFingerprint string    `json:"key_fingerprint"`
	StartedAt      time.Time `json:"started_at"`
}

func (l *journalLine) runKey() string {
	return l.InputSHA256 + "|" + l.MappingSHA256 + "|" + l.APIURL + "|" + l.KeyFingerprint
}

type groupKey struct{ code, param string }

// runAcc gathers one run (input, mapping, target) of the folder.
type runAcc struct {
	header   journalLine
	first    time.Time
	sessions int

	state []uint8  // last status per row number
	group []uint16 // failure group (index+1) of the row's last failing event

	groups   []*FailureGroup
	groupIdx map[groupKey]uint16

	buckets       []Bucket
	sessionStarts []int
	base          int // bucket offset of the current session
	next          int // first bucket index free for the next session
	sessStart     time.Time
	lastAt        time.Time
	active        time.Duration

	lastEnd   string // run_status of the latest session; "" if it did not end
	throttled int
	retries   int
}

func (a *runAcc) startSession(h journalLine) {
	a.closeSession()
	a.header = h
	a.sessions++
	if a.first.IsZero() {
		a.first = h.StartedAt
	}
	a.base = a.next
	a.sessStart, a.lastAt = h.StartedAt, h.StartedAt
	a.sessionStarts = append(a.sessionStarts, a.base)
	a.lastEnd = ""
}

func (a *runAcc) closeSession() {
	if a.sessStart.IsZero() || !a.lastAt.After(a.sessStart) {
		return
	}
	d := a.lastAt.Sub(a.sessStart)
	a.active += d
	if i := a.base + int(d/bucket); i < len(a.buckets) {
		// At least a second, so a session ending just after a step does not draw a spike.
		a.buckets[i].Seconds = max((d % bucket).Seconds(), 1)
	}
}

// bucketAt returns the bucket an instant falls in, or nil for an instant outside the session.
func (a *runAcc) bucketAt(at time.Time) *Bucket {
	if at.IsZero() {
		return nil
	}
	if a.sessStart.IsZero() { // events before any header: the first one starts the clock
		a.sessStart, a.lastAt = at, at
		a.sessionStarts = append(a.sessionStarts, 0)
	}
	off := max(at.Sub(a.sessStart), 0)
	if off/bucket >= maxBuckets { // a clock jump, not a months-long session
		return nil
	}
	if at.After(a.lastAt) {
		a.lastAt = at
	}
	i := a.base + int(off/bucket)
	for len(a.buckets) <= i {
		a.buckets = append(a.buckets, Bucket{})
	}
	if i+1 > a.next {
		a.next = i + 1
	}
	return &a.buckets[i]
}

func (a *runAcc) groupOf(e *importer.RowError, status string) uint16 {
	k := groupKey{code: "error", param: ""}
	if e != nil {
		k = groupKey{code: e.Code, param: e.Param}
	}
	if i, ok := a.groupIdx[k]; ok {
		return i + 1
	}
	if len(a.groups) >= maxGroups {
		k = groupKey{code: "other", param: ""}
		if i, ok := a.groupIdx[k]; ok {
			return i + 1
		}
	}
	g := &FailureGroup{Status: status, Code: k.code, Param: k.param}
	if e != nil && k.code != "other" {
		g.HTTP = e.HTTP
		g.Message = shorten(clean(e.Message), 240)
	}
	a.groupIdx[k] = uint16(len(a.groups))
	a.groups = append(a.groups, g)
	return uint16(len(a.groups))
}

func (a *runAcc) rowEvent(l *journalLine) {
	if b := a.bucketAt(l.At); b != nil && l.Status == importer.StatusCreated {
		b.Created++
	}
	st, ok := statusCode[l.Status]
	if !ok || l.Row <= 0 || l.Row >= maxRow {
		return
	}
	if l.Row >= len(a.state) {
		n := max(l.Row+1, 2*len(a.state), 1024)
		a.state = append(a.state, make([]uint8, n-len(a.state))...)
		a.group = append(a.group, make([]uint16, n-len(a.group))...)
	}
	// A pending mark after a settled status is a resumed run retrying the row; it counts.
	a.state[l.Row] = st
	if failing(st) {
		a.group[l.Row] = a.groupOf(l.Error, l.Status)
	} else {
		a.group[l.Row] = 0
	}
}

// Build reads dir/results.jsonl and dir/summary.json into a Model. It reads the journal
// twice, streaming: once for the states and the time line, and when a row failed, once (only lines holding an error)
// for each failure group's first rows.
func Build(dir string) (*Model, error) {
	path := filepath.Join(dir, importer.JournalFile)
	runs := map[string]*runAcc{}
	var cur *runAcc
	var last *runAcc // the run of the latest session
	skipped := 0
	read, err := scanJournal(path, -1, nil, &skipped, func(l *journalLine) {
		if l.Event == "run" {
			k := l.runKey()
			cur = runs[k]
			if cur == nil {
				cur = &runAcc{groupIdx: map[groupKey]uint16{}}
				runs[k] = cur
			}
			cur.startSession(*l)
			last = cur
			return
		}
		if cur == nil { // a journal without a header line: take what it has
			cur = &runAcc{groupIdx: map[groupKey]uint16{}}
			runs[""] = cur
			last = cur
		}
		switch l.Event {
		case "":
			cur.rowEvent(l)
		case importer.EventThrottled:
			cur.throttled++
			if b := cur.bucketAt(l.At); b != nil {
				b.Throttled++
			}
		case importer.EventRetry:
			cur.retries++
			if b := cur.bucketAt(l.At); b != nil {
				b.Retries++
			}
		case importer.EventEnd:
			cur.lastEnd = l.RunStatus
			cur.bucketAt(l.At)
		}
	})
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, fmt.Errorf("report: %s holds no run", path)
	}
	last.closeSession()

	// Second pass: examples, only for rows whose last event falls in their group.
	filter := func(line []byte) bool {
		return bytes.Contains(line, []byte(`"error"`)) || bytes.Contains(line, []byte(`"run"`))
	}
	var on *runAcc
	addExample := func(l *journalLine) {
		if l.Event == "run" {
			on = runs[l.runKey()]
			return
		}
		if on == nil {
			on = runs[""]
		}
		if on != last || l.Event != "" || l.Row <= 0 || l.Row >= len(on.state) || !failing(on.state[l.Row]) {
			return
		}
		gi := on.group[l.Row]
		if gi == 0 || on.groupOf(l.Error, l.Status) != gi {
			return
		}
		g := on.groups[gi-1]
		for _, ex := range g.Examples {
			if ex.Row == l.Row {
				return
			}
		}
		if len(g.Examples) < maxExamples {
			g.Examples = append(g.Examples, Example{Row: l.Row, Line: l.Line, ExternalID: clean(l.ExternalID)})
		}
	}
	// Only as far as the first pass read: a running import may have appended since. A run
	// with no failing row has no group to find examples for, and skips the pass.
	if len(last.groups) > 0 {
		if _, err := scanJournal(path, read, filter, nil, addExample); err != nil {
			return nil, err
		}
	}

	m := last.model(dir)
	m.SkippedLines = skipped
	for _, r := range runs {
		if r != last {
			m.OtherSessions += r.sessions
		}
	}
	if err := m.addSummary(dir, last); err != nil {
		return nil, err
	}
	m.Sandbox = rehearsal(last.header.APIURL, last.header.KeyFingerprint)
	m.commands(dir)
	return m, nil
}

// scanJournal decodes each line the filter accepts (nil: every line), up to limit bytes
// (negative: all), and returns how many bytes it read. A line that is not JSON is skipped and
// counted: the report should show what it can of a damaged journal.
func scanJournal(path string, limit int64, filter func([]byte) bool, skipped *int, fn func(*journalLine)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	var read int64
	br := bufio.NewReaderSize(r, 256<<10)
	var l journalLine
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		read += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it, up to maxLine.
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				read += int64(len(line))
				if len(long) <= maxLine {
					long = append(long, line...)
				}
			}
			line = long
			if len(line) > maxLine {
				line = nil
				if skipped != nil {
					*skipped++
				}
			}
		}
		if err != nil && err != io.EOF {
			return read, fmt.Errorf("report: read journal: %w", err)
		}
		if len(bytes.TrimSpace(line)) > 0 && (filter == nil || filter(line)) {
			if jerr := parseLine(line, &l); jerr != nil {
				if skipped != nil && err != io.EOF { // a torn last line is a crash mid-write, not damage
					*skipped++
				}
			} else {
				fn(&l)
			}
		}
		if err == io.EOF {
			return read, nil
		}
	}
}

// parseLine decodes one journal line. The common line, a row event without an error as the
// importer writes it, is read by hand (fastRow): a full decode of every line is most of the
// time a million-row report takes. Any other shape goes through encoding/json.
func parseLine(line []byte, l *journalLine) error {
	*l = journalLine{}
	if fastRow(line, l) {
		return nil
	}
	*l = journalLine{}
	return json.Unmarshal(line, l)
}

// fastRow reads a flat, compact object whose keys are the row event's own, spelled exactly
// (encoding/json would also take "Status"), with a known status and an RFC 3339 time; the last
// of a repeated key wins, as in encoding/json. It gives up (false) on anything else.
func fastRow(line []byte, l *journalLine) bool {
	b := bytes.TrimRight(line, "\r\n")
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	var status, at []byte
	row, haveRow := 0, false
	for i := 1; ; {
		key, next, plain := jsonString(b, i)
		if !plain || next >= len(b) || b[next] != ':' {
			return false
		}
		i = next + 1
		var val []byte
		isStr := i < len(b) && b[i] == '"'
		if isStr {
			if val, next, plain = jsonString(b, i); next < 0 {
				return false
			}
		} else {
			next = i
			for next < len(b) && b[next] != ',' && b[next] != '}' {
				next++
			}
			if val = b[i:next]; !isInt(val) {
				return false // null, floats, objects, arrays, spaces: encoding/json's call
			}
		}
		i = next
		switch string(key) {
		case "row":
			n, err := strconv.Atoi(string(val))
			if isStr || err != nil {
				return false
			}
			row, haveRow = n, true
		case "status", "at":
			if !isStr || !plain {
				return false
			}
			if string(key) == "status" {
				status = val
			} else {
				at = val
			}
		case "line", "attempts", "duplicate_of_line":
			if isStr {
				return false
			}
		case "external_id", "user_id", "settled":
			if !isStr {
				return false
			}
		default:
			return false // event lines, errors, headers, and keys only encoding/json would match
		}
		if b[i] == '}' {
			if i != len(b)-1 {
				return false
			}
			break
		}
		i++ // the comma
	}
	st, known := statusCode[string(status)]
	if !haveRow || !known || at == nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, string(at))
	if err != nil {
		return false
	}
	l.Row, l.At, l.Status = row, t, statusName[st] // interned: no allocation per line
	return true
}

// jsonString returns the contents of the string starting at b[i] (a quote) and the index after
// it; next < 0 when there is none. plain: it holds no escape, so its contents are its value.
func jsonString(b []byte, i int) (s []byte, next int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1, false
	}
	plain = true
	for j := i + 1; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return nil, -1, false
		}
		e := bytes.IndexByte(b[j:j+q], '\\')
		if e < 0 {
			return b[i+1 : j+q], j + q + 1, plain
		}
		plain, j = false, j+e+2 // an escape: skip the escaped byte
	}
	return nil, -1, false
}

// isInt tells whether v is a JSON integer.
func isInt(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 18 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// model turns the accumulated run into the page's numbers.
func (a *runAcc) model(dir string) *Model {
	h := a.header
	m := &Model{
		Dir: clean(dir), Run: clean(filepath.Base(dir)),
		Tool: clean(h.Tool), Version: clean(h.Version), Input: clean(h.Input), Format: clean(h.Format),
		Mapping: clean(h.Mapping), API: apiTarget(h.APIURL), KeyFingerprint: clean(h.KeyFingerprint),
		StartedAt: a.first, FinishedAt: a.lastAt, Sessions: a.sessions,
		ActiveSeconds: a.active.Seconds(), Status: a.lastEnd,
		Counts: map[string]int{}, Throttled: a.throttled, Retries: a.retries,
		Buckets: a.buckets, SessionStarts: a.sessionStarts, Failures: []FailureGroup{},
	}
	if m.Status == "" {
		m.Status = "unfinished"
	}
	if m.Buckets == nil {
		m.Buckets = []Bucket{}
	}
	for _, s := range Statuses {
		m.Counts[s] = 0
	}
	counts := make([]int, len(a.groups))
	for row, st := range a.state {
		if st == stNone {
			continue
		}
		m.Rows++
		m.Counts[statusName[st]]++
		if failing(st) && a.group[row] > 0 {
			counts[a.group[row]-1]++
		}
	}
	for i, g := range a.groups {
		if counts[i] == 0 {
			continue // every row of it was imported later
		}
		g.Count = counts[i]
		if g.Examples == nil {
			g.Examples = []Example{}
		}
		m.Failures = append(m.Failures, *g)
	}
	sort.SliceStable(m.Failures, func(i, j int) bool { return m.Failures[i].Count > m.Failures[j].Count })
	return m
}

// addSummary takes the latest session's status and rates from summary.json when it belongs
// to that session (the journal's header and the summary share the start time).
func (m *Model) addSummary(dir string, a *runAcc) error {
	b, err := os.ReadFile(filepath.Join(dir, importer.SummaryFile)) // small: bounded problem list
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var s importer.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("report: %s: %w", importer.SummaryFile, err)
	}
	if !a.header.StartedAt.IsZero() && !s.StartedAt.Equal(a.header.StartedAt) {
		return nil // an earlier session's: the latest one has not finished
	}
	m.HasSummary = true
	m.Status, m.ExitCode, m.Fatal = s.RunStatus, s.ExitCode, shorten(clean(s.Fatal), 400)
	m.LastElapsed, m.Requests, m.RequestRate, m.CreateRate = s.Elapsed, s.Requests, s.RequestRate, s.CreateRate
	if s.FinishedAt.After(m.FinishedAt) {
		m.FinishedAt = s.FinishedAt
	}
	if s.FailedFile != "" {
		m.FailedFile = clean(filepath.Base(s.FailedFile))
	}
	return nil
}

// commands fills in how to go on: re-feed the failed rows once fixed, and resume the run.
func (m *Model) commands(dir string) {
	var flags []string
	if m.Sandbox {
		flags = append(flags, "--sandbox")
	}
	if preset, ok := strings.CutPrefix(m.Mapping, "preset:"); ok {
		flags = append(flags, "--preset", preset)
	} else if m.Mapping != "" {
		flags = append(flags, "--mapping", m.Mapping)
	}
	if m.FailedFile == "" && m.Failing() > 0 && m.Format != "" {
		m.FailedFile = "failed." + m.Format
	}
	if m.FailedFile != "" && m.Failing() > 0 {
		args := append([]string{"userimport", "import"}, flags...)
		m.RefeedCommand = shellJoin(append(args, filepath.Join(clean(dir), m.FailedFile)))
	}
	if m.Input != "" {
		args := append([]string{"userimport", "import", "--out", clean(dir)}, flags...)
		m.ResumeCommand = shellJoin(append(args, m.Input))
	}
}

// rehearsalFingerprint is the fingerprint of the key `import --sandbox` uses when none is set.
const rehearsalFingerprint = "e5e4a691a288" // sha256("sk_test_sandbox_rehearsal")[:12]

// rehearsal reports whether a run went to the in-process sandbox: a loopback API and the
// rehearsal key. Its commands must say --sandbox, or following them would reach Clerk.
func rehearsal(apiURL, fingerprint string) bool {
	u, err := url.Parse(apiURL)
	if err != nil || fingerprint != rehearsalFingerprint {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

// shellJoin quotes each argument that a POSIX shell would otherwise split or expand.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@%") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
