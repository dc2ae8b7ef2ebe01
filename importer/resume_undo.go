package importer

import (
	"math/bits"

	"github.com/userimport/userimport/runfolder"
)

func (b bitset) clear(i int) {
	if w := i / 64; w < len(b) {
		b[w] &^= 1 << (i % 64)
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// undoMarks is what undo.jsonl tells a resume: the users an undo deleted. A row whose user is
// among them is no longer finished, so the next import creates it again.
type undoMarks struct {
	users *idSet              // user ids undo deleted (or found gone)
	ext   map[uint64]struct{} // external_id hashes whose latest finish an undo took back
}

// undid reports whether e, a finished row event against the same target, is one undo took
// back: its user was deleted, or it was settled from the journal by a finish since undone.
func (u *undoMarks) undid(e *runfolder.Event, extHash uint64, hasExt bool) bool {
	if u == nil || u.users.len() == 0 {
		return false
	}
	if e.UserID != "" {
		return u.users.has(e.UserID)
	}
	_, ok := u.ext[extHash]
	return hasExt && e.Settled == "journal" && ok
}

// mark records the latest state of an external_id: undone, or finished again since.
func (u *undoMarks) mark(extHash uint64, undone bool) {
	if u == nil {
		return
	}
	if undone {
		u.ext[extHash] = struct{}{}
	} else {
		delete(u.ext, extHash)
	}
}

// dropped reports the external_ids whose latest finish an undo took back (nil: none).
func (u *undoMarks) dropped() func(uint64) bool {
	if u == nil || len(u.ext) == 0 {
		return nil
	}
	return func(h uint64) bool {
		_, ok := u.ext[h]
		return ok
	}
}
