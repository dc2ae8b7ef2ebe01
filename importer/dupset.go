package importer

import (
	"hash/maphash"
	"math/bits"
	"sync"

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
	keys  []uint64                    // 0: empty slot
	lines []uint32
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
	d := &dupSet{keys: make([]uint64, dupMinSlots), lines: make([]uint32, dupMinSlots)}
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
		if slot, found := d.find(h); found {
			return int(d.lines[slot]), ids[i].Field
		}
	}
	for _, h := range hashes {
		if (d.n+1)*dupMaxLoadDen > len(d.keys)*dupMaxLoadNum {
			d.grow()
		}
		if slot, found := d.find(h); !found { // found: the row repeats one of its own hashes
			d.keys[slot], d.lines[slot] = h, uint32(line)
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

// find returns h's slot, or the empty slot where it belongs.
func (d *dupSet) find(h uint64) (slot int, found bool) {
	n := len(d.keys)
	hi, _ := bits.Mul64(h, uint64(n)) // the hash scaled to [0, n): any table size works
	for i := int(hi); ; i++ {
		if i == n {
			i = 0
		}
		switch d.keys[i] {
		case h:
			return i, true
		case 0:
			return i, false
		}
	}
}

func (d *dupSet) grow() {
	oldKeys, oldLines := d.keys, d.lines
	size := len(oldKeys) * dupGrowNum / dupGrowDen
	d.keys, d.lines = make([]uint64, size), make([]uint32, size)
	for i, h := range oldKeys {
		if h != 0 {
			slot, _ := d.find(h)
			d.keys[slot], d.lines[slot] = h, oldLines[i]
		}
	}
}

// bytes is the table's size, for the memory bound's test.
func (d *dupSet) bytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys)*8 + len(d.lines)*4
}
