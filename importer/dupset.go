package importer

import (
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"unsafe"

	"github.com/userimport/userimport/mapping"
)

// dupSet finds rows that repeat an identifier of an earlier row of the same input. It is an
// open-addressing table of 8-byte identifier hashes and 4-byte first lines, kept between 75%
// and 90% full: 13 to 16 bytes an identifier, at most 32 bytes a row of external_id + email
// (a Go map takes about three times that). Slots hold the hashes in ascending order (linear
// probing with a hash's home slot rising with its value, and no wrap-around), so a miss stops
// at the first greater hash and growing is one sequential merge. Two identifiers whose 64-bit
// hashes collide would read as duplicates: about once in 10^7 million-row inputs. Safe for
// concurrent use.
type dupSet struct {
	mu    sync.Mutex
	seeds [len(idFields)]maphash.Seed // one per field: the same value under two fields differs
	t     *table
	n     int // identifiers held
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

func newDupSet() *dupSet {
	d := &dupSet{t: newTable(dupMinSlots)}
	for i := range d.seeds {
		d.seeds[i] = maphash.MakeSeed()
	}
	return d
}

// check records p's identifiers at line, or returns the line and field of an earlier row
// that holds one of them (recording nothing then).
func (d *dupSet) check(p *mapping.CreateUserParams, line int) (firstLine int, field string) {
	var buf [4]mapping.Identifier
	ids := mapping.AppendIdentifiers(buf[:0], p)
	var hbuf [4]uint64
	hashes := hbuf[:0]
	for _, id := range ids {
		hashes = append(hashes, d.hash(id))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, h := range hashes {
		if slot, found := d.t.find(h); found {
			return int(d.t.lines[slot]), ids[i].Field
		}
	}
	for _, h := range hashes {
		if (d.n+1)*dupMaxLoadDen > d.t.n*dupMaxLoadNum {
			d.grow()
		}
		slot, found := d.t.find(h)
		if found {
			continue // the row repeats one of its own hashes
		}
		for !d.t.insert(slot, h, uint32(line)) {
			d.grow() // the run reached the end of the spare slots
			slot, _ = d.t.find(h)
		}
		d.n++
	}
	return 0, ""
}

func (d *dupSet) hash(id mapping.Identifier) uint64 {
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

func (d *dupSet) grow() {
	old := d.t
	size := old.n * dupGrowNum / dupGrowDen
	for !old.fits(size) {
		size = size * dupGrowNum / dupGrowDen
	}
	d.t = old.rehash(size)
	old.free()
}

// bytes is the table's size, for the memory bound's test.
func (d *dupSet) bytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.t.keys)*8 + len(d.t.lines)*4
}

// table is the dupSet's storage. A large one is mapped from the OS (Linux, macOS, FreeBSD), not taken
// from the Go heap: the GC lets garbage grow to the size of the live heap, so a table on the
// heap would double the memory it costs, and more while it grows.
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
	if slots*12 >= dupMapMin {
		t.mem = mapMem(slots * 12)
	}
	if t.mem == nil {
		t.keys, t.lines = make([]uint64, slots), make([]uint32, slots)
		return t
	}
	t.keys = unsafe.Slice((*uint64)(unsafe.Pointer(&t.mem[0])), slots)
	t.lines = unsafe.Slice((*uint32)(unsafe.Pointer(&t.mem[8*slots])), slots)
	t.cleanup = runtime.AddCleanup(t, unmapMem, t.mem) // a dupSet dropped without grow
	return t
}

// home is h's first slot: the hash scaled to [0, n), so slots rise with hashes.
func (t *table) home(h uint64) int { return homeIn(h, t.n) }

func homeIn(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// find returns h's slot, or the slot where it belongs: the first from its home that is empty
// or holds a greater hash.
func (t *table) find(h uint64) (slot int, found bool) {
	i := t.home(h)
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

// fits tells whether t's hashes fit a table of n home slots (and the spare ones after).
func (t *table) fits(n int) bool {
	next := 0
	for _, h := range t.keys {
		if h != 0 {
			if next = max(homeIn(h, n), next) + 1; next > n+dupSpare {
				return false
			}
		}
	}
	return true
}

// rehash copies t into a new table of n home slots, which it fits, in one ordered pass: each
// hash at its home or just after the one before. It gives back t's pages as it goes.
func (t *table) rehash(n int) *table {
	nt := newTable(n)
	next := 0
	const step = 1 << 16
	for i, h := range t.keys {
		if h != 0 {
			slot := max(nt.home(h), next)
			nt.keys[slot], nt.lines[slot] = h, t.lines[i]
			next = slot + 1
		}
		if (i+1)%step == 0 {
			t.release(i+1-step, i+1) // the new table fills as the old one empties: no double peak
		}
	}
	return nt
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
