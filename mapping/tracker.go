package mapping

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// KeyTracker learns, over a whole input, which record keys the mapping never reads (a
// bounded set of names, not a list per row) and how many mapped rows have no external_id.
// Observe is cheap and safe from many goroutines: a CSV header is looked at once, and a JSON
// key once per distinct name.
type KeyTracker struct {
	m      *Mapping
	max    int
	header atomic.Pointer[string] // first cell of the last CSV header checked, by identity
	hlen   atomic.Int64

	known  sync.Map // key -> bool (read by the mapping); at most maxKnown entries
	knownN atomic.Int64

	mu        sync.Mutex
	unread    []string // in first-seen order
	truncated bool

	mapped, noExternalID atomic.Int64
}

// maxKnown bounds the distinct key names a tracker remembers; past it, keys are still
// checked, just not cached (a JSON input with a key per user id, say).
const maxKnown = 4096

// NewKeyTracker returns a tracker for m that keeps at most max unread names (64 when max <= 0).
func (m *Mapping) NewKeyTracker(max int) *KeyTracker {
	if max <= 0 {
		max = 64
	}
	return &KeyTracker{m: m, max: max}
}

// Observe notes rec's keys and, when the row mapped (p non-nil), whether it has an external_id.
func (t *KeyTracker) Observe(rec Record, p *CreateUserParams) {
	if p != nil {
		t.mapped.Add(1)
		if p.ExternalID == nil {
			t.noExternalID.Add(1)
		}
	}
	if rec == nil {
		return
	}
	if j, ok := rec.(*joinedRecord); ok {
		rec = j.Record
	}
	if cr, ok := rec.(csvRecord); ok && len(cr.header) > 0 {
		t.checkShared(cr.header)
		return
	}
	if jr, ok := rec.(*jsonRecord); ok && jr.cols != nil && len(t.m.flatten) == 0 {
		// Rows of one NULL pattern share their keys slice: checked once, like a CSV header.
		t.checkShared(jr.keys)
		return
	}
	if len(t.m.flatten) > 0 {
		rec = &view{base: rec, flatten: t.m.flatten}
	}
	t.check(rec.Keys())
}

// checkShared checks keys that many records share by identity (a CSV header, a row shape's
// column names): once, until other keys come.
func (t *KeyTracker) checkShared(keys []string) {
	if len(keys) == 0 {
		return
	}
	first := unsafe.SliceData(keys)
	if t.header.Load() == first && t.hlen.Load() == int64(len(keys)) {
		return // checked already
	}
	t.check(keys)
	t.hlen.Store(int64(len(keys)))
	t.header.Store(first)
}

func (t *KeyTracker) check(keys []string) {
	for _, k := range keys {
		if _, ok := t.known.Load(k); ok {
			continue // decided before: read, or unread and already listed
		}
		read := t.m.reads(k)
		if t.knownN.Load() < maxKnown {
			if _, loaded := t.known.LoadOrStore(k, read); loaded {
				continue
			}
			t.knownN.Add(1)
		}
		if !read {
			t.add(k)
		}
	}
}

func (t *KeyTracker) add(k string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range t.unread {
		if u == k {
			return
		}
	}
	if len(t.unread) >= t.max {
		t.truncated = true
		return
	}
	t.unread = append(t.unread, k)
}

// Unread lists the keys seen that the mapping never reads, in first-seen order, and
// whether more were seen than the tracker keeps.
func (t *KeyTracker) Unread() (names []string, truncated bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.unread...), t.truncated
}

// ExternalIDs reports how many observed rows mapped and how many of them have no external_id
// (a wrong preset leaves it unset on every row: worth a warning before the first create).
func (t *KeyTracker) ExternalIDs() (mapped, missing int64) {
	return t.mapped.Load(), t.noExternalID.Load()
}
