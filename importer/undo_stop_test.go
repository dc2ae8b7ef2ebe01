package importer

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/userimport/userimport/importer/pacer"
)

// The first signal lets the deletes in flight finish, counts the rest as left (never failed),
// and a re-run deletes exactly those.
func TestUndoStopFinishesInFlightAndLeavesTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, ids := undoFolder(t, 20)
		d := newFakeDeleter(ids)
		d.latency = time.Second
		stop := make(chan struct{})
		cfg := undoConfig(dir, d, pacer.New(pacer.Config{Rate: 100, Burst: 10}), 4)
		cfg.Stop = stop
		go func() {
			time.Sleep(1500 * time.Millisecond) // 4 done, 4 in flight
			close(stop)
		}()
		sum, err := Undo(t.Context(), cfg)
		must(t, err)
		if !sum.Interrupted || sum.Failed != 0 || sum.Deleted != 8 || sum.Left != 12 || sum.ToDelete != 20 {
			t.Fatalf("summary %+v: want 8 deleted (4 of them in flight at the stop), 12 left, none failed", sum)
		}
		if n := len(d.users); n != 12 {
			t.Fatalf("%d users remain, want 12", n)
		}

		d.latency = 0
		sum, err = Undo(t.Context(), undoConfig(dir, d, pacer.New(pacer.Config{Rate: 100}), 4))
		must(t, err)
		if sum.Deleted != 12 || sum.DoneBefore != 8 || sum.Left != 0 || sum.Failed != 0 || sum.Interrupted {
			t.Fatalf("re-run summary %+v: want the 12 left deleted and 8 done before", sum)
		}
		for _, id := range ids {
			if n := len(d.times(id)); n != 1 {
				t.Errorf("%s: %d deletes, want 1", id, n)
			}
		}
	})
}

// A refused confirmation sends nothing; a dry run lists every user it would delete and sends
// nothing either.
func TestUndoConfirmAndDryRun(t *testing.T) {
	dir, ids := undoFolder(t, 3)
	d := newFakeDeleter(ids)
	cfg := undoConfig(dir, d, nil, 2)
	asked := 0
	cfg.Confirm = func(n int) (bool, error) { asked = n; return false, nil }
	if _, err := Undo(t.Context(), cfg); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("err %v, want ErrNotConfirmed", err)
	}
	if asked != 3 || len(d.users) != 3 {
		t.Fatalf("asked about %d users, %d remain; want asked about 3, 3 remain", asked, len(d.users))
	}

	cfg = undoConfig(dir, d, nil, 2)
	cfg.DryRun = true
	var listed []UndoItem
	cfg.List = func(it UndoItem) { listed = append(listed, it) }
	sum, err := Undo(t.Context(), cfg)
	must(t, err)
	if sum.ToDelete != 3 || len(listed) != 3 || len(d.users) != 3 || len(d.times("user_0")) != 0 {
		t.Fatalf("dry run %+v listed %v; want 3 listed and nothing deleted", sum, listed)
	}
	if it := listed[1]; it.UserID != "user_1" || it.ExternalID != "ext-1" || it.Line != 3 {
		t.Errorf("listed %+v, want user_1, ext-1, line 3", it)
	}
}
