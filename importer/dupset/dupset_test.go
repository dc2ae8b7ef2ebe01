package dupset

import (
	"errors"
	"fmt"
	"github.com/userimport/userimport/mapping"
	"os"
	"sync"
	"testing"
)

func params(extID, email string) *mapping.CreateUserParams {
	p := &mapping.CreateUserParams{}
	if extID != "" {
		p.ExternalID = &extID
	}
	if email != "" {
		p.EmailAddresses = []string{email}
	}
	return p
}

func TestDupSetCheck(t *testing.T) {
	d := New("")
	steps := []struct {
		p         *mapping.CreateUserParams
		line      int
		wantFirst int
		wantField string
	}{
		{params("a", "a@x.io"), 2, 0, ""},
		{params("b", "A@X.io "), 3, 2, "email_address"}, // emails compare case-insensitively
		{params("b", "b@x.io"), 4, 0, ""},               // line 3 was a duplicate: it recorded nothing
		{params("a", "c@x.io"), 5, 2, "external_id"},
		{params("", "c@x.io"), 6, 0, ""},
		{params("c@x.io", ""), 7, 0, ""}, // the same value under another field is no duplicate
		{params("", "c@x.io"), 8, 6, "email_address"},
	}
	for _, s := range steps {
		first, field, _ := d.Check(s.p, s.line)
		if first != s.wantFirst || field != s.wantField {
			t.Errorf("line %d: got (%d, %q), want (%d, %q)", s.line, first, field, s.wantFirst, s.wantField)
		}
	}
}

// TestDupSetGrows fills the table through many resizes: every identifier keeps its first line,
// new ones are not mistaken for old, and the table stays within 32 bytes a row.
func TestDupSetGrows(t *testing.T) {
	fillDupSet(t, New(""), 50_000)
}

// TestDupSetReserved: a table reserved for the rows it gets never grows on the way and gives
// the same answers; rows of one identifier stay within the 32 bytes a row; a set that holds
// identifiers already is not resized.
func TestDupSetReserved(t *testing.T) {
	const rows = 50_000
	d := New("")
	if err := d.Reserve(rows); err != nil {
		t.Fatal(err)
	}
	reserved := d.Bytes()
	fillDupSet(t, d, rows)
	if d.Bytes() != reserved {
		t.Errorf("the reserved table grew from %d to %d bytes", reserved, d.Bytes())
	}

	one := New("")
	if err := one.Reserve(rows); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if first, _, err := one.Check(params(fmt.Sprint("ext-", i), ""), i+2); first != 0 || err != nil {
			t.Fatalf("row %d: (%d, %v)", i, first, err)
		}
	}
	if b := one.Bytes(); b > 32*rows {
		t.Errorf("rows of one identifier: %.1f bytes a row, want <= 32", float64(b)/rows)
	}
	if err := one.Reserve(10 * rows); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := one.Check(params("ext-7", ""), 1); first != 9 || one.Bytes() > 32*rows {
		t.Errorf("a Reserve after checks: ext-7 first at line %d (want 9), %d bytes", first, one.Bytes())
	}
}

// TestDupSetInFile moves an import's table to a file early and grows it there ~17 times: the
// same answers as in memory, and nothing left in the run folder, then or after close.
func TestDupSetInFile(t *testing.T) {
	dir := t.TempDir()
	d := NewFileMin(dir, 64<<10)
	fillDupSet(t, d, 50_000)
	ft, ok := d.t.(*fileTable)
	if !ok {
		t.Fatalf("a table of %d bytes is a %T, want a file table", d.Bytes(), d.t)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Fatalf("run folder holds %v: the table's file must be unlinked", entries)
	}
	f := ft.f
	d.Close()
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("table file after close: %v, want it closed", err)
	}
}

// TestDupSetFileError: an I/O error of the table's file fails that check and every later one.
func TestDupSetFileError(t *testing.T) {
	d := NewFileMin(t.TempDir(), 1)
	fillDupSet(t, d, 20_000)
	d.t.(*fileTable).f.Close()
	for _, p := range []*mapping.CreateUserParams{params("new", ""), params("ext-1", "")} {
		if first, _, err := d.Check(p, 5000); !errors.Is(err, os.ErrClosed) || first != 0 {
			t.Fatalf("check after the file failed: (%d, %v), want (0, %v)", first, err, os.ErrClosed)
		}
	}
	d.Close()
}

// fillDupSet checks rows of external_id + email: none is a duplicate, then each identifier
// names its own line, and the table stays within 32 bytes a row.
func fillDupSet(t *testing.T, d *Set, rows int) {
	t.Helper()
	for i := range rows {
		if first, _, err := d.Check(params(fmt.Sprint("ext-", i), fmt.Sprintf("u%d@x.io", i)), i+2); first != 0 || err != nil {
			t.Fatalf("row %d: new identifiers reported as a duplicate of line %d (%v)", i, first, err)
		}
	}
	for i := range rows {
		first, field, err := d.Check(params("", fmt.Sprintf("U%d@x.io", i)), rows+10)
		if first != i+2 || field != "email_address" || err != nil {
			t.Fatalf("email of row %d: got (%d, %q, %v), want (%d, email_address)", i, first, field, err, i+2)
		}
		if first, _, err := d.Check(params(fmt.Sprint("ext-", i), ""), rows+10); first != i+2 || err != nil {
			t.Fatalf("external_id of row %d: got line %d (%v), want %d", i, first, err, i+2)
		}
	}
	if b := d.Bytes(); b > 32*rows {
		t.Fatalf("table holds %d bytes for %d rows: %.1f a row, want <= 32", b, rows, float64(b)/float64(rows))
	}
}

// TestDupSetConcurrent checks rows from several goroutines, with the table in memory and in a
// file: each identifier is recorded once, and every later sighting names a line that held it.
func TestDupSetConcurrent(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		d := NewFileMin(dir, 1)
		const workers, rows = 4, 5000
		var wg sync.WaitGroup
		var mu sync.Mutex
		firsts := 0
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rows {
					line := w*rows + i + 2
					first, _, err := d.Check(params(fmt.Sprint("ext-", i), ""), line) // every worker sends the same ids
					if err != nil {
						t.Error(err)
						return
					}
					if first == 0 {
						mu.Lock()
						firsts++
						mu.Unlock()
					} else if (first-2)%rows != i {
						t.Errorf("ext-%d: first line %d held another id", i, first)
					}
				}
			}()
		}
		wg.Wait()
		d.Close()
		if firsts != rows {
			t.Fatalf("dir %q: %d identifiers recorded as new, want %d", dir, firsts, rows)
		}
	}
}

// TestDupSetManyIdentifiers: rows of up to eight identifiers (several emails and phones, a
// username, a wallet; some repeated within the row), drawn from small pools so that most rows
// collide, give the answers of a map, in memory and in a file, through many resizes.
func TestDupSetManyIdentifiers(t *testing.T) {
	for _, d := range []*Set{New(""), NewFileMin(t.TempDir(), 64<<10)} {
		rng := uint64(7)
		next := func(n int) int {
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			return int(rng % uint64(n))
		}
		seen := map[mapping.Identifier]int{}
		for line := 2; line < 40_000; line++ {
			p := &mapping.CreateUserParams{}
			for range next(4) {
				p.EmailAddresses = append(p.EmailAddresses, fmt.Sprintf("u%d@x.io", next(60_000)))
			}
			for range next(3) {
				p.PhoneNumbers = append(p.PhoneNumbers, fmt.Sprintf("+1555%07d", next(60_000)))
			}
			if next(2) == 0 {
				u := fmt.Sprint("user", next(60_000))
				p.Username = &u
			}
			if next(3) == 0 {
				p.Web3Wallets = []string{fmt.Sprintf("0x%040d", next(60_000))}
			}
			ids := mapping.AppendIdentifiers(nil, p)
			wantFirst, wantField := 0, ""
			for _, id := range ids {
				if l, ok := seen[id]; ok {
					wantFirst, wantField = l, id.Field
					break
				}
			}
			if wantFirst == 0 {
				for _, id := range ids {
					seen[id] = line
				}
			}
			first, field, err := d.Check(p, line)
			if err != nil || first != wantFirst || field != wantField {
				t.Fatalf("line %d (%v): got (%d, %q, %v), want (%d, %q)", line, ids, first, field, err, wantFirst, wantField)
			}
		}
		d.Close()
	}
}
