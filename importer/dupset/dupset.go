// Package dupset finds the rows of an input that repeat an identifier of an earlier row, in
// flat memory: a million rows of external_id + email cost at most 32 bytes a row, and an
// import's large table moves to an unlinked file of its run folder.
package dupset

import (
	"errors"
	"hash/maphash"
	"iter"
	"math/bits"
	"runtime"
	"sync"
	"unsafe"

	"github.com/userimport/userimport/mapping"
)

// Set finds rows that repeat an identifier of an earlier row of the same input. It is an
// open-addressing table of 8-byte identifier hashes and 4-byte first lines, kept between 75%
// and 90% full: 13 to 16 bytes an identifier, at most 32 bytes a row of external_id + email
// (a Go map takes about three times that). Slots hold the hashes in ascending order (linear
// probing with a hash's home slot rising with its value, and no wrap-around), so a miss stops
// at the first greater hash and growing is one sequential merge. Two identifiers whose 64-bit
// hashes collide would read as duplicates: about once in 10^7 million-row inputs. An import's
// table moves to a file of the run folder once it passes FileMin bytes (fileTable), so a
// large input's memory stays flat. Safe for concurrent use.
type Set struct {
	mu      sync.Mutex
	seeds   [len(idFields)]maphash.Seed // one per field: the same value under two fields differs
	t       slots
	n       int    // identifiers held
	dir     string // where a large table goes; "" keeps it in memory
	fileMin int    // table bytes from which it lives in a file under dir
	err     error  // the first I/O error of a file table: every later check fails with it
}

// slots is a Set's table: in memory (table), or in a file (fileTable). Both keep hashes
// ascending over their slots, each at or after its home slot.
type slots interface {
	homes() int // home slots; the spare ones follow
	find(h uint64) (slot int, found bool)
	line(slot int) uint32
	insert(slot int, h uint64, line uint32) bool
	// chunks yields the slots in order, a run at a time (0: empty). drop: the table is freed
	// after, so it may give back what it has passed.
	chunks(drop bool) iter.Seq2[[]uint64, []uint32]
	// fill copies src, which fits, into the new empty table in one ordered pass: each hash at
	// its home or just after the one before.
	fill(src slots)
	bytes() int
	err() error // the first I/O error; the table is unusable after one
	free()
}

// idFields are the fields mapping.Identifiers reports.
var idFields = [...]string{"external_id", "email_address", "phone_number", "username", "web3_wallet"}

const (
	dupMinSlots = 1024
	// Grow by 6/5 when 90% full, so a fresh table is 75% full: the 32-bytes-a-row bound holds
	// at every size, at the price of longer probe runs than a half-empty table would have.
	dupMaxLoadNum, dupMaxLoadDen = 9, 10
	dupGrowNum, dupGrowDen       = 6, 5
)

// slotBytes is a slot's size, in memory or in a file: an 8-byte hash and a 4-byte line.
const slotBytes = 12

// FileMin is the table size in bytes from which an import's table lives in a file: tables
// of up to ~75,000 rows stay in memory, so small and mid-sized imports pay no I/O and larger
// ones no more memory than this.
const FileMin = 2 << 20

// New returns an empty set; dir is the run folder a large table moves to ("" for none: a dry
// run writes nothing).
func New(dir string) *Set { return NewFileMin(dir, FileMin) }

// NewFileMin is New with the table size in bytes from which the table lives in a file under
// dir, in place of FileMin (tests use a small one).
func NewFileMin(dir string, fileMin int) *Set {
	d := &Set{t: newTable(dupMinSlots), dir: dir, fileMin: fileMin}
	for i := range d.seeds {
		d.seeds[i] = maphash.MakeSeed()
	}
	return d
}

// Check records p's identifiers at line, or returns the line and field of an earlier row
// that holds one of them (recording nothing then). After an error (only a file table has
// them) the set can no longer tell, and the other results mean nothing.
func (d *Set) Check(p *mapping.CreateUserParams, line int) (firstLine int, field string, err error) {
	var buf [4]mapping.Identifier
	ids := mapping.AppendIdentifiers(buf[:0], p)
	var hbuf [4]uint64
	hashes := hbuf[:0]
	for _, id := range ids {
		hashes = append(hashes, d.hash(id))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, "", d.err
	}
	var sbuf [4]int
	slots := sbuf[:0]
	for i, h := range hashes {
		slot, found := d.t.find(h)
		if found {
			return int(d.t.line(slot)), ids[i].Field, d.ioErr()
		}
		slots = append(slots, slot)
	}
	fresh := true // slots are where the hashes go in the current table
	if (d.n+len(hashes))*dupMaxLoadDen > d.t.homes()*dupMaxLoadNum {
		if d.err = d.grow(); d.err != nil {
			return 0, "", d.err
		}
		fresh = false
	}
	// From the highest slot down (at one slot, the greater hash first): an insert shifts only
	// the slots after it, so the lower slots found above stay right without a second look-up.
	var obuf [4]int
	order := orderBySlot(obuf[:0], slots, hashes)
	for x, i := range order {
		h := hashes[i]
		if x > 0 && h == hashes[order[x-1]] {
			continue // the row repeats one of its own hashes
		}
		slot := slots[i]
		if !fresh {
			var found bool
			if slot, found = d.t.find(h); found {
				continue
			}
		}
		for !d.t.insert(slot, h, uint32(line)) {
			if d.err = d.grow(); d.err != nil { // the run reached the end of the spare slots
				return 0, "", d.err
			}
			slot, _ = d.t.find(h)
			fresh = false
		}
		d.n++
	}
	return 0, "", d.ioErr()
}

// orderBySlot appends to o the indexes of slots by slot descending, then hash descending
// (equal hashes side by side): the order Check inserts in. A row has a few: insertion sort.
func orderBySlot(o []int, slots []int, hashes []uint64) []int {
	for i := range slots {
		o = append(o, i)
	}
	for a := 1; a < len(o); a++ {
		for b := a; b > 0; b-- {
			p, q := o[b-1], o[b]
			if slots[q] < slots[p] || slots[q] == slots[p] && hashes[q] <= hashes[p] {
				break
			}
			o[b-1], o[b] = q, p
		}
	}
	return o
}

// ioErr keeps the table's first I/O error, for this check and every later one.
func (d *Set) ioErr() error {
	if d.err == nil {
		d.err = d.t.err()
	}
	return d.err
}

func (d *Set) hash(id mapping.Identifier) uint64 {
	f := len(idFields) - 1
	for i, name := range idFields {
		if name == id.Field {
			f = i
			break
		}
	}
	h := maphash.String(d.seeds[f], id.Value)
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

func (d *Set) grow() error {
	old := d.t
	if err := old.err(); err != nil {
		return err
	}
	size := old.homes() * dupGrowNum / dupGrowDen
	for !fits(old, size) {
		size = size * dupGrowNum / dupGrowDen
	}
	nt, err := d.newSlots(size)
	if err != nil {
		return err
	}
	nt.fill(old)
	old.free()
	d.t = nt
	return errors.Join(old.err(), nt.err())
}

// newSlots is an empty table of size home slots: in a file under dir from fileMin bytes.
func (d *Set) newSlots(size int) (slots, error) {
	if d.dir != "" && fileTables && (size+dupSpare)*slotBytes >= d.fileMin {
		return newFileTable(d.dir, size)
	}
	return newTable(size), nil // a small table's memory costs less than its I/O would
}

// Reserve sizes an empty set for rows rows of two identifiers (an external_id and an email,
// the common row) at 80% full, so that it need not grow on the way: each growth copies the
// table, six times its final size in all. Rows of one identifier then cost 30 bytes a row, of
// more the table grows as before. A set that holds identifiers is left as it is.
func (d *Set) Reserve(rows int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	size := rows * 2 * 5 / 4
	if d.n > 0 || d.err != nil || size <= d.t.homes() {
		return d.err
	}
	nt, err := d.newSlots(size)
	if err != nil {
		return err
	}
	d.t.free()
	d.t = nt
	return nil
}

// Close frees the table (and the file of a file table); the set is not used after.
func (d *Set) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t.free()
}

// Bytes is the table's size, for the memory bound's test and benchmark.
func (d *Set) Bytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.t.bytes()
}

// homeIn is h's first slot in a table of n home slots: the hash scaled to [0, n), so slots
// rise with hashes.
func homeIn(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// placed is where a hash goes when a table is copied into one of another size.
type placed struct {
	slot int
	h    uint64
	line uint32
}

// placements yields src's hashes in order with their slots in a table of n home slots: each at
// its home, or just after the hash before. The one rule fits and both fills follow. drop: src
// is freed after the pass, and may give back what it has passed.
func placements(src slots, n int, drop bool) iter.Seq[placed] {
	return func(yield func(placed) bool) {
		next := 0
		for keys, lines := range src.chunks(drop) {
			for i, h := range keys {
				if h == 0 {
					continue
				}
				p := placed{slot: max(homeIn(h, n), next), h: h, line: lines[i]}
				if !yield(p) {
					return
				}
				next = p.slot + 1
			}
		}
	}
}

// fits tells whether t's hashes fit a table of n home slots (and the spare ones after).
func fits(t slots, n int) bool {
	for p := range placements(t, n, false) {
		if p.slot >= n+dupSpare {
			return false
		}
	}
	return true
}

// table is a Set's storage in memory. A large one is mapped from the OS (Linux, macOS,
// FreeBSD), not taken from the Go heap: the GC lets garbage grow to the size of the live heap,
// so a table on the heap would double the memory it costs, and more while it grows.
type table struct {
	n       int      // home slots; keys and lines have dupSpare more for runs past the last
	keys    []uint64 // ascending where not 0 (empty)
	lines   []uint32
	mem     []byte // the mapping keys and lines live in; nil when on the Go heap
	cleanup runtime.Cleanup
}

const (
	dupMapMin = 1 << 20 // the smallest table worth a mapping of its own
	dupSpare  = 1024    // slots past the last home slot; a longer run there makes the table grow
)

func newTable(n int) *table {
	t := &table{n: n}
	slots := n + dupSpare
	if slots*slotBytes >= dupMapMin {
		t.mem = mapMem(slots * slotBytes)
	}
	if t.mem == nil {
		t.keys, t.lines = make([]uint64, slots), make([]uint32, slots)
		return t
	}
	t.keys = unsafe.Slice((*uint64)(unsafe.Pointer(&t.mem[0])), slots)
	t.lines = unsafe.Slice((*uint32)(unsafe.Pointer(&t.mem[8*slots])), slots)
	t.cleanup = runtime.AddCleanup(t, unmapMem, t.mem) // a Set dropped without grow
	return t
}

func (t *table) homes() int           { return t.n }
func (t *table) line(slot int) uint32 { return t.lines[slot] }
func (t *table) bytes() int           { return len(t.keys)*8 + len(t.lines)*4 }
func (t *table) err() error           { return nil }

// find returns h's slot, or the slot where it belongs: the first from its home that is empty
// or holds a greater hash.
func (t *table) find(h uint64) (slot int, found bool) {
	i := homeIn(h, t.n)
	for ; i < len(t.keys); i++ {
		switch k := t.keys[i]; {
		case k == h:
			return i, true
		case k == 0 || k > h:
			return i, false
		}
	}
	return i, false
}

// insert puts h at slot, shifting the run from there one slot on; false when the run already
// fills the spare slots.
func (t *table) insert(slot int, h uint64, line uint32) bool {
	end := slot
	for end < len(t.keys) && t.keys[end] != 0 {
		end++
	}
	if end == len(t.keys) {
		return false
	}
	copy(t.keys[slot+1:end+1], t.keys[slot:end])
	copy(t.lines[slot+1:end+1], t.lines[slot:end])
	t.keys[slot], t.lines[slot] = h, line
	return true
}

func (t *table) chunks(drop bool) iter.Seq2[[]uint64, []uint32] {
	return func(yield func([]uint64, []uint32) bool) {
		const step = 1 << 16
		for from := 0; from < len(t.keys); from += step {
			to := min(from+step, len(t.keys))
			if !yield(t.keys[from:to], t.lines[from:to]) {
				return
			}
			if drop {
				t.release(from, to) // the new table fills as this one empties: no double peak
			}
		}
	}
}

func (t *table) fill(src slots) {
	for p := range placements(src, t.n, true) {
		t.keys[p.slot], t.lines[p.slot] = p.h, p.line
	}
}

// release gives back the memory of slots [from, to), which will not be read again.
func (t *table) release(from, to int) {
	if t.mem != nil {
		n := len(t.keys)
		dropPages(t.mem, from*8, to*8)
		dropPages(t.mem, 8*n+from*4, 8*n+to*4)
	}
}

func (t *table) free() {
	if t.mem != nil {
		t.cleanup.Stop()
		unmapMem(t.mem)
	}
	t.keys, t.lines, t.mem = nil, nil, nil
}
