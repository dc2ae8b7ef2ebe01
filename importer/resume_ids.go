package importer

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
)

// A resume's sets of external_id hashes (every row a same-target session finished) live for the
// whole session, and the binary's GC target is five times the live heap (main sets GOGC=400):
// 8 bytes a finished row kept on the heap costs about 40 bytes of RSS. So a large set is sorted
// through an unlinked file of the run folder and looked up there, as the duplicate table is
// (importer/dupset): the kernel's page cache holds it, and the heap keeps one hash in
// diskBlock of it.

// resumeSpill is how many hashes a collector keeps in memory: past it, sorted runs go to a file,
// and the frozen set is read from a file. A variable for the tests.
var resumeSpill = 1 << 15 // 256 KiB

const (
	diskBlock = 64 // hashes a look-up reads: 512 bytes, one sorted block the index points to
	mergeBuf  = 4 << 10
)

// hashCollector gathers the hashes of a set as the journal is read, in any order and with
// repeats, in memory up to resumeSpill and as sorted runs in an unlinked file past it.
type hashCollector struct {
	dir  string
	buf  []uint64
	f    *os.File // the spilled runs, nil until the first
	runs []int64  // each run's length in hashes, in file order
	err  error    // the first I/O error: finish returns it
	// inMemory: the folder cannot hold an unlinked file (Windows): every hash stays in buf
	inMemory bool
}

func newHashCollector(dir string) *hashCollector { return &hashCollector{dir: dir} }

func (c *hashCollector) add(h uint64) {
	c.buf = append(c.buf, h)
	if len(c.buf) >= resumeSpill && c.err == nil && !c.inMemory {
		c.spill()
	}
}

// spill writes buf as one sorted run of distinct hashes. Where the file cannot be made or
// unlinked while open (Windows), the hashes stay in memory.
func (c *hashCollector) spill() {
	if c.f == nil {
		f, err := unlinkedTemp(c.dir, ".resume-ids-*")
		if err != nil || f == nil {
			c.err, c.inMemory = err, err == nil
			return
		}
		c.f = f
	}
	slices.Sort(c.buf)
	run := slices.Compact(c.buf)
	w := bufio.NewWriterSize(c.f, mergeBuf)
	if err := writeHashes(w, run); err != nil {
		c.err = fmt.Errorf("resume set: %w", err)
		return
	}
	c.runs = append(c.runs, int64(len(run)))
	c.buf = c.buf[:0]
}

// close frees the spilled runs (finish does; a load that fails midway calls it).
func (c *hashCollector) close() {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
}

// finish freezes the hashes collected, less those drop reports (nil: none), into s. The
// collector takes no more.
func (c *hashCollector) finish(s *idSet, drop func(uint64) bool) error {
	defer c.close()
	if c.err != nil {
		return c.err
	}
	keep := func(hs []uint64) []uint64 {
		if drop == nil {
			return hs
		}
		return slices.DeleteFunc(hs, drop)
	}
	if c.f == nil { // small, or no file to be had
		s.freeze(keep(c.buf))
		c.buf = nil
		return nil
	}
	if len(c.buf) > 0 {
		if c.spill(); c.err != nil {
			return c.err
		}
	}
	c.buf = nil
	d, err := mergeRuns(c.f, c.runs, c.dir, drop)
	if err != nil {
		return fmt.Errorf("resume set: %w", err)
	}
	if d.n <= resumeSpill { // few left (an undo took most back): back to memory
		hs, err := d.all()
		d.close()
		if err != nil {
			return fmt.Errorf("resume set: %w", err)
		}
		s.freeze(hs)
		return nil
	}
	s.m, s.sorted, s.disk = nil, nil, d
	return nil
}

// unlinkedTemp creates a 0600 file in dir and unlinks it at once: the open file keeps its data
// until closed, and a crash leaves nothing behind. It returns nil, nil where an open file
// cannot be unlinked.
func unlinkedTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("resume set: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		_ = os.Remove(f.Name())
		return nil, nil
	}
	return f, nil
}

func writeHashes(w *bufio.Writer, hs []uint64) error {
	var b [8]byte
	for _, h := range hs {
		binary.LittleEndian.PutUint64(b[:], h)
		w.Write(b[:]) // bufio keeps the first error for Flush
	}
	return w.Flush()
}

// runCursor reads one sorted run of the spill file.
type runCursor struct {
	r    *bufio.Reader
	left int64
	head uint64
}

func (rc *runCursor) next() (bool, error) {
	if rc.left == 0 {
		return false, nil
	}
	var b [8]byte
	if _, err := io.ReadFull(rc.r, b[:]); err != nil {
		return false, err
	}
	rc.left--
	rc.head = binary.LittleEndian.Uint64(b[:])
	return true, nil
}

// cursorHeap orders the runs by their next hash.
type cursorHeap []*runCursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return h[i].head < h[j].head }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*runCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeRuns merges the sorted runs of f into one sorted file of distinct hashes (less those
// drop reports) in dir, holding a read buffer a run and one index entry a block in memory.
func mergeRuns(f *os.File, runs []int64, dir string, drop func(uint64) bool) (*diskSet, error) {
	out, err := unlinkedTemp(dir, ".resume-ids-*")
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("the run folder cannot hold an unlinked file")
	}
	d := &diskSet{f: out}
	h := make(cursorHeap, 0, len(runs))
	var off int64
	for _, n := range runs {
		rc := &runCursor{r: bufio.NewReaderSize(io.NewSectionReader(f, off*8, n*8), mergeBuf), left: n}
		off += n
		ok, err := rc.next()
		if err != nil {
			d.close()
			return nil, err
		}
		if ok {
			h = append(h, rc)
		}
	}
	heap.Init(&h)
	w := bufio.NewWriterSize(out, 64<<10)
	var b [8]byte
	last, started := uint64(0), false
	for len(h) > 0 {
		rc := h[0]
		v := rc.head
		if (!started || v != last) && (drop == nil || !drop(v)) {
			if d.n%diskBlock == 0 {
				d.index = append(d.index, v)
			}
			binary.LittleEndian.PutUint64(b[:], v)
			w.Write(b[:])
			d.n++
			last, started = v, true
		}
		ok, err := rc.next()
		if err != nil {
			d.close()
			return nil, err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if err := w.Flush(); err != nil {
		d.close()
		return nil, err
	}
	d.index = slices.Clip(d.index)
	return d, nil
}

// diskSet is a frozen set's sorted hashes in an unlinked file, with the first hash of each
// block of diskBlock in memory: a look-up is one 512-byte pread, never a mapping (whose touched
// pages would count in RSS). Safe for concurrent use.
type diskSet struct {
	f     *os.File
	n     int
	index []uint64

	mu  sync.Mutex
	buf [diskBlock * 8]byte
	err error // the first read error: has reports the hash absent, err says why
}

func (d *diskSet) has(h uint64) bool {
	i, found := slices.BinarySearch(d.index, h)
	if found {
		return true
	}
	if i == 0 {
		return false // below the smallest
	}
	blk := i - 1
	cnt := min(diskBlock, d.n-blk*diskBlock)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil || d.f == nil {
		return false
	}
	b := d.buf[:cnt*8]
	if _, err := d.f.ReadAt(b, int64(blk*diskBlock*8)); err != nil {
		d.err = fmt.Errorf("resume set: %w", err)
		return false
	}
	lo, hi := 0, cnt
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch v := binary.LittleEndian.Uint64(b[m*8:]); {
		case v == h:
			return true
		case v < h:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// all reads the whole set back (a small one, to keep in memory).
func (d *diskSet) all() ([]uint64, error) {
	b := make([]byte, d.n*8)
	if _, err := d.f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	hs := make([]uint64, d.n)
	for i := range hs {
		hs[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
	return hs, nil
}

func (d *diskSet) close() {
	if d.f != nil {
		d.f.Close() // unlinked: closing frees its space
		d.f = nil
	}
}
