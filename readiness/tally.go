package readiness

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Row names a classified row for the report.
type Row struct {
	Line       int    `json:"line"`
	ExternalID string `json:"external_id,omitempty"`
}

// Tally counts verdicts over a file: each row once in its class, and each reason it has.
// It is not safe for concurrent use.
type Tally struct {
	settings *Settings
	readErr  error
	firstN   int
	rows     int
	classes  [WillNotImport + 1]bucket
	reasons  map[string]*reasonBucket
}

type bucket struct {
	n     int
	first []Row
}

type reasonBucket struct {
	Reason
	bucket
}

// NewTally starts a tally against s, keeping the first firstN rows of each class and reason.
// When the settings could not be read, pass nil and the error: the tally then counts rows,
// flags none and says why.
func NewTally(s *Settings, readErr error, firstN int) *Tally {
	if s == nil && readErr == nil {
		readErr = fmt.Errorf("no instance settings")
	}
	if s != nil {
		readErr = nil
	}
	return &Tally{settings: s, readErr: readErr, firstN: max(firstN, 0), reasons: map[string]*reasonBucket{}}
}

// Settings are the settings the tally classifies against; nil when they could not be read.
func (t *Tally) Settings() *Settings { return t.settings }

func (b *bucket) add(r Row, firstN int) {
	b.n++
	if len(b.first) < firstN {
		b.first = append(b.first, r)
	}
}

// Add counts one row's verdict. Without settings the row is counted and nothing else.
func (t *Tally) Add(line int, externalID string, v Verdict) {
	t.rows++
	if t.settings == nil {
		return
	}
	r := Row{Line: line, ExternalID: externalID}
	t.classes[v.Class].add(r, t.firstN)
	for _, rs := range v.Reasons {
		rb := t.reasons[rs.Code]
		if rb == nil {
			rb = &reasonBucket{Reason: rs}
			rb.Fields = nil // per row; the report names the reason, not one row's fields
			t.reasons[rs.Code] = rb
		}
		rb.add(r, t.firstN)
	}
}

// Rows is the number of rows added.
func (t *Tally) Rows() int { return t.rows }

// Count is the rows in class c; zero for every class when the settings could not be read.
func (t *Tally) Count(c Class) int {
	if c < Full || c > WillNotImport {
		return 0
	}
	return t.classes[c].n
}

// ReasonCount is one reason with the rows it applies to.
type ReasonCount struct {
	Reason
	Rows  int   `json:"rows"`
	First []Row `json:"first_rows"`
}

// Reasons are the reasons seen, worst class first, then the most rows, then by code.
func (t *Tally) Reasons() []ReasonCount {
	out := make([]ReasonCount, 0, len(t.reasons))
	for _, rb := range t.reasons {
		out = append(out, ReasonCount{Reason: rb.Reason, Rows: rb.n, First: slices.Clone(rb.first)})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Class, a.Class), cmp.Compare(b.Rows, a.Rows), strings.Compare(a.Code, b.Code))
	})
	return out
}

// Summary is the tally for summary.json.
type Summary struct {
	SettingsRead     bool          `json:"settings_read"`
	ReadError        string        `json:"settings_error,omitempty"`
	Rows             int           `json:"rows"`
	Full             int           `json:"full"`
	WithoutSomething int           `json:"without_something"`
	WillNotImport    int           `json:"will_not_import"`
	Reasons          []ReasonCount `json:"reasons,omitempty"`
}

// Summary returns the counts and reasons.
func (t *Tally) Summary() Summary {
	s := Summary{SettingsRead: t.settings != nil, Rows: t.rows, Full: t.Count(Full),
		WithoutSomething: t.Count(WithoutSomething), WillNotImport: t.Count(WillNotImport), Reasons: t.Reasons()}
	if t.readErr != nil {
		s.ReadError = t.readErr.Error()
	}
	return s
}

// Render writes the readiness report: the three totals (they add up to the rows), each reason
// with its count, first rows and what to change; or, without settings, why nothing was checked.
func (t *Tally) Render(w io.Writer) error {
	var b strings.Builder
	if t.settings == nil {
		fmt.Fprintf(&b, "Readiness: could not read the instance's settings (%v).\n", t.readErr)
		fmt.Fprintf(&b, "  Nothing is flagged: %s not checked against the instance's sign-up settings.\n", plural(t.rows, "row"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Readiness against the instance's settings: %s\n", plural(t.rows, "row"))
	for c := WillNotImport; c >= Full; c-- {
		fmt.Fprintf(&b, "  %-36s %d\n", c.heading()+":", t.classes[c].n)
	}
	reasons := t.Reasons()
	if len(reasons) > 0 {
		b.WriteString("A row is counted once, under the worst that applies; it may have several reasons.\n")
	}
	for c := WillNotImport; c > Full; c-- {
		var in []ReasonCount
		for _, r := range reasons {
			if r.Class == c {
				in = append(in, r)
			}
		}
		if len(in) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s (%s), first rows: %s\n", c.heading(), plural(t.classes[c].n, "row"), rowList(t.classes[c].first, t.classes[c].n))
		for _, r := range in {
			fmt.Fprintf(&b, "  %s: %s: %s\n", r.Code, plural(r.Rows, "row"), r.Text)
			fmt.Fprintf(&b, "    first rows: %s\n", rowList(r.First, r.Rows))
			fmt.Fprintf(&b, "    to change: %s\n", r.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rowList(rows []Row, total int) string {
	parts := make([]string, 0, len(rows)+1)
	for _, r := range rows {
		s := "line " + strconv.Itoa(r.Line)
		if r.ExternalID != "" {
			s += " (" + strconv.Quote(r.ExternalID) + ")"
		}
		parts = append(parts, s)
	}
	if more := total - len(rows); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
