// Package joinset indexes the rows of a second file (--join) by their join key, on disk, so
// each record of the main input finds its row in flat memory: Auth0's password-hash export,
// Better Auth's and Auth.js's account table.
package joinset

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// Index is one join file's rows by key. The rows live in an unlinked file (rec), the index
// in another (idx): 16-byte entries (key hash, then the row's offset and length) sorted by
// hash, one per key (the first row of a key in file order). In memory it keeps only the
// first hash of every 4 KiB block of entries and one bit a row for "matched" (1.25 bits a
// row): a lookup is a binary search there, one block read and one row read (pread).
// Safe for concurrent lookups.
type Index struct {
	seed   maphash.Seed
	rec    *os.File // the kept rows: uvarint key length, key, then the row (encodeRow)
	idx    *os.File
	n      int      // entries
	fences []uint64 // fences[i]: the hash of entry i*blockEntries
	header []string // the join file's CSV header; nil for JSON
	used   []atomic.Uint64
	named  []string  // files the OS would not unlink while open: removed on Close
	blocks sync.Pool // *[]byte of one block

	Stats BuildStats
}

// BuildStats counts the join file's rows as Build read them.
type BuildStats struct {
	Rows       int // records read
	Indexed    int // kept: one per key
	Filtered   int // left out by the join's where, or with no key
	Duplicate  int // repeat a kept row's key: the first row of a key is the one joined
	Unreadable int // could not be read or parsed
}

const (
	entryBytes   = 16
	blockEntries = 256 // a block is 4 KiB: one page read a lookup
	blockBytes   = blockEntries * entryBytes
	// bucketMax is the entries sorted in memory at once (1 MiB) while building.
	bucketMax = 1 << 16
	fineBits  = 12 // build counts entries per 2^12 hash ranges; buckets are unions of them
	lenBits   = 24 // an entry's row length; the offset takes the other 40 bits
	// MaxRow is the longest row the index keeps (16 MiB).
	MaxRow = 1<<lenBits - 1
)

// Build reads every record of r, keeps those spec.OtherKey gives a key (in its where), and
// indexes them by that key. The two files go in dir (a run folder; "" for the system's temp
// directory), unlinked at once: they vanish when the index is closed or the process ends.
func Build(ctx context.Context, spec *mapping.JoinSpec, r source.Reader, dir string) (*Index, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	ix := &Index{seed: maphash.MakeSeed(), header: slices.Clone(r.Header())}
	ix.blocks.New = func() any { b := make([]byte, blockBytes); return &b }
	var err error
	if ix.rec, err = ix.tempFile(dir, ".join-rows-*"); err != nil {
		return nil, err
	}
	entries, err := ix.tempFile(dir, ".join-entries-*")
	if err != nil {
		ix.Close()
		return nil, err
	}
	defer func() { // unlinked: closing frees it
		entries.Close()
		ix.removeNamed(entries.Name())
	}()
	var fine [1 << fineBits]int
	n, err := ix.read(ctx, spec, r, entries, &fine)
	if err == nil {
		ix.idx, err = ix.tempFile(dir, ".join-index-*")
	}
	if err == nil {
		err = ix.sort(entries, n, &fine)
	}
	if err != nil {
		ix.Close()
		return nil, err
	}
	ix.used = make([]atomic.Uint64, (ix.n+63)/64)
	return ix, nil
}

func (ix *Index) tempFile(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return nil, fmt.Errorf("join index: %w", err)
	}
	// Unlinked at once: the open file keeps its data until closed, and a crash leaves nothing.
	// Where an open file cannot be removed (Windows), it is removed on Close.
	if os.Remove(f.Name()) != nil {
		ix.named = append(ix.named, f.Name())
	}
	return f, nil
}

// testHash replaces the key hash in tests, to make keys collide.
var testHash func(string) uint64

func (ix *Index) hash(key string) uint64 {
	if testHash != nil {
		return testHash(key)
	}
	return maphash.String(ix.seed, key)
}

// read is the first pass: rows to ix.rec, their entries unsorted to entries, counted by
// hash range in fine.
func (ix *Index) read(ctx context.Context, spec *mapping.JoinSpec, r source.Reader, entries *os.File, fine *[1 << fineBits]int) (int, error) {
	rw := bufio.NewWriterSize(ix.rec, 1<<16)
	ew := bufio.NewWriterSize(entries, 1<<16)
	var off uint64
	var buf []byte
	var ent [entryBytes]byte
	n := 0
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read join file: %w", err)
		}
		ix.Stats.Rows++
		if rec.Err != nil {
			ix.Stats.Unreadable++
			continue
		}
		var mrec mapping.Record
		if ix.header != nil {
			mrec = mapping.CSVRecord(ix.header, rec.Cells)
		} else if mrec, err = mapping.JSONRecord(rec.Raw); err != nil {
			ix.Stats.Unreadable++
			continue
		}
		key, ok, err := spec.OtherKey(mrec)
		if err != nil {
			ix.Stats.Unreadable++
			continue
		}
		if !ok {
			ix.Stats.Filtered++
			continue
		}
		buf = binary.AppendUvarint(buf[:0], uint64(len(key)))
		buf = append(buf, key...)
		buf = ix.encodeRow(buf, rec)
		if len(buf) > MaxRow {
			return 0, fmt.Errorf("join file line %d: a row of %d bytes is longer than the %d a join row may have", rec.Line, len(buf), MaxRow)
		}
		if off >= 1<<(64-lenBits) {
			return 0, errors.New("join file: over 1 TiB of rows")
		}
		h := ix.hash(key)
		fine[h>>(64-fineBits)]++
		binary.LittleEndian.PutUint64(ent[:], h)
		binary.LittleEndian.PutUint64(ent[8:], off<<lenBits|uint64(len(buf)))
		ew.Write(ent[:]) // bufio keeps the first error for Flush
		rw.Write(buf)
		off += uint64(len(buf))
		n++
	}
	if err := errors.Join(rw.Flush(), ew.Flush()); err != nil {
		return 0, fmt.Errorf("join index: %w", err)
	}
	return n, nil
}

// encodeRow appends what a lookup needs to rebuild the row: a CSV row's cells (count, then
// each length-prefixed), a JSON record's bytes.
func (ix *Index) encodeRow(buf []byte, rec source.Record) []byte {
	if ix.header == nil {
		return append(buf, rec.Raw...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(rec.Cells)))
	for _, c := range rec.Cells {
		buf = binary.AppendUvarint(buf, uint64(len(c)))
		buf = append(buf, c...)
	}
	return buf
}

type entry struct{ h, ref uint64 }

func (e entry) off() int64 { return int64(e.ref >> lenBits) }
func (e entry) size() int  { return int(e.ref & (1<<lenBits - 1)) }

// sort is the second pass: the entries scattered by hash range into ix.idx (a buffer of
// each range's in memory), then each range read back, sorted, its repeated keys dropped, and
// written compacted in place: at most bucketMax entries in memory at once.
func (ix *Index) sort(entries *os.File, n int, fine *[1 << fineBits]int) error {
	bbits := 0 // buckets: 2^bbits hash ranges, of about bucketMax/2 entries each
	for bbits < fineBits && n>>bbits > bucketMax/2 {
		bbits++
	}
	nb := 1 << bbits
	starts := make([]int64, nb+1) // in entries
	for f, c := range fine {
		starts[(f>>(fineBits-bbits))+1] += int64(c)
	}
	for b := range nb {
		starts[b+1] += starts[b]
	}
	if err := ix.scatter(entries, n, bbits, starts); err != nil {
		return err
	}
	var ents []entry
	var raw []byte
	out := int64(0) // entries written
	for b := range nb {
		cnt := int(starts[b+1] - starts[b])
		raw = slices.Grow(raw[:0], cnt*entryBytes)[:cnt*entryBytes]
		if _, err := ix.idx.ReadAt(raw, starts[b]*entryBytes); err != nil {
			return fmt.Errorf("join index: %w", err)
		}
		ents = ents[:0]
		for i := 0; i < len(raw); i += entryBytes {
			ents = append(ents, entry{binary.LittleEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(raw[i+8:])})
		}
		// By hash, then by offset: the first row of a key in file order comes first.
		slices.SortFunc(ents, func(a, b entry) int {
			if a.h != b.h {
				return cmpU64(a.h, b.h)
			}
			return cmpU64(a.ref, b.ref)
		})
		kept, err := ix.dropRepeats(ents)
		if err != nil {
			return err
		}
		raw = raw[:0]
		for _, e := range kept {
			if out%blockEntries == 0 {
				ix.fences = append(ix.fences, e.h)
			}
			raw = binary.LittleEndian.AppendUint64(raw, e.h)
			raw = binary.LittleEndian.AppendUint64(raw, e.ref)
			out++
		}
		// Compacted in place: out never passes this range's end, and later ranges are intact.
		if _, err := ix.idx.WriteAt(raw, (out-int64(len(kept)))*entryBytes); err != nil {
			return fmt.Errorf("join index: %w", err)
		}
	}
	ix.n = int(out)
	ix.fences = slices.Clip(ix.fences)
	ix.Stats.Indexed = ix.n
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scatter copies the entries into ix.idx, each in its hash range's region.
func (ix *Index) scatter(entries *os.File, n, bbits int, starts []int64) error {
	const bufEntries = 128
	nb := len(starts) - 1
	bufs := make([][]byte, nb)
	pos := slices.Clone(starts[:nb])
	flush := func(b int) error {
		if _, err := ix.idx.WriteAt(bufs[b], pos[b]*entryBytes); err != nil {
			return fmt.Errorf("join index: %w", err)
		}
		pos[b] += int64(len(bufs[b]) / entryBytes)
		bufs[b] = bufs[b][:0]
		return nil
	}
	er := bufio.NewReaderSize(io.NewSectionReader(entries, 0, int64(n)*entryBytes), 1<<16)
	var ent [entryBytes]byte
	for range n {
		if _, err := io.ReadFull(er, ent[:]); err != nil {
			return fmt.Errorf("join index: %w", err)
		}
		b := 0
		if bbits > 0 {
			b = int(binary.LittleEndian.Uint64(ent[:]) >> (64 - bbits))
		}
		if bufs[b] == nil {
			bufs[b] = make([]byte, 0, bufEntries*entryBytes)
		}
		if bufs[b] = append(bufs[b], ent[:]...); len(bufs[b]) == cap(bufs[b]) {
			if err := flush(b); err != nil {
				return err
			}
		}
	}
	for b := range bufs {
		if len(bufs[b]) > 0 {
			if err := flush(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropRepeats keeps the first entry of each key among sorted entries: equal hashes are the
// same key repeated (counted Duplicate) or, rarely, two keys that collide (both kept).
func (ix *Index) dropRepeats(ents []entry) ([]entry, error) {
	kept := ents[:0]
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && ents[j].h == ents[i].h {
			j++
		}
		if j == i+1 {
			kept = append(kept, ents[i])
			i = j
			continue
		}
		var keys []string // the run's distinct keys, in file order
		for _, e := range ents[i:j] {
			row, err := ix.readRow(e)
			if err != nil {
				return nil, err
			}
			k, _, err := splitKey(row)
			if err != nil {
				return nil, err
			}
			if slices.Contains(keys, string(k)) {
				ix.Stats.Duplicate++
				continue
			}
			keys = append(keys, string(k))
			kept = append(kept, e)
		}
		i = j
	}
	return kept, nil
}

func (ix *Index) readRow(e entry) ([]byte, error) {
	row := make([]byte, e.size())
	if _, err := ix.rec.ReadAt(row, e.off()); err != nil {
		return nil, fmt.Errorf("join index: %w", err)
	}
	return row, nil
}

var errCorrupt = errors.New("join index: a row does not decode")

func splitKey(row []byte) (key, rest []byte, err error) {
	kl, w := binary.Uvarint(row)
	if w <= 0 || uint64(len(row)-w) < kl {
		return nil, nil, errCorrupt
	}
	return row[w : w+int(kl)], row[w+int(kl):], nil
}

// Lookup finds the row joined under key. found is false when no row has that key.
func (ix *Index) Lookup(key string) (rec mapping.Record, found bool, err error) {
	if ix.n == 0 {
		return nil, false, nil
	}
	h := ix.hash(key)
	// The first block that starts at or after h; h's first entry is in the block before it
	// or at its start.
	b := max(sort.Search(len(ix.fences), func(i int) bool { return ix.fences[i] >= h })-1, 0)
	bp := ix.blocks.Get().(*[]byte)
	defer ix.blocks.Put(bp)
	for ; b < len(ix.fences); b++ {
		first := b * blockEntries
		cnt := min(blockEntries, ix.n-first)
		blk := (*bp)[:cnt*entryBytes]
		if _, err := ix.idx.ReadAt(blk, int64(first)*entryBytes); err != nil {
			return nil, false, fmt.Errorf("join index: %w", err)
		}
		i := sort.Search(cnt, func(i int) bool { return binary.LittleEndian.Uint64(blk[i*entryBytes:]) >= h })
		for ; i < cnt; i++ {
			e := entry{binary.LittleEndian.Uint64(blk[i*entryBytes:]), binary.LittleEndian.Uint64(blk[i*entryBytes+8:])}
			if e.h != h {
				return nil, false, nil
			}
			row, err := ix.readRow(e)
			if err != nil {
				return nil, false, err
			}
			k, rest, err := splitKey(row)
			if err != nil {
				return nil, false, err
			}
			if string(k) != key {
				continue // another key with the same hash
			}
			rec, err := ix.decodeRow(rest)
			if err != nil {
				return nil, false, err
			}
			pos := first + i
			ix.used[pos/64].Or(1 << (pos % 64))
			return rec, true, nil
		}
		// Every entry of this block is below h, or h's run goes on into the next block.
	}
	return nil, false, nil
}

func (ix *Index) decodeRow(rest []byte) (mapping.Record, error) {
	if ix.header == nil {
		rec, err := mapping.JSONRecord(rest)
		if err != nil {
			return nil, fmt.Errorf("join index: %w", err)
		}
		return rec, nil
	}
	nc, w := binary.Uvarint(rest)
	if w <= 0 || nc > uint64(len(rest)) {
		return nil, errCorrupt
	}
	rest = rest[w:]
	cells := make([]string, nc)
	for i := range cells {
		l, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < l {
			return nil, errCorrupt
		}
		cells[i] = string(rest[w : w+int(l)])
		rest = rest[w+int(l):]
	}
	if len(rest) != 0 {
		return nil, errCorrupt
	}
	return mapping.CSVRecord(ix.header, cells), nil
}

// Len is how many rows the index holds, one per key.
func (ix *Index) Len() int { return ix.n }

// Unused is how many of the rows no Lookup has found.
func (ix *Index) Unused() int {
	used := 0
	for i := range ix.used {
		used += bits.OnesCount64(ix.used[i].Load())
	}
	return ix.n - used
}

// MemBytes is what the index keeps in memory (fences and the matched bits), for the tests'
// bound.
func (ix *Index) MemBytes() int { return len(ix.fences)*8 + len(ix.used)*8 }

// Close frees both files (they were unlinked: closing them frees their space).
func (ix *Index) Close() error {
	var errs []error
	for _, f := range []*os.File{ix.rec, ix.idx} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	ix.rec, ix.idx = nil, nil
	for len(ix.named) > 0 {
		errs = append(errs, os.Remove(ix.named[0]))
		ix.named = ix.named[1:]
	}
	return errors.Join(errs...)
}

// removeNamed removes a file of ix.named now (it is closed).
func (ix *Index) removeNamed(name string) {
	if i := slices.Index(ix.named, name); i >= 0 {
		os.Remove(name)
		ix.named = slices.Delete(ix.named, i, i+1)
	}
}
