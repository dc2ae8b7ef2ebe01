// Package report turns a run folder into a self-contained HTML page and a Prometheus textfile.
// It reads the journal as a stream: memory grows by a few bytes a row, never with the file.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/userimport/userimport/runfolder"
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
	maxLine = runfolder.MaxLine
)

// Statuses in the order the page shows them.
var Statuses = []string{
	string(runfolder.StatusCreated), string(runfolder.StatusExists), string(runfolder.StatusFailed),
	string(runfolder.StatusInvalid), string(runfolder.StatusDuplicate), string(runfolder.StatusPending),
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
	string(runfolder.StatusPending): stPending, string(runfolder.StatusCreated): stCreated,
	string(runfolder.StatusExists): stExists, string(runfolder.StatusFailed): stFailed,
	string(runfolder.StatusInvalid): stInvalid, string(runfolder.StatusDuplicate): stDuplicate,
}

var statusName = [...]string{"", string(runfolder.StatusPending), string(runfolder.StatusCreated),
	string(runfolder.StatusExists), string(runfolder.StatusFailed), string(runfolder.StatusInvalid),
	string(runfolder.StatusDuplicate)}

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
	Status      runfolder.RunStatus `json:"status"`
	ExitCode    int                 `json:"exit_code"`
	HasSummary  bool                `json:"has_summary"` // ExitCode and the Last* figures are known
	Fatal       string              `json:"fatal,omitempty"`
	LastElapsed string              `json:"last_elapsed,omitempty"`
	Requests    int64               `json:"requests"` // latest session
	RequestRate float64             `json:"request_rate"`
	CreateRate  float64             `json:"create_rate"`

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
	return m.Counts[string(runfolder.StatusFailed)] + m.Counts[string(runfolder.StatusInvalid)] +
		m.Counts[string(runfolder.StatusDuplicate)]
}

// journalLine is a header or an event, flattened: what the report keeps of a line.
type journalLine struct {
	Event      string              `json:"event"`
	Row        int                 `json:"row"`
	Line       int                 `json:"line"`
	ExternalID string              `json:"external_id"`
	Status     string              `json:"status"`
	Error      *runfolder.RowError `json:"error"`
	At         time.Time           `json:"at"`
	RunStatus  runfolder.RunStatus `json:"run_status"`

	header runfolder.Header // when Event is "run"
}

func (l *journalLine) runKey() string {
	h := &l.header
	return h.InputSHA256 + "|" + h.MappingSHA256 + "|" + runfolder.NormalizeAPIURL(h.APIURL) + "|" + h.KeyFingerprint
}

// fill takes the line the scanner is on.
func (l *journalLine) fill(isHeader bool, h *runfolder.Header, e *runfolder.Event) {
	if isHeader {
		*l = journalLine{Event: h.Event, header: *h}
		return
	}
	*l = journalLine{Event: e.Event, Row: e.Row, Line: e.Line, ExternalID: e.ExternalID, Status: string(e.Status),
		Error: e.Error, At: e.At, RunStatus: e.RunStatus}
}

type groupKey struct{ code, param string }

// runAcc gathers one run (input, mapping, target) of the folder.
type runAcc struct {
	header   runfolder.Header
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

	lastEnd   runfolder.RunStatus // run_status of the latest session; "" if it did not end
	throttled int
	retries   int
}

func (a *runAcc) startSession(h journalLine) {
	a.closeSession()
	a.header = h.header
	a.sessions++
	if a.first.IsZero() {
		a.first = h.header.StartedAt
	}
	a.base = a.next
	a.sessStart, a.lastAt = h.header.StartedAt, h.header.StartedAt
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

func (a *runAcc) groupOf(e *runfolder.RowError, status string) uint16 {
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
	if b := a.bucketAt(l.At); b != nil && l.Status == string(runfolder.StatusCreated) {
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
	path := filepath.Join(dir, runfolder.ResultsFile)
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
		case runfolder.EventThrottled:
			cur.throttled++
			if b := cur.bucketAt(l.At); b != nil {
				b.Throttled++
			}
		case runfolder.EventRetry:
			cur.retries++
			if b := cur.bucketAt(l.At); b != nil {
				b.Retries++
			}
		case runfolder.EventEnd:
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
	m.Sandbox = last.header.Sandbox
	m.commands(dir, last.header)
	return m, nil
}

// scanJournal decodes each line the filter accepts (nil: every line), up to limit bytes
// (negative: all), and returns how many bytes it read. A damaged line is skipped and counted:
// the report should show what it can of a damaged journal; a torn last line is a crash
// mid-write, not damage, and is not counted.
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
	sc := runfolder.NewScanner(r)
	sc.Lenient, sc.Filter, sc.NoStrings = true, filter, true
	var l journalLine
	for sc.Scan() {
		l.fill(sc.IsHeader(), sc.Header(), sc.Event())
		fn(&l)
	}
	if skipped != nil {
		*skipped += sc.Skipped
	}
	if err := sc.Err(); err != nil {
		return sc.Offset(), fmt.Errorf("report: %w", err)
	}
	return sc.Offset(), nil
}

// parseLine decodes one journal line as the scanner does.
func parseLine(line []byte, l *journalLine) error {
	var h runfolder.Header
	var e runfolder.Event
	isHeader, err := runfolder.DecodeLine(bytes.TrimRight(line, "\r\n"), &h, &e)
	if err != nil {
		*l = journalLine{}
		return err
	}
	l.fill(isHeader, &h, &e)
	return nil
}

// model turns the accumulated run into the page's numbers.
func (a *runAcc) model(dir string) *Model {
	h := a.header
	mappingName := h.Mapping
	if h.Preset != "" {
		mappingName = "preset:" + h.Preset // how the page names a preset
	}
	m := &Model{
		Dir: clean(dir), Run: clean(filepath.Base(dir)),
		Tool: clean(h.Tool), Version: clean(h.Version), Input: clean(h.Input), Format: clean(h.Format),
		Mapping: clean(mappingName), API: apiTarget(h.APIURL), KeyFingerprint: clean(h.KeyFingerprint),
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
	b, err := os.ReadFile(filepath.Join(dir, runfolder.SummaryFile)) // small: bounded problem list
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var s runfolder.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("report: %s: %w", runfolder.SummaryFile, err)
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

// commands fills in how to go on: re-feed the failed rows once fixed, and resume the run. They
// come from runfolder's builder, as the terminal's hint does.
func (m *Model) commands(dir string, h runfolder.Header) {
	if m.FailedFile == "" && m.Failing() > 0 && m.Format != "" {
		m.FailedFile = runfolder.FailedFilePrefix + m.Format
	}
	if m.FailedFile != "" && m.Failing() > 0 {
		m.RefeedCommand = cleanJoin(runfolder.RefeedArgs(dir, h, m.FailedFile))
	}
	if m.Input != "" {
		m.ResumeCommand = cleanJoin(runfolder.ResumeArgs(dir, h))
	}
}

// cleanJoin redacts each argument, then quotes it for a POSIX shell.
func cleanJoin(args []string) string {
	for i, a := range args {
		args[i] = clean(a)
	}
	return runfolder.ShellJoin(args)
}
