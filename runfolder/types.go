package runfolder

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// Status is a row's state in the journal (DESIGN.md §1).
type Status string

// Row statuses. A row's last status is its state; "left" (taken but given back unsent) is a
// count in the summary, never a journal line.
const (
	StatusPending   Status = "pending" // written ahead of a create: the outcome is not known yet
	StatusCreated   Status = "created"
	StatusExists    Status = "exists" // already in the instance: adopted, never deleted by undo
	StatusFailed    Status = "failed"
	StatusInvalid   Status = "invalid"
	StatusDuplicate Status = "duplicate"
	StatusSkipped   Status = "skipped"
	StatusDeleted   Status = "deleted" // undo.jsonl: the user was deleted
)

// Finished reports whether a row in this status needs nothing more: its user is in the instance.
func (s Status) Finished() bool { return s == StatusCreated || s == StatusExists }

// RunStatus is how a session ended; main maps it to an exit code.
type RunStatus string

const (
	RunComplete     RunStatus = "complete"               // every row created or already present
	RunWithFailures RunStatus = "complete_with_failures" // every row settled, some failed or invalid
	RunStopped      RunStatus = "stopped"                // --limit / --max-duration: re-run to continue
	RunInterrupted  RunStatus = "interrupted"            // a signal: re-run to continue
	RunFatal        RunStatus = "fatal"                  // 401/403/quota or an I/O failure
	RunAlready      RunStatus = "already_complete"       // nothing to do
)

// EventRun is the Event field of a session header.
const EventRun = "run"

// Events other than row state changes, kept for the run report's time line.
const (
	EventEnd       = "end"       // a session's last line, with its run_status
	EventThrottled = "throttled" // a 429 was answered
	EventRetry     = "retry"     // a call is about to be retried
)

// Header opens each run session in results.jsonl; resume compares it with the next run's.
type Header struct {
	Event       string `json:"event"` // "run"
	Tool        string `json:"tool"`
	Version     string `json:"version"`
	Input       string `json:"input"`
	InputSHA256 string `json:"input_sha256"` // "" when not known up front (stdin)
	Format      string `json:"format"`
	// Mapping is the mapping file given; "" for a preset. Journals before Preset existed wrote
	// "preset:NAME" here: the Scanner reads that into Preset.
	Mapping       string `json:"mapping"`
	Preset        string `json:"preset,omitempty"` // the preset's name, "" for a mapping file
	MappingSHA256 string `json:"mapping_sha256"`
	APIURL        string `json:"api_url"`
	// Sandbox: the target is the built-in sandbox (--sandbox), so nothing reached Clerk.
	Sandbox        bool      `json:"sandbox"`
	KeyFingerprint string    `json:"key_fingerprint"`
	StartedAt      time.Time `json:"started_at"`
	// RerunFlags are the flags, --out aside, that read this input as this session did
	// (--sandbox, --preset or --mapping, --encoding, …), for the next commands; never a secret.
	RerunFlags []string `json:"rerun_flags,omitempty"`
}

// SameTarget reports whether two headers name the same instance: the same key at the same
// API, however the URL is spelled.
func (h Header) SameTarget(o Header) bool {
	return h.KeyFingerprint == o.KeyFingerprint && NormalizeAPIURL(h.APIURL) == NormalizeAPIURL(o.APIURL)
}

// SameRun reports whether two headers name the same run: same input, mapping and target. An
// input whose content was not known up front (stdin) is never the same run: its row numbers
// cannot be trusted to name the same rows.
func (h Header) SameRun(o Header) bool {
	return h.InputSHA256 != "" && h.InputSHA256 == o.InputSHA256 && h.MappingSHA256 == o.MappingSHA256 && h.SameTarget(o)
}

// NormalizeAPIURL spells an API URL one way, so that spellings of one server compare equal:
// scheme and host lower-cased, a default port dropped, every loopback name (localhost,
// 127.0.0.0/8, ::1) one host, no trailing slash. What does not parse is returned trimmed.
func NormalizeAPIURL(raw string) string {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.TrimRight(s, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		host = "loopback"
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// RowError is what the journal keeps of a refusal: never a secret, an email only when the
// error is about it.
type RowError struct {
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	HTTP    int    `json:"http,omitempty"`
	Message string `json:"message"`
}

// Event is one line of the journal: a row's state change, a session's end, a 429 or a retry.
type Event struct {
	Event      string    `json:"event,omitempty"` // "" for row events, else one of the Event* names
	Row        int       `json:"row,omitempty"`
	Line       int       `json:"line,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	Key        string    `json:"key,omitempty"` // a row without external_id: its primary identifier's digest (importer's rowKey)
	Status     Status    `json:"status,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	Error      *RowError `json:"error,omitempty"`
	Attempts   int       `json:"attempts,omitempty"`
	Settled    string    `json:"settled,omitempty"` // how an uncertain create was settled: "lookup", "identifier_exists"
	DupOfLine  int       `json:"duplicate_of_line,omitempty"`
	// Dropped are the create fields left out because the instance cannot store them, and
	// Readiness the reason codes its settings gave the row (issue 15): names, never values.
	Dropped   []string  `json:"dropped,omitempty"`
	Readiness []string  `json:"readiness,omitempty"`
	At        time.Time `json:"at,omitzero"` // always set in the journal; a summary's problem may have none
	// Set on "end" events.
	RunStatus RunStatus `json:"run_status,omitempty"`
}

// Summary is summary.json.
type Summary struct {
	RunStatus    RunStatus      `json:"status"`
	ExitCode     int            `json:"exit_code"`
	Counts       map[Status]int `json:"counts"`      // by Status, and "valid" for validate
	DoneBefore   int            `json:"done_before"` // rows finished by an earlier session, skipped
	Rows         int            `json:"rows"`        // rows read this session
	Left         int            `json:"left"`        // rows not reached or left pending: re-run to continue
	Requests     int64          `json:"requests"`
	Creates      int64          `json:"creates"`
	Status429    int64          `json:"status_429"`
	Retries      int64          `json:"retries"`
	Elapsed      string         `json:"elapsed"`
	ElapsedSec   float64        `json:"elapsed_seconds"`
	RequestRate  float64        `json:"request_rate"`
	CreateRate   float64        `json:"create_rate"`
	Concurrency  int            `json:"concurrency"`          // in-flight limit at the end
	LatencyMS    float64        `json:"latency_ms,omitempty"` // smoothed API latency at the end
	Fatal        string         `json:"fatal,omitempty"`
	StartedAt    time.Time      `json:"started_at"`
	FinishedAt   time.Time      `json:"finished_at"`
	FailedFile   string         `json:"failed_file,omitempty"`
	UnreadFields []string       `json:"unread_columns,omitempty"`
	Problems     []Event        `json:"problems,omitempty"` // the first rows not imported, with line and reason
	Fields       map[string]int `json:"fields,omitempty"`   // validate: how many valid rows carry each field
	Joins        []JoinCount    `json:"joins,omitempty"`    // one per --join file

	// FailedReasonsFile is failed-reasons.csv: why each row of FailedFile is there.
	FailedReasonsFile string `json:"failed_reasons_file,omitempty"`
}

// JoinCount is what one --join file gave this session: counts only (its keys can be emails).
type JoinCount struct {
	Name       string `json:"name"` // the join's name, as in join.<name>.<field>
	File       string `json:"file"`
	Rows       int    `json:"rows"`       // records read from the file
	Indexed    int    `json:"indexed"`    // rows kept, one per key
	Filtered   int    `json:"filtered"`   // rows the join's where left out, or with no key
	Duplicate  int    `json:"duplicate"`  // rows repeating an earlier row's key: the first is joined
	Unreadable int    `json:"unreadable"` // rows that could not be read
	Matched    int    `json:"matched"`    // input records that found their row
	NoMatch    int    `json:"no_match"`   // input records whose key matched no row
	NoKey      int    `json:"no_key"`     // input records with no join key
	// Unused is how many kept rows no input record matched; absent when this session did not
	// map the whole input (a resumed, limited or stopped run), which would overcount it.
	Unused *int `json:"unused,omitempty"`
}
