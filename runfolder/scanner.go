package runfolder

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// MaxLine bounds one journal line: a longer one is damage, reported and never loaded whole.
const MaxLine = 1 << 20

// Warning is damage a Scanner read past: where it was and what it was.
type Warning struct {
	Line    int   // 1-based line number
	Offset  int64 // byte offset of the line's start
	Problem string
}

func (w Warning) String() string {
	return fmt.Sprintf("journal line %d (offset %d): %s", w.Line, w.Offset, w.Problem)
}

// LineError is a damaged line in the middle of a journal, which a strict Scanner stops at.
type LineError struct {
	Line   int
	Offset int64
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("journal line %d (offset %d) is not JSON: %v", e.Line, e.Offset, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Scanner reads a journal line by line: each line is a session Header or an Event. It is the
// one journal reader (resume, undo and the report use it). A damaged last line — a crash or a
// full disk mid-write: torn, NUL-padded, over-long — ends the read with a Warning. A damaged
// line with good lines after it is an error, or with Lenient a Warning, skipped and counted.
type Scanner struct {
	// Lenient skips damaged lines anywhere (the report shows what it can of a damaged journal).
	Lenient bool
	// Filter, when set, sees each raw line first; a line it refuses is not decoded.
	Filter func(line []byte) bool
	// Skipped counts damaged lines read past that were not at the end (Lenient only).
	Skipped int
	// NoStrings leaves a plain row event's strings (external_id, user_id, settled) unread:
	// a reader that needs only rows, statuses and times allocates nothing a line.
	NoStrings bool

	br       *bufio.Reader
	off      int64 // bytes consumed
	lineNo   int
	long     []byte
	isHeader bool
	hdr      Header
	ev       Event
	wire     wireLine
	bad      *Warning // a damaged line not yet known to be the last
	warnings []Warning
	err      error
}

// NewScanner reads a journal from r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{br: bufio.NewReaderSize(r, 256<<10)}
}

// Scan advances to the next header or event; false at the end or on an error (see Err).
func (s *Scanner) Scan() bool {
	for s.err == nil {
		start := s.off
		line, tooLong, eof, err := s.readLine()
		if err != nil {
			s.err = fmt.Errorf("read journal: %w", err)
			return false
		}
		if len(line) == 0 && !tooLong && eof {
			s.settleBad(true)
			return false
		}
		s.lineNo++
		body := bytes.TrimLeft(line, "\x00") // NUL padding a crash left before later lines
		body = bytes.TrimSpace(body)
		switch {
		case tooLong:
			s.damaged(start, fmt.Sprintf("longer than %d bytes", MaxLine))
		case len(body) == 0:
			if len(line) > 0 && bytes.IndexByte(line, 0) >= 0 {
				s.damaged(start, "NUL padding")
			}
		case !eof && bytes.IndexByte(body, 0) >= 0:
			s.damaged(start, "NUL bytes in the line")
		case s.Filter != nil && !s.Filter(body):
			s.settleBad(false)
		default:
			derr := s.decode(body)
			if derr != nil && eof {
				s.damaged(start, "torn: the last write did not finish")
				break
			}
			if derr != nil {
				if i := bytes.Index(body, []byte(`{"event":"run"`)); i > 0 && s.decode(body[i:]) == nil && s.isHeader {
					// Older versions appended a session's header to a torn last line.
					if s.settleBad(false); s.err != nil {
						return false
					}
					s.warnings = append(s.warnings, Warning{Line: s.lineNo, Offset: start, Problem: "a torn line before a session header"})
					return true
				}
				s.damaged(start, derr.Error())
				break
			}
			s.settleBad(false)
			if s.err != nil {
				return false
			}
			return true
		}
		if eof {
			s.settleBad(true)
			return false
		}
	}
	return false
}

// damaged notes a bad line: a warning if nothing good follows it, else an error (or a skip).
func (s *Scanner) damaged(off int64, problem string) {
	s.settleBad(false)
	if s.err == nil {
		s.bad = &Warning{Line: s.lineNo, Offset: off, Problem: problem}
	}
}

// settleBad decides the held damaged line: at the end it was a torn tail; before a good line
// it was damage in the middle.
func (s *Scanner) settleBad(atEnd bool) {
	if s.bad == nil {
		return
	}
	w := *s.bad
	s.bad = nil
	switch {
	case atEnd:
		s.warnings = append(s.warnings, w)
	case s.Lenient:
		s.Skipped++
		s.warnings = append(s.warnings, w)
	default:
		s.err = &LineError{Line: w.Line, Offset: w.Offset, Err: errors.New(w.Problem)}
	}
}

// readLine returns the next line without its newline; tooLong: it was over MaxLine and was
// read past, not kept. eof: the line had no newline (the input ended).
func (s *Scanner) readLine() (line []byte, tooLong, eof bool, err error) {
	line, err = s.br.ReadSlice('\n')
	s.off += int64(len(line))
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.br.ReadSlice('\n')
			s.off += int64(len(line))
			if !tooLong && len(s.long)+len(line) <= MaxLine+1 {
				s.long = append(s.long, line...)
			} else {
				tooLong, s.long = true, s.long[:0]
			}
		}
		line = s.long
	}
	if err != nil && err != io.EOF {
		return nil, false, false, err
	}
	eof = err == io.EOF
	if tooLong {
		return nil, true, eof, nil
	}
	if eof {
		return line, false, true, nil
	}
	return line[:len(line)-1], false, false, nil
}

// IsHeader reports whether the current line is a session header.
func (s *Scanner) IsHeader() bool { return s.isHeader }

// Header is the current line when IsHeader; valid until the next Scan.
func (s *Scanner) Header() *Header { return &s.hdr }

// Event is the current line when !IsHeader; valid until the next Scan.
func (s *Scanner) Event() *Event { return &s.ev }

// Offset is how many bytes have been read: through the current line.
func (s *Scanner) Offset() int64 { return s.off }

// Line is the current line's number, from 1.
func (s *Scanner) Line() int { return s.lineNo }

// Err is the error that ended the scan, nil at a clean end.
func (s *Scanner) Err() error { return s.err }

// Warnings is the damage read past so far, with where each was.
func (s *Scanner) Warnings() []Warning { return s.warnings }

// decode fills the current line from body.
func (s *Scanner) decode(body []byte) error {
	isHeader, err := decodeLine(body, &s.hdr, &s.ev, &s.wire, !s.NoStrings)
	if err == nil {
		s.isHeader = isHeader
	}
	return err
}

// DecodeLine decodes one journal line (without its newline) into h (a session header) or e
// (any other line), as the Scanner does.
func DecodeLine(line []byte, h *Header, e *Event) (isHeader bool, err error) {
	var w wireLine
	return decodeLine(line, h, e, &w, true)
}

// decodeLine reads the common row event by hand (fastEvent), anything else through
// encoding/json into one struct that holds every key of either kind of line.
func decodeLine(body []byte, h *Header, e *Event, w *wireLine, strs bool) (isHeader bool, err error) {
	*e = Event{}
	if fastEvent(body, e, strs) {
		return false, nil
	}
	*w = wireLine{}
	if err := json.Unmarshal(body, w); err != nil {
		return false, err
	}
	if w.Event == EventRun {
		*h = Header{Event: w.Event, Tool: w.Tool, Version: w.Version, Input: w.Input, InputSHA256: w.InputSHA256,
			Format: w.Format, Mapping: w.Mapping, Preset: w.Preset, MappingSHA256: w.MappingSHA256,
			APIURL: w.APIURL, KeyFingerprint: w.KeyFingerprint, StartedAt: w.StartedAt, RerunFlags: w.RerunFlags}
		if w.Sandbox != nil {
			h.Sandbox = *w.Sandbox
		} else {
			h.Sandbox = legacySandbox(w.APIURL, w.KeyFingerprint)
		}
		if name, ok := strings.CutPrefix(w.Mapping, "preset:"); ok && w.Preset == "" {
			h.Preset, h.Mapping = name, "" // written before Preset existed
		}
		return true, nil
	}
	*e = Event{Event: w.Event, Row: w.Row, Line: w.Line, ExternalID: w.ExternalID, Key: w.Key, Status: w.Status,
		UserID: w.UserID, Error: w.Error, Attempts: w.Attempts, Settled: w.Settled, DupOfLine: w.DupOfLine,
		Dropped: w.Dropped, Readiness: w.Readiness, At: w.At, RunStatus: w.RunStatus}
	return false, nil
}

// wireLine is a header or an event: one decode per line whatever it is.
type wireLine struct {
	Event      string    `json:"event"`
	Row        int       `json:"row"`
	Line       int       `json:"line"`
	ExternalID string    `json:"external_id"`
	Key        string    `json:"key"`
	Status     Status    `json:"status"`
	UserID     string    `json:"user_id"`
	Error      *RowError `json:"error"`
	Attempts   int       `json:"attempts"`
	Settled    string    `json:"settled"`
	DupOfLine  int       `json:"duplicate_of_line"`
	Dropped    []string  `json:"dropped"`
	Readiness  []string  `json:"readiness"`
	At         time.Time `json:"at"`
	RunStatus  RunStatus `json:"run_status"`

	Tool           string    `json:"tool"`
	Version        string    `json:"version"`
	Input          string    `json:"input"`
	InputSHA256    string    `json:"input_sha256"`
	Format         string    `json:"format"`
	Mapping        string    `json:"mapping"`
	Preset         string    `json:"preset"`
	MappingSHA256  string    `json:"mapping_sha256"`
	APIURL         string    `json:"api_url"`
	Sandbox        *bool     `json:"sandbox"` // nil: a header written before the field existed
	KeyFingerprint string    `json:"key_fingerprint"`
	StartedAt      time.Time `json:"started_at"`
	RerunFlags     []string  `json:"rerun_flags"`
}

// legacyRehearsalFingerprint is the fingerprint of the key `import --sandbox` used when none was
// set, for headers written before they said Sandbox themselves.
const legacyRehearsalFingerprint = "e5e4a691a288" // sha256("sk_test_sandbox_rehearsal")[:12]

// legacySandbox tells, for an old header, whether the run went to the in-process sandbox: a
// loopback API and the rehearsal key.
func legacySandbox(apiURL, fingerprint string) bool {
	u, err := url.Parse(apiURL)
	if err != nil || fingerprint != legacyRehearsalFingerprint {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

// ReadJournal calls onHeader and onEvent for each line of r in order, with a strict Scanner,
// and returns the damage it read past at the end.
func ReadJournal(r io.Reader, onHeader func(Header), onEvent func(Event)) ([]Warning, error) {
	s := NewScanner(r)
	for s.Scan() {
		if s.IsHeader() {
			onHeader(*s.Header())
		} else {
			onEvent(*s.Event())
		}
	}
	return s.Warnings(), s.Err()
}
