package importer

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/userimport/userimport/importer/pacer"
)

// fakeDeleter deletes from a set of user ids, failing each id's first deletes as scripted,
// taking latency a delete, and recording when each delete began and how many were in flight.
type fakeDeleter struct {
	mu       sync.Mutex
	start    time.Time
	latency  time.Duration
	script   map[string][]error
	users    map[string]bool
	at       map[string][]time.Duration
	in, most int
}

func newFakeDeleter(ids []string) *fakeDeleter {
	d := &fakeDeleter{start: time.Now(), script: map[string][]error{}, users: map[string]bool{}, at: map[string][]time.Duration{}}
	for _, id := range ids {
		d.users[id] = true
	}
	return d
}

func (d *fakeDeleter) Delete(ctx context.Context, id string) error {
	d.mu.Lock()
	d.at[id] = append(d.at[id], time.Since(d.start))
	d.in++
	d.most = max(d.most, d.in)
	var err error
	if s := d.script[id]; len(s) > 0 {
		err, d.script[id] = s[0], s[1:]
	}
	d.mu.Unlock()
	if d.latency > 0 {
		time.Sleep(d.latency)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.in--
	switch {
	case err != nil:
		return err
	case !d.users[id]:
		return &fakeErr{status: 404, code: "resource_not_found"}
	}
	delete(d.users, id)
	return nil
}

func (d *fakeDeleter) times(id string) []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.at[id]...)
}

// NotFound lets the fake's 404 read as Clerk's does.
func (e *fakeErr) NotFound() bool { return e.status == 404 }

// undoFolder writes a run folder whose journal records n created users, user_0 ... user_n-1.
func undoFolder(t *testing.T, n int) (dir string, ids []string) {
	t.Helper()
	dir = t.TempDir()
	j, err := OpenJournal(filepath.Join(dir, JournalFile))
	must(t, err)
	must(t, j.WriteHeader(Header{Event: "run", APIURL: "fake", KeyFingerprint: "k"}))
	for i := range n {
		id := fmt.Sprint("user_", i)
		ids = append(ids, id)
		must(t, j.Write(Event{Row: i + 1, Line: i + 2, ExternalID: fmt.Sprint("ext-", i), Status: StatusCreated, UserID: id}))
	}
	must(t, j.Close())
	return dir, ids
}

func undoConfig(dir string, d Deleter, p *pacer.Pacer, concurrency int) UndoConfig {
	return UndoConfig{OutDir: dir, KeyFingerprint: "k", APIURL: "fake", Target: d, Pacer: p,
		Concurrency: concurrency, MaxRetries: 3}
}

// A 503 with Retry-After on one delete holds that delete only: the others go on at once, the
// rate is not cut, and the retry is counted as an import counts it.
func TestUndoA503HoldsOnlyThatDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, ids := undoFolder(t, 10)
		d := newFakeDeleter(ids)
		d.script["user_0"] = []error{&fakeErr{status: 503, retryable: true, retry: 5 * time.Second}}
		p := pacer.New(pacer.Config{Rate: 100, Burst: 10})
		sum, err := Undo(t.Context(), undoConfig(dir, d, p, 2))
		must(t, err)
		if sum.Deleted != 10 || sum.Failed != 0 {
			t.Fatalf("summary %+v, want 10 deleted", sum)
		}
		if at := d.times("user_0"); len(at) != 2 || at[1]-at[0] != 5*time.Second {
			t.Errorf("user_0 deleted at %v, want a retry 5s after the 503", at)
		}
		for _, id := range ids[1:] {
			if at := d.times(id); len(at) != 1 || at[0] >= time.Second {
				t.Errorf("%s deleted at %v: held by another delete's 503", id, at)
			}
		}
		if s := p.Stats(); s.Pauses != 0 || s.Rate != 100 {
			t.Errorf("pacer %+v: a 503 must neither pause every delete nor cut the rate", s)
		}
		if sum.Requests != 11 || sum.Retries != 1 || sum.Status429 != 0 {
			t.Errorf("requests %d retries %d 429s %d, want 11, 1, 0", sum.Requests, sum.Retries, sum.Status429)
		}
	})
}

// A 429 on a delete holds every delete for its Retry-After and cuts the rate, as in an import.
func TestUndoA429PausesEveryDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, ids := undoFolder(t, 6)
		d := newFakeDeleter(ids)
		d.latency = 100 * time.Millisecond
		d.script["user_0"] = []error{&fakeErr{status: 429, retryable: true, retry: 3 * time.Second}}
		p := pacer.New(pacer.Config{Rate: 100, Burst: 1})
		sum, err := Undo(t.Context(), undoConfig(dir, d, p, 1))
		must(t, err)
		if sum.Deleted != 6 || sum.Status429 != 1 || sum.Retries != 1 || sum.Requests != 7 {
			t.Fatalf("summary %+v, want 6 deleted after one 429 and one retry in 7 requests", sum)
		}
		for _, id := range ids {
			at := d.times(id)
			if last := at[len(at)-1]; last < 3*time.Second {
				t.Errorf("%s deleted at %v: before the 429's Retry-After ended", id, at)
			}
		}
		if s := p.Stats(); s.Pauses != 1 || s.Decreases != 1 {
			t.Errorf("pacer %+v: want one pause and one rate cut", s)
		}
	})
}

// An undo holds the rate and the in-flight limit it is given.
func TestUndoHonoursRateAndGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir, ids := undoFolder(t, 30)
		d := newFakeDeleter(ids)
		d.latency = 2 * time.Second // slow answers: the gate, not the rate, binds the pool
		sum, err := Undo(t.Context(), undoConfig(dir, d, pacer.New(pacer.Config{Rate: 10}), 4))
		must(t, err)
		if sum.Deleted != 30 || d.most != 4 {
			t.Fatalf("deleted %d with at most %d in flight, want 30 with 4", sum.Deleted, d.most)
		}

		dir, ids = undoFolder(t, 30)
		d = newFakeDeleter(ids)
		sum, err = Undo(t.Context(), undoConfig(dir, d, pacer.New(pacer.Config{Rate: 10}), 8))
		must(t, err)
		var starts []time.Duration
		for _, id := range ids {
			starts = append(starts, d.times(id)...)
		}
		var last time.Duration
		for _, at := range starts {
			last = max(last, at)
		}
		// 30 deletes at 10/s: the first at 0, one every 100ms after, so the last at 2.9s.
		if sum.Deleted != 30 || sum.Requests != 30 || last != 2900*time.Millisecond {
			t.Errorf("deleted %d in %d requests, the last at %v; want 30 in 30, the last at 2.9s", sum.Deleted, sum.Requests, last)
		}
	})
}
