package importer

import (
	"hash/maphash"
	"strings"
	"sync"

	"github.com/userimport/userimport/mapping"
)

// dupSet finds rows that repeat an identifier of an earlier row of the same input. It keeps an
// 8-byte hash and the first line (4 bytes) per identifier: well under 32 bytes a row.
type dupSet struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64]int32
}

func newDupSet() *dupSet { return &dupSet{seed: maphash.MakeSeed(), m: make(map[uint64]int32)} }

// check records p's identifiers at line, or returns the line and field of an earlier row
// that holds one of them.
func (d *dupSet) check(p *mapping.CreateUserParams, line int) (firstLine int, field string) {
	ids := mapping.Identifiers(p)
	hashes := make([]uint64, len(ids))
	var b strings.Builder
	for i, id := range ids {
		b.Reset()
		b.WriteString(id.Field)
		b.WriteByte(0)
		b.WriteString(id.Value)
		hashes[i] = maphash.String(d.seed, b.String())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, h := range hashes {
		if first, ok := d.m[h]; ok {
			return int(first), ids[i].Field
		}
	}
	for _, h := range hashes {
		d.m[h] = int32(line)
	}
	return 0, ""
}
