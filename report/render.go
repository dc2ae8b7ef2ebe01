package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/userimport/userimport/runfolder"
)

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"seconds": func(s float64) string {
		d := time.Duration(s * float64(time.Second))
		if d < time.Minute {
			return d.Round(100 * time.Millisecond).String() // a short rehearsal still shows its length
		}
		return d.Round(time.Second).String()
	},
	"rate":    func(f float64) string { return fmt.Sprintf("%.1f/s", f) },
	"count":   func(n int) string { return thousands(int64(n)) },
	"count64": thousands,
}).Parse(pageSource))

// view is what the template reads: the model, made safe, plus the charts drawn from it.
type view struct {
	*Model
	Counts      countsBar
	Time        timeChart
	StatusClass string
	Headline    string
	ResumeHint  string // what re-running the same command does, for this run's state
}

// Render writes the report as one self-contained HTML page: inline CSS and SVG, no script,
// no link to anywhere.
func Render(w io.Writer, m *Model) error {
	safe := *m
	safe.sanitize() // a Model built by hand gets the same redaction as one from Build
	v := view{Model: &safe, Counts: buildCountsBar(&safe), Time: buildTimeChart(&safe)}
	v.StatusClass, v.Headline = headline(&safe)
	v.ResumeHint = resumeHint(&safe)
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

func resumeHint(m *Model) string {
	const settle = " Rows left pending are looked up first, so no user is created twice:"
	var h string
	switch {
	case m.Status == runfolder.RunFatal:
		h = "The run stopped on an error retrying cannot fix (see the fatal error above: the key, its permissions or the instance's user quota). Fix that, then re-run the same command to continue where it stopped." + settle
	case m.Status == "unfinished":
		h = "If the import is no longer running, re-run the same command to continue where it stopped." + settle
	case m.Status == runfolder.RunStopped || m.Status == runfolder.RunInterrupted || m.Counts[string(runfolder.StatusPending)] > 0:
		h = "This run has rows left: re-run the same command to continue where it stopped." + settle
	case m.Failing() > 0:
		h = "Re-running the same command tries the refused rows again as they are, which helps when the instance, not the data, was the cause:"
	default:
		h = "Every row was created or already present: nothing is left to do. Running the same command again only reports that the run is complete:"
	}
	if m.Input == "-" {
		h += " (the input was read from standard input: pipe the same data in again)"
	}
	return h
}

func headline(m *Model) (class, text string) {
	switch m.Status {
	case runfolder.RunComplete, runfolder.RunAlready:
		return "ok", "Complete: every row was created or already present"
	case runfolder.RunWithFailures:
		return "warn", fmt.Sprintf("Complete with failures: %s rows were not imported", thousands(int64(m.Failing())))
	case runfolder.RunStopped:
		return "info", "Stopped by --limit or --max-duration: re-run to continue"
	case runfolder.RunInterrupted:
		return "info", "Interrupted by a signal: re-run to continue"
	case runfolder.RunFatal:
		return "bad", "Stopped by a fatal error"
	default:
		return "muted", "Unfinished: still running, or ended without writing its summary"
	}
}

// sanitize redacts every string of the model; Build's strings already are, so it is idempotent.
func (m *Model) sanitize() {
	for _, p := range []*string{&m.Dir, &m.Run, &m.Tool, &m.Version, &m.Input, &m.Format, &m.Mapping,
		&m.API, &m.KeyFingerprint, (*string)(&m.Status), &m.Fatal, &m.LastElapsed, &m.FailedFile,
		&m.RefeedCommand, &m.ResumeCommand} {
		*p = clean(*p)
	}
	groups := make([]FailureGroup, len(m.Failures))
	for i, g := range m.Failures {
		g.Status, g.Code, g.Param, g.Message = clean(g.Status), clean(g.Code), clean(g.Param), clean(g.Message)
		ex := make([]Example, len(g.Examples))
		for j, e := range g.Examples {
			e.ExternalID = clean(e.ExternalID)
			ex[j] = e
		}
		g.Examples = ex
		groups[i] = g
	}
	m.Failures = groups
	if m.Counts == nil {
		m.Counts = map[string]int{}
	}
}

// WriteReport builds the report of a run folder and writes it to dir/report.html (0600,
// through a temporary file and a rename).
func WriteReport(dir string) (string, error) {
	m, err := Build(dir)
	if err != nil {
		return "", err
	}
	return WriteModel(dir, m)
}

// WriteModel writes an already built model to dir/report.html, as WriteReport does; a caller
// that also wants m.Metrics() reads the journal once.
func WriteModel(dir string, m *Model) (string, error) {
	var b strings.Builder
	if err := Render(&b, m); err != nil {
		return "", err
	}
	path := filepath.Join(dir, ReportFile)
	if err := runfolder.WriteFileAtomic(path, []byte(b.String())); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return path, nil
}

// ReportFile is the page's name in the run folder.
const ReportFile = runfolder.ReportFile

// thousands writes n with thin separators, as people read large counts.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
