package importer

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"os"
	"strings"
	"testing"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
)

const validateCSV = "external_id,email_address,first_name\n" +
	"a,a@example.com,Ann\n" +
	"b,not-an-email,\n" +
	"c,a@example.com,\n" + // same email as line 2
	"d,d@example.com,\n" +
	"e,e@example.com,Eve\n"

func validateOnce(t *testing.T, input string, tgt Target, stop <-chan struct{}) (*runfolder.Summary, error) {
	t.Helper()
	src, err := source.Open(strings.NewReader(input), source.Options{Format: source.CSV})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ValidateConfig{Source: src, Format: source.CSV, Mapping: mapping.Native(), Stop: stop}
	if tgt != nil {
		cfg.Target, cfg.Pacer = tgt, pacer.New(pacer.Config{Rate: 1e6, Burst: 100})
	}
	return Validate(context.Background(), cfg)
}

func TestValidateChecksEveryRowAndSendsNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	f := newFake()
	f.users["d"] = "user_d" // already in the instance
	sum, err := validateOnce(t, validateCSV, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := sum.Counts
	if c["valid"] != 2 || c[runfolder.StatusInvalid] != 1 || c[runfolder.StatusDuplicate] != 1 || c[runfolder.StatusExists] != 1 || sum.Rows != 5 {
		t.Errorf("counts %v, rows %d: want 2 valid (a, e), 1 invalid, 1 duplicate, 1 exists of 5", c, sum.Rows)
	}
	if sum.RunStatus != runfolder.RunWithFailures {
		t.Errorf("status %q: an invalid row makes it %q", sum.RunStatus, runfolder.RunWithFailures)
	}
	if sum.Fields["first_name"] != 2 || sum.Fields["email_address"] != 3 {
		t.Errorf("fields %v: of the three rows that pass the checks (a, d, e), all carry email_address, two first_name", sum.Fields)
	}
	if len(sum.Problems) != 2 || sum.Problems[0].Line != 3 || sum.Problems[1].DupOfLine != 2 {
		t.Errorf("problems %+v: line 3 invalid, line 4 a duplicate of line 2", sum.Problems)
	}
	if n := f.totalCreates(); n != 0 {
		t.Errorf("validate sent %d creates", n)
	}
	if f.lookups != 1 {
		t.Errorf("%d look-ups: the four checked rows fit one request", f.lookups)
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Errorf("validate wrote %d files", len(ents))
	}
}

func TestValidateWithoutTargetAndStopped(t *testing.T) {
	sum, err := validateOnce(t, "external_id,email_address\na,a@example.com\n", nil, nil)
	if err != nil || sum.RunStatus != runfolder.RunComplete || sum.Counts["valid"] != 1 {
		t.Fatalf("clean input, no target: %v, %q, %v", err, sum.RunStatus, sum.Counts)
	}
	stop := make(chan struct{})
	close(stop)
	sum, err = validateOnce(t, validateCSV, nil, stop)
	if err != nil || sum.RunStatus != runfolder.RunInterrupted {
		t.Errorf("a stop before the first row: %v, %q, want %q", err, sum.RunStatus, runfolder.RunInterrupted)
	}
}

func TestValidateStopsOnARefusedKey(t *testing.T) {
	sum, err := validateOnce(t, validateCSV, refusingTarget{newFake()}, nil)
	if !errors.Is(err, ErrFatal) || sum.RunStatus != runfolder.RunFatal {
		t.Errorf("a 401 on the look-up: %v, %q; want ErrFatal and %q", err, sum.RunStatus, runfolder.RunFatal)
	}
}

type refusingTarget struct{ *fakeTarget }

func (refusingTarget) FindByExternalID(context.Context, []string) (map[string]string, error) {
	return nil, &fakeErr{status: 401, code: "authentication_invalid", fatal: true}
}

func TestValidateFailsWhenTheInstanceCannotBeAsked(t *testing.T) {
	var big strings.Builder
	big.WriteString("external_id,email_address\n")
	for i := range 1000 {
		fmt.Fprintf(&big, "u%d,u%d@example.com\n", i, i)
	}
	f := newFake()
	sum, err := validateOnce(t, big.String(), unreachableTarget{f}, nil)
	if f.lookups != 1 {
		t.Errorf("%d look-ups: after the first failure validate reads no further", f.lookups)
	}
	if !errors.Is(err, ErrFatal) || !errors.Is(err, errUnreachable) || sum.RunStatus != runfolder.RunFatal {
		t.Errorf("a failed look-up: %v, %q; want ErrFatal wrapping the cause, and %q (not \"0 already in the instance\")",
			err, sum.RunStatus, runfolder.RunFatal)
	}
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:1: connection refused")

type unreachableTarget struct{ *fakeTarget }

func (u unreachableTarget) FindByExternalID(context.Context, []string) (map[string]string, error) {
	u.mu.Lock()
	u.lookups++
	u.mu.Unlock()
	return nil, errUnreachable
}

// recyclingSource is a source that records which records it was handed back.
type recyclingSource struct {
	source.Reader
	back []int
}

func (s *recyclingSource) Recycle(rec source.Record) { s.back = append(s.back, rec.Num) }

// Validate hands a source back its valid rows once counted, and only those: an invalid or
// duplicate row's values are still read for its problem, and with a target (look-ups) or
// readiness checks (a tally) the rows are held further, so none is handed back.
func TestValidateRecyclesOnlyRowsNothingHolds(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*ValidateConfig)
		want string
	}{
		{"plain", func(*ValidateConfig) {}, "[1 4 5]"}, // a, d, e: b is invalid, c a duplicate
		{"with a target", func(c *ValidateConfig) {
			c.Target, c.Pacer = newFake(), pacer.New(pacer.Config{Rate: 1e6, Burst: 100})
		}, "[]"},
		{"with readiness", func(c *ValidateConfig) { c.Fit = &Fit{Tally: &readiness.Tally{}} }, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := source.Open(strings.NewReader(validateCSV), source.Options{Format: source.CSV})
			if err != nil {
				t.Fatal(err)
			}
			rs := &recyclingSource{Reader: src}
			cfg := ValidateConfig{Source: rs, Format: source.CSV, Mapping: mapping.Native()}
			tc.mod(&cfg)
			sum, err := Validate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(rs.back); got != tc.want || sum.Counts["valid"] != 3 {
				t.Errorf("handed back records %s of %d valid, want %s", got, sum.Counts["valid"], tc.want)
			}
		})
	}
}

// Validate sizes its duplicate table for the rows the source says it holds: for a million
// rows, with DupDir set, that table is a file from the start, so a folder that cannot hold it
// stops the run before a row is read, as a growing table's failure would later.
func TestValidateSizesItsDuplicateTable(t *testing.T) {
	for _, rows := range []int{0, 1_000_000} {
		src, err := source.Open(strings.NewReader(validateCSV), source.Options{Format: source.CSV})
		if err != nil {
			t.Fatal(err)
		}
		gone := t.TempDir() + "/gone"
		sum, err := Validate(context.Background(), ValidateConfig{Source: src, Format: source.CSV, Mapping: mapping.Native(), DupDir: gone, Rows: rows})
		if rows == 0 {
			if err != nil || sum.Counts["valid"] != 3 {
				t.Errorf("unsized: %v, counts %v", err, sum.Counts)
			}
			continue
		}
		if !errors.Is(err, ErrFatal) || !errors.Is(err, os.ErrNotExist) || sum.RunStatus != runfolder.RunFatal || sum.Counts["valid"] != 0 {
			t.Errorf("sized for a million rows in a folder that is gone: %v, status %s, counts %v", err, sum.RunStatus, sum.Counts)
		}
	}
}
