package importer

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
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

// idSet holds 64-bit hashes of external_ids: about a dozen bytes an id in a Go map, well
// under the 16-byte budget, and a collision among a few million ids is vanishingly unlikely.
type idSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed(), m: make(map[uint64]struct{})} }

func (s *idSet) add(id string)      { s.m[maphash.String(s.seed, id)] = struct{}{} }
func (s *idSet) has(id string) bool { _, ok := s.m[maphash.String(s.seed, id)]; return ok }
func (s *idSet) len() int           { return len(s.m) }

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
			st.doneIDs.add(e.ExternalID)
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
	return st, nil
}
