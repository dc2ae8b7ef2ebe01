package importer

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/userimport/userimport/runfolder"
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
// into a sorted slice: 8 bytes an id for the resume set, which is read-only during a run; a
// large resume set is frozen into a file instead (disk, see resume_ids.go).
type idSet struct {
	seed   maphash.Seed
	m      map[uint64]struct{}
	sorted []uint64 // after freeze
	disk   *diskSet // after a collector's finish, for a set past resumeSpill
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed(), m: make(map[uint64]struct{})} }

func (s *idSet) add(id string) { s.m[maphash.String(s.seed, id)] = struct{}{} }

func (s *idSet) has(id string) bool {
	h := maphash.String(s.seed, id)
	switch {
	case s.disk != nil:
		return s.disk.has(h)
	case s.m == nil:
		_, ok := slices.BinarySearch(s.sorted, h)
		return ok
	}
	_, ok := s.m[h]
	return ok
}

func (s *idSet) len() int {
	n := len(s.m) + len(s.sorted)
	if s.disk != nil {
		n += s.disk.n
	}
	return n
}

func (s *idSet) hash(id string) uint64 { return maphash.String(s.seed, id) }

// err is why a look-up in a set on disk could not be answered (has then said false).
func (s *idSet) err() error {
	if s.disk == nil {
		return nil
	}
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	return s.disk.err
}

// close frees a set's file.
func (s *idSet) close() {
	if s.disk != nil {
		s.disk.close()
	}
}

// freeze makes the set the given hashes (their order and repeats do not matter), kept sorted;
// it takes no more adds.
func (s *idSet) freeze(hashes []uint64) {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	if cap(hashes)-len(hashes) > len(hashes)/8 {
		hashes = slices.Clone(hashes) // an appended slice's spare capacity would stay live all run
	}
	s.sorted, s.m = hashes, nil
}

// resumeState is what an earlier session of the run folder tells this one.
type resumeState struct {
	sessions int                 // earlier sessions in the folder
	same     int                 // of which of the same run (input, mapping, target)
	done     bitset              // rows finished (created/exists) in sessions of the same run
	doneN    int                 // how many
	pending  map[int]string      // rows left pending by the same run: row -> external_id ("" when none)
	doneIDs  *idSet              // external_ids finished by any session against the same target
	lastEnd  runfolder.RunStatus // run_status of the latest session of the same run, "" if it did not end
	undone   bitset              // rows of the same run finished once, whose users an undo then deleted
	undoneN  int                 // how many
	damage   []runfolder.Warning // damage read past at the journal's end (a crash, a full disk)
	// pendingIDs holds the external_ids any session against the same target (whatever its
	// input) left pending and no later event settled: their creates may have reached the
	// target, so each is looked up before it is sent again.
	pendingIDs *idSet
	// keyed: rows are matched by key (rowKey), not by number (Config.Keyed); sameKeys then
	// holds the keys finished by sessions of the same run, which this one skips as done before.
	keyed    bool
	sameKeys *idSet
}

// wasPending reports whether an earlier session sent the row and never heard back: by row for
// the same input, by key (external_id, else rowKey) for any input against the same target.
func (st *resumeState) wasPending(row int, key string) bool {
	if _, ok := st.pending[row]; ok {
		return true
	}
	return key != "" && st.pendingIDs.has(key)
}

// doneBefore reports whether a session of the same run finished the row with this key: only
// for keyed runs, whose rows have no number to be skipped by.
func (st *resumeState) doneBefore(key string) bool {
	return st.keyed && key != "" && st.sameKeys.has(key)
}

func newResumeState() *resumeState {
	st := &resumeState{pending: map[int]string{}, doneIDs: newIDSet(), pendingIDs: newIDSet(), sameKeys: newIDSet()}
	st.sameKeys.freeze(nil)
	return st
}

// loadResume reads the folder's journal, keeping only what this run can use, for rows
// matched by number where the input has stable lines.
func loadResume(path string, cur runfolder.Header) (*resumeState, error) {
	return loadResumeKeyed(path, cur, false)
}

// loadResumeKeyed is loadResume; keyed: the input has no stable lines, so rows of the same run
// are matched by key too.
func loadResumeKeyed(path string, cur runfolder.Header, keyed bool) (*resumeState, error) {
	st := newResumeState()
	st.keyed = keyed
	f, err := runfolder.OpenFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		st.pendingIDs.freeze(nil)
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	defer f.Close()
	users, err := readUndone(filepath.Join(filepath.Dir(path), runfolder.UndoFile))
	if err != nil {
		return nil, err
	}
	undo := &undoMarks{users: users, ext: map[uint64]struct{}{}}
	var same, sameTarget bool
	// Hashes as read, sorted through a file of the folder when many (resume_ids.go): no map,
	// and no slice of every finished row on the heap for the whole session.
	dir := filepath.Dir(path)
	finishedIDs := newHashCollector(dir)
	defer finishedIDs.close()
	sameIDs := newHashCollector(dir) // keyed: those of them finished by the same run
	defer sameIDs.close()
	openIDs := map[uint64]struct{}{} // pending marks not yet settled, by external_id hash: as many as were in flight
	sc := runfolder.NewScanner(f)
	for sc.Scan() {
		if sc.IsHeader() {
			h := sc.Header()
			st.sessions++
			same = h.SameRun(cur)
			sameTarget = h.SameTarget(cur)
			if same {
				st.same++
				st.lastEnd = ""
			}
			continue
		}
		e := sc.Event()
		switch e.Event {
		case "":
		case runfolder.EventEnd:
			if same {
				st.lastEnd = e.RunStatus
			}
			continue
		default:
			continue
		}
		finished := e.Status.Finished()
		key := e.ExternalID // else the row's key (its primary identifier's digest): rows without an external_id
		if key == "" {
			key = e.Key
		}
		var h uint64
		if sameTarget && key != "" {
			h = st.doneIDs.hash(key)
		}
		undone := finished && sameTarget && undo.undid(e, h, key != "")
		finished = finished && !undone
		if sameTarget && key != "" {
			if finished || undone {
				undo.mark(h, undone)
			}
			if finished {
				finishedIDs.add(h)
				if same && keyed {
					sameIDs.add(h)
				}
			}
			if e.Status == runfolder.StatusPending {
				openIDs[h] = struct{}{}
			} else {
				delete(openIDs, h)
			}
		}
		if !same || e.Row <= 0 || keyed {
			continue
		}
		switch {
		case e.Status == runfolder.StatusPending:
			st.pending[e.Row] = e.ExternalID
		case finished, e.Status == runfolder.StatusSkipped: // a row the preset leaves out is done too
			delete(st.pending, e.Row)
			if !st.done.has(e.Row) {
				st.done.set(e.Row)
				st.doneN++
			}
			st.undone.clear(e.Row)
		case undone: // created or adopted, then deleted by undo: to be created again
			delete(st.pending, e.Row)
			if st.done.has(e.Row) {
				st.done.clear(e.Row)
				st.doneN--
			}
			st.undone.set(e.Row)
		default:
			delete(st.pending, e.Row)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st.damage = sc.Warnings()
	st.undoneN = st.undone.count()
	if err := finishedIDs.finish(st.doneIDs, undo.dropped()); err != nil {
		return nil, err
	}
	if keyed {
		st.sameKeys.seed = st.doneIDs.seed
		if err := sameIDs.finish(st.sameKeys, undo.dropped()); err != nil {
			st.close()
			return nil, err
		}
		st.doneN = st.sameKeys.len()
	}
	open := make([]uint64, 0, len(openIDs))
	for h := range openIDs {
		open = append(open, h)
	}
	st.pendingIDs.seed = st.doneIDs.seed // the hashes above were taken with doneIDs' seed
	st.pendingIDs.freeze(open)
	return st, nil
}

// close frees the sets' files.
func (st *resumeState) close() {
	st.doneIDs.close()
	st.sameKeys.close()
	st.pendingIDs.close()
}

// err is why a look-up in a set on disk failed (the run folder's disk): the session stops.
func (st *resumeState) err() error {
	return errors.Join(st.doneIDs.err(), st.sameKeys.err(), st.pendingIDs.err())
}
