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
// (a Go map takes about three times that). Two identifiers whose 64-bit hashes collide would
// read as duplicates: about once in 10^7 million-row inputs. Safe for concurrent use.
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
		if (d.n+1)*dupMaxLoadDen > len(d.t.keys)*dupMaxLoadNum {
			d.grow()
		}
		if slot, found := d.t.find(h); !found { // found: the row repeats one of its own hashes
			d.t.keys[slot], d.t.lines[slot] = h, uint32(line)
			d.n++
		}
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
	d.t = newTable(len(old.keys) * dupGrowNum / dupGrowDen)
	const step = 1 << 16
	for i, h := range old.keys {
		if h != 0 {
			slot, _ := d.t.find(h)
			d.t.keys[slot], d.t.lines[slot] = h, old.lines[i]
		}
		if (i+1)%step == 0 {
			old.release(i+1-step, i+1) // the new table fills as the old one empties: no double peak
		}
	}
	old.free()
}

// bytes is the table's size, for the memory bound's test.
func (d *dupSet) bytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.t.keys)*8 + len(d.t.lines)*4
}

// table is the dupSet's storage. A large one is mapped from the OS (on Linux) rather than taken
// from the Go heap: the GC lets garbage grow to the size of the live heap, so a table on the
// heap would double the memory it costs, and more while it grows.
type table struct {
	keys    []uint64 // 0: empty slot
	lines   []uint32
	mem     []byte // the mapping keys and lines live in; nil when on the Go heap
	cleanup runtime.Cleanup
}

// dupMapMin is the smallest table worth a mapping of its own.
const dupMapMin = 1 << 20

func newTable(n int) *table {
	t := &table{}
	if n*12 >= dupMapMin {
		t.mem = mapMem(n * 12)
	}
	if t.mem == nil {
		t.keys, t.lines = make([]uint64, n), make([]uint32, n)
		return t
	}
	t.keys = unsafe.Slice((*uint64)(unsafe.Pointer(&t.mem[0])), n)
	t.lines = unsafe.Slice((*uint32)(unsafe.Pointer(&t.mem[8*n])), n)
	t.cleanup = runtime.AddCleanup(t, unmapMem, t.mem) // a dupSet dropped without grow
	return t
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

// find returns h's slot, or the empty slot where it belongs.
func (t *table) find(h uint64) (slot int, found bool) {
	n := len(t.keys)
	hi, _ := bits.Mul64(h, uint64(n)) // the hash scaled to [0, n): any table size works
	for i := int(hi); ; i++ {
		if i == n {
			i = 0
		}
		switch t.keys[i] {
		case h:
			return i, true
		case 0:
			return i, false
		}
	}
}
