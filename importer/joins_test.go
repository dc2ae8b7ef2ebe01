package importer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// fakeJoins attaches a row giving every record a first_name, or fails on one record.
type fakeJoins struct {
	failOn string
	calls  atomic.Int32
}

func (f *fakeJoins) Wrap(rec mapping.Record) (mapping.Record, error) {
	f.calls.Add(1)
	if v, _ := rec.Lookup("external_id"); v == f.failOn {
		return rec, errors.New("join index: read: input/output error")
	}
	row := mapping.CSVRecord([]string{"given"}, []string{"Joined"})
	return mapping.WithJoins(rec, map[string]mapping.Record{"extra": row}), nil
}

func (f *fakeJoins) Counts(complete bool) []runfolder.JoinCount {
	c := runfolder.JoinCount{Name: "extra", Matched: int(f.calls.Load())}
	if complete {
		c.Unused = new(int)
	}
	return []runfolder.JoinCount{c}
}

func TestJoinsAreAttachedBeforeMapping(t *testing.T) {
	m, err := mapping.Parse([]byte(`{"joins": [{"name": "extra", "key": {"from": "external_id"}, "other_key": {"from": "id"}}],
	  "fields": {"external_id": {"from": "external_id"}, "email_address": {"from": "email_address"},
	  "first_name": {"from": "join.extra.given"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	var seen atomic.Int32
	tgt := &firstNames{fakeTarget: f, seen: &seen}
	j := &fakeJoins{}
	sum := runOnce(t, t.TempDir(), testCSV, tgt, func(c *Config) { c.Mapping, c.Joins = m, j })
	if sum.Counts[runfolder.StatusCreated] != 4 || seen.Load() != 4 {
		t.Fatalf("counts %v; %d creates carried the joined first_name", sum.Counts, seen.Load())
	}
	if len(sum.Joins) != 1 || sum.Joins[0].Matched != 4 || sum.Joins[0].Unused == nil {
		t.Errorf("summary joins = %+v: want the joiner's counts, complete", sum.Joins)
	}
}

// firstNames counts the creates whose first_name came from the join.
type firstNames struct {
	*fakeTarget
	seen *atomic.Int32
}

func (f *firstNames) Create(ctx context.Context, p *mapping.CreateUserParams) (string, error) {
	if p.FirstName != nil && *p.FirstName == "Joined" {
		f.seen.Add(1)
	}
	return f.fakeTarget.Create(ctx, p)
}

// TestJoinIOErrorIsFatal: an index that cannot be read stops the run; the row is not
// finished, so the next session takes it again.
func TestJoinIOErrorIsFatal(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	sum := runOnce(t, dir, testCSV, f, func(c *Config) { c.Joins = &fakeJoins{failOn: "c"} })
	if sum.RunStatus != runfolder.RunFatal {
		t.Fatalf("status %s, want fatal", sum.RunStatus)
	}
	if _, ok := f.users["c"]; ok {
		t.Error("the row whose join failed was created")
	}
	if len(sum.Joins) != 1 || sum.Joins[0].Unused != nil {
		t.Errorf("a fatal session must not count unused join rows: %+v", sum.Joins)
	}
	again := runOnce(t, dir, testCSV, f, nil)
	if _, ok := f.users["c"]; !ok || again.RunStatus != runfolder.RunComplete {
		t.Errorf("the next session did not take row c again: %s, %v", again.RunStatus, f.users)
	}
}
