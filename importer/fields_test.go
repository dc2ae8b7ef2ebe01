package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// skipMapping leaves out rows whose deleted_at is set, as the supabase preset does.
func skipMapping(t *testing.T) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse([]byte(`{"fields":{"external_id":"id","email_address":"email"},
		"skip":[{"reason":"soft-deleted (deleted_at is set)","when":{"from":"deleted_at"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const skipCSV = "id,email,deleted_at\n" +
	"a,a@example.com,\n" +
	"b,b@example.com,2024-01-02 03:04:05+00\n" +
	"c,c@example.com,\n"

// TestSkippedRowsAreJournaledNotFailed: a row the preset leaves out is journaled skipped with
// its reason, counted, kept out of failed.<ext> and of the problems, does not make the run
// one with failures, and a resumed run does not take it again.
func TestSkippedRowsAreJournaledNotFailed(t *testing.T) {
	f := newFake()
	dir := t.TempDir()
	sum := runOnce(t, dir, skipCSV, f, func(c *Config) { c.Mapping = skipMapping(t); c.Limit = 2 })
	if sum.RunStatus != runfolder.RunStopped || sum.Counts[runfolder.StatusSkipped] != 1 || sum.Counts[runfolder.StatusCreated] != 1 {
		t.Fatalf("first session: status %s counts %v", sum.RunStatus, sum.Counts)
	}
	ev := rowEvents(t, dir)
	skipped := ev[""] // a skipped row has no external_id: the mapping stopped before it
	if skipped.Status != runfolder.StatusSkipped || skipped.Line != 3 || skipped.Error == nil ||
		skipped.Error.Code != "skipped_by_preset" || skipped.Error.Message != "soft-deleted (deleted_at is set)" {
		t.Fatalf("skipped row's event = %+v (error %+v)", skipped, skipped.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "failed.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed.csv exists (%v): a skipped row is not a failure", err)
	}
	if len(sum.Problems) != 0 {
		t.Errorf("problems %v: a skipped row is not one", sum.Problems)
	}
	// The resumed session takes only row c: a and the skipped b are done.
	sum = runOnce(t, dir, skipCSV, f, func(c *Config) { c.Mapping = skipMapping(t) })
	if sum.RunStatus != runfolder.RunComplete || sum.DoneBefore != 2 || sum.Rows != 1 || sum.Counts[runfolder.StatusCreated] != 1 {
		t.Fatalf("resumed: status %s done before %d rows %d counts %v", sum.RunStatus, sum.DoneBefore, sum.Rows, sum.Counts)
	}
	if f.totalCreates() != 2 || f.creates["b"] != 0 {
		t.Errorf("creates %v: b must never be sent", f.creates)
	}
}

// TestValidateCountsSkipped: validate counts skipped rows apart and is not failed by them.
func TestValidateCountsSkipped(t *testing.T) {
	src, err := source.Open(strings.NewReader(skipCSV), source.Options{Format: source.CSV})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Validate(context.Background(), ValidateConfig{Source: src, Format: source.CSV, Mapping: skipMapping(t)})
	if err != nil || sum.RunStatus != runfolder.RunComplete || sum.Counts[runfolder.StatusSkipped] != 1 || sum.Counts["valid"] != 2 {
		t.Fatalf("err %v status %s counts %v", err, sum.RunStatus, sum.Counts)
	}
}

func jsonSource(t *testing.T, input string) source.Reader {
	t.Helper()
	src, err := source.Open(strings.NewReader(input), source.Options{Format: source.JSONL})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestUnreadColumnsFromEveryRecord: a key only a later JSON record carries is still reported,
// once, and keys the mapping reads never are.
func TestUnreadColumnsFromEveryRecord(t *testing.T) {
	input := `{"external_id":"a","email_address":"a@example.com"}` + "\n" +
		`{"external_id":"b","email_address":"b@example.com","nickname":"bee"}` + "\n" +
		`{"external_id":"c","email_address":"c@example.com","nickname":"cee","shoe_size":9}` + "\n"
	sum, err := Validate(context.Background(), ValidateConfig{Source: jsonSource(t, input), Format: source.JSONL, Mapping: mapping.Native()})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nickname", "shoe_size"}; !slices.Equal(sum.UnreadFields, want) {
		t.Errorf("unread %v, want %v", sum.UnreadFields, want)
	}
}

// TestAmbiguousFirstRecordStopsTheRun: a JSON input whose first record has two keys matching
// one field (E-mail and EMAIL) stops before any create, with a *HeaderError naming both.
func TestAmbiguousFirstRecordStopsTheRun(t *testing.T) {
	input := `{"external_id":"a","E-mail":"a@example.com","EMAIL":"x@example.com"}` + "\n" +
		`{"external_id":"b","email_address":"b@example.com"}` + "\n"
	f := newFake()
	dir := t.TempDir()
	sum, err := Run(context.Background(), Config{OutDir: dir, Source: jsonSource(t, input), Format: source.JSONL,
		Mapping: mapping.Native(), Target: f, Pacer: pacer.New(pacer.Config{Rate: 1e6, Burst: 100}), Concurrency: 1})
	var he *HeaderError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), `"E-mail"`) || !strings.Contains(err.Error(), `"EMAIL"`) {
		t.Fatalf("err = %v, want a HeaderError naming both keys", err)
	}
	if sum.RunStatus != runfolder.RunFatal || f.totalCreates() != 0 || sum.Counts[runfolder.StatusInvalid] != 0 {
		t.Errorf("status %s creates %d counts %v: nothing may be sent or settled", sum.RunStatus, f.totalCreates(), sum.Counts)
	}
	if err := CheckHeader(mapping.Native(), []string{"external_id", "E-mail", "EMAIL"}); !errors.As(err, &he) {
		t.Errorf("CheckHeader(E-mail, EMAIL) = %v, want a HeaderError", err)
	}
	if err := CheckHeader(mapping.Native(), []string{"external_id", "email"}); err != nil {
		t.Errorf("CheckHeader of a plain header = %v", err)
	}
}

// TestNoExternalID: an input none of whose rows maps an external_id is refused by validate
// (unless allowed) and warned about by import before the first create.
func TestNoExternalID(t *testing.T) {
	const input = "mail\na@example.com\nb@example.com\n"
	m, err := mapping.Parse([]byte(`{"fields":{"email_address":"mail"}}`))
	if err != nil {
		t.Fatal(err)
	}
	open := func() source.Reader {
		src, err := source.Open(strings.NewReader(input), source.Options{Format: source.CSV})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	_, err = Validate(context.Background(), ValidateConfig{Source: open(), Format: source.CSV, Mapping: m})
	if !errors.Is(err, ErrNoExternalID) || !strings.Contains(err.Error(), "2 mapped rows") {
		t.Errorf("validate: err = %v, want ErrNoExternalID", err)
	}
	if _, err = Validate(context.Background(), ValidateConfig{Source: open(), Format: source.CSV, Mapping: m, AllowNoExternalID: true}); err != nil {
		t.Errorf("validate allowed: err = %v", err)
	}

	core, logs := observer.New(zap.WarnLevel)
	runOnce(t, t.TempDir(), input, newFake(), func(c *Config) { c.Mapping, c.Log = m, zap.New(core) })
	if n := logs.FilterMessageSnippet("has an external_id").Len(); n != 1 {
		t.Fatalf("import: %d warnings, want 1", n)
	}
	core, logs = observer.New(zap.WarnLevel)
	runOnce(t, t.TempDir(), testCSV, newFake(), func(c *Config) { c.Log = zap.New(core) })
	if n := logs.FilterMessageSnippet("has an external_id").Len(); n != 0 {
		t.Errorf("an input with external_ids was warned about %d times", n)
	}
}
