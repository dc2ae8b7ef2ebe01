package dupset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"os"
)

// fileTable is a Set's table in an unlinked file of the run folder, for inputs too large
// to keep it in memory (a million rows: ~30 MB). Its slots live in the kernel's page cache,
// which counts in no process's RSS and can be written out under memory pressure. The file is
// never mapped (a mapping's touched pages would count, and read faults map their neighbours
// too): each check reads and writes the few slots around a hash's home with pread and pwrite,
// two of each for a new row of external_id + email, so the process's memory stays flat.
type fileTable struct {
	f *os.File
	n int // home slots; the file holds dupSpare more
	// wins keep the slots last read around homes, one per identifier of a check: its second
	// pass, which inserts, finds them again without a read. A write empties those it overlaps.
	wins  [4]window
	next  int    // the window the next read replaces
	run   []byte // insert's new slot and the run it shifts (reused)
	ioErr error
}

const (
	recSize  = slotBytes // a slot in the file: the hash, then the line, little-endian
	winSlots = 64        // slots read at once from a home: most probe runs end within them
	allSlots = 4096      // slots read at once by a full scan
)

// newFileTable creates a file table of n home slots in dir, for fill.
func newFileTable(dir string, n int) (*fileTable, error) {
	f, err := os.CreateTemp(dir, ".duplicates-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("duplicate table: %w", err)
	}
	// Unlinked at once: the open file keeps its data until closed, and a crash leaves nothing.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("duplicate table: %w", err)
	}
	t := &fileTable{f: f, n: n}
	for i := range t.wins {
		t.wins[i].recs = make([]byte, 0, winSlots*recSize)
	}
	return t, nil
}

// window is slots [at, at+len(recs)/recSize) as read from the file.
type window struct {
	at   int
	recs []byte
}

func (w *window) holds(slot int) bool {
	return slot >= w.at && (slot-w.at)*recSize < len(w.recs)
}

func (t *fileTable) homes() int { return t.n }
func (t *fileTable) slots() int { return t.n + dupSpare }
func (t *fileTable) bytes() int { return t.slots() * recSize }
func (t *fileTable) err() error { return t.ioErr }

func (t *fileTable) fail(err error) {
	if t.ioErr == nil {
		t.ioErr = fmt.Errorf("duplicate table: %w", err)
	}
}

func recKey(rec []byte) uint64  { return binary.LittleEndian.Uint64(rec) }
func recLine(rec []byte) uint32 { return binary.LittleEndian.Uint32(rec[8:]) }

// window returns the slots from at on: as read before when a window holds at, else read
// now (nil after an I/O error).
func (t *fileTable) window(at int) []byte {
	for i := range t.wins {
		if w := &t.wins[i]; w.holds(at) {
			return w.recs[(at-w.at)*recSize:]
		}
	}
	if t.ioErr != nil {
		return nil
	}
	w := &t.wins[t.next]
	t.next = (t.next + 1) % len(t.wins)
	w.at, w.recs = at, w.recs[:min(winSlots, t.slots()-at)*recSize]
	if _, err := t.f.ReadAt(w.recs, int64(at)*recSize); err != nil {
		w.recs = w.recs[:0]
		t.fail(err)
		return nil
	}
	return w.recs
}

// write writes recs at slot, forgetting the windows it changes.
func (t *fileTable) write(slot int, recs []byte) {
	end := slot + len(recs)/recSize
	for i := range t.wins {
		if w := &t.wins[i]; w.at < end && slot < w.at+len(w.recs)/recSize {
			w.recs = w.recs[:0]
		}
	}
	if _, err := t.f.WriteAt(recs, int64(slot)*recSize); err != nil {
		t.fail(err)
	}
}

// find is table.find, reading the slots it passes.
func (t *fileTable) find(h uint64) (slot int, found bool) {
	slot = homeIn(h, t.n)
	for slot < t.slots() {
		recs := t.window(slot)
		if recs == nil {
			break
		}
		for ; len(recs) > 0; recs, slot = recs[recSize:], slot+1 {
			switch k := recKey(recs); {
			case k == h:
				return slot, true
			case k == 0 || k > h:
				return slot, false
			}
		}
	}
	return slot, false
}

func (t *fileTable) line(slot int) uint32 {
	if rec := t.window(slot); rec != nil {
		return recLine(rec)
	}
	return 0
}

// insert is table.insert: it reads the run from slot to the first empty slot and writes it
// back one slot on, behind h. After an I/O error it reports true, so the caller's loop ends
// and the error is seen.
func (t *fileTable) insert(slot int, h uint64, line uint32) bool {
	t.run = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(t.run[:0], h), line)
	for at := slot; ; {
		if at == t.slots() {
			return false
		}
		recs := t.window(at)
		if recs == nil {
			return true
		}
		for ; len(recs) > 0; recs, at = recs[recSize:], at+1 {
			if recKey(recs) == 0 {
				t.write(slot, t.run)
				return true
			}
			t.run = append(t.run, recs[:recSize]...)
		}
	}
}

func (t *fileTable) chunks(bool) iter.Seq2[[]uint64, []uint32] {
	return func(yield func([]uint64, []uint32) bool) {
		buf := make([]byte, allSlots*recSize)
		keys, lines := make([]uint64, allSlots), make([]uint32, allSlots)
		for at := 0; at < t.slots() && t.ioErr == nil; at += allSlots {
			n := min(allSlots, t.slots()-at)
			if _, err := t.f.ReadAt(buf[:n*recSize], int64(at)*recSize); err != nil {
				t.fail(err)
				return
			}
			for i := range n {
				keys[i], lines[i] = recKey(buf[i*recSize:]), recLine(buf[i*recSize:])
			}
			if !yield(keys[:n], lines[:n]) {
				return
			}
		}
	}
}

// fill writes the file in one sequential pass, every slot included: the disk space is taken
// while the table grows, so a full disk shows then rather than in the middle of an insert.
func (t *fileTable) fill(src slots) {
	w := bufio.NewWriterSize(io.NewOffsetWriter(t.f, 0), 1<<16)
	var rec, empty [recSize]byte
	next := 0 // the next slot w writes
	for p := range placements(src, t.n, true) {
		for ; next < p.slot; next++ {
			w.Write(empty[:]) // bufio keeps the first error for Flush
		}
		binary.LittleEndian.PutUint64(rec[:], p.h)
		binary.LittleEndian.PutUint32(rec[8:], p.line)
		w.Write(rec[:])
		next++
	}
	for ; next < t.slots(); next++ {
		w.Write(empty[:])
	}
	if err := w.Flush(); err != nil {
		t.fail(err)
	}
}

func (t *fileTable) free() {
	if t.f != nil {
		t.f.Close() // the file was unlinked: closing it frees its space
		t.f = nil
	}
}
