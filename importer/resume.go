package importer

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"slices"
)

// bitset marks finished rows by number: one bit a row, so resume memory stays flat.
type bitset []uint64

func (b *bitset) set(i int) {
	w := i / 64
	if w >= len(*b) {
		grown := make(bitset, w+1+w/4)
		copy(grown, *b)
		*b = grown
	}
	(*b)[w] |= 1 << (i % 64)
}

func (b bitset) has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(1<<(i%64)) != 0
}

// idSet holds 64-bit hashes of external_ids; a collision among a few million ids is
// vanishingly unlikely. It is a map while it grows (undo adds as it goes) and can be frozen
// into a sorted slice: 8 bytes an id for the resume set, which is read-only during a run.
type idSet struct {
	seed   maphash.Seed
	m      map[uint64]struct{}
	sorted []uint64 // after freeze
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed(), m: make(map[uint64]struct{})} }

func (s *idSet) add(id string) { s.m[maphash.String(s.seed, id)] = struct{}{} }

func (s *idSet) has(id string) bool {
	h := maphash.String(s.seed, id)
	if s.m == nil {
		_, ok := slices.BinarySearch(s.sorted, h)
		return ok
	}
	_, ok := s.m[h]
	return ok
}

func (s *idSet) len() int { return len(s.m) + len(s.sorted) }

func (s *idSet) hash(id string) uint64 { return maphash.String(s.seed, id) }

// freeze makes the set the given hashes (their order and repeats do not matter), kept sorted;
// it takes no more adds.
func (s *idSet) freeze(hashes []uint64) {
	slices.Sort(hashes)
	s.sorted, s.m = slices.Clip(slices.Compact(hashes)), nil
}

// resumeState is what an earlier session of the run folder tells this one.
type resumeState struct {
	sessions int            // earlier sessions in the folder
	same     int            // of which of the same run (input, mapping, target)
	done     bitset         // rows finished (created/exists) in sessions of the same run
	doneN    int            // how many
	pending  map[int]string // rows left pending by the same run: row -> external_id ("" when none)
	doneIDs  *idSet         // external_ids finished by any session against the same target
	lastEnd  string         // run_status of the latest session of the same run, "" if it did not end
}

// loadResume reads the folder's journal, keeping only what this run can use.
func loadResume(path string, cur Header) (*resumeState, error) {
	st := &resumeState{pending: make(map[int]string), doneIDs: newIDSet()}
	f, err := openRunFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	defer f.Close()
	var same, sameTarget bool
	var finishedIDs []uint64 // hashes, appended as read: no map on the way to the sorted set
	err = readJournal(f, func(h Header) {
		st.sessions++
		same = h.sameRun(cur)
		sameTarget = h.APIURL == cur.APIURL && h.KeyFingerprint == cur.KeyFingerprint
		if same {
			st.same++
			st.lastEnd = ""
		}
	}, func(e Event) {
		switch e.Event {
		case "":
		case EventEnd:
			if same {
				st.lastEnd = e.RunStatus
			}
			return
		default:
			return
		}
		finished := e.Status == StatusCreated || e.Status == StatusExists
		if finished && sameTarget && e.ExternalID != "" {
			finishedIDs = append(finishedIDs, st.doneIDs.hash(e.ExternalID))
		}
		if !same || e.Row <= 0 {
			return
		}
		switch {
		case e.Status == StatusPending:
			st.pending[e.Row] = e.ExternalID
		case finished:
			delete(st.pending, e.Row)
			if !st.done.has(e.Row) {
				st.done.set(e.Row)
				st.doneN++
			}
		default:
			delete(st.pending, e.Row)
		}
	})
	if err != nil {
		return nil, err
	}
	st.doneIDs.freeze(finishedIDs)
	return st, nil
}
