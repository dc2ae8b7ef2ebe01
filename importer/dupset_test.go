package importer

import (
	"fmt"
	"sync"
	"testing"

	"github.com/userimport/userimport/mapping"
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
	d := newDupSet()
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
		first, field := d.check(s.p, s.line)
		if first != s.wantFirst || field != s.wantField {
			t.Errorf("line %d: got (%d, %q), want (%d, %q)", s.line, first, field, s.wantFirst, s.wantField)
		}
	}
}

// TestDupSetGrows fills the table through many resizes: every identifier keeps its first line,
// new ones are not mistaken for old, and the table stays within 32 bytes a row.
func TestDupSetGrows(t *testing.T) {
	d := newDupSet()
	const rows = 50_000
	for i := range rows {
		if first, _ := d.check(params(fmt.Sprint("ext-", i), fmt.Sprintf("u%d@x.io", i)), i+2); first != 0 {
			t.Fatalf("row %d: new identifiers reported as a duplicate of line %d", i, first)
		}
	}
	for _, i := range []int{0, 1, 777, rows / 2, rows - 1} {
		first, field := d.check(params("", fmt.Sprintf("U%d@x.io", i)), rows+10)
		if first != i+2 || field != "email_address" {
			t.Fatalf("email of row %d: got (%d, %q), want (%d, email_address)", i, first, field, i+2)
		}
		if first, _ := d.check(params(fmt.Sprint("ext-", i), ""), rows+10); first != i+2 {
			t.Fatalf("external_id of row %d: got line %d, want %d", i, first, i+2)
		}
	}
	if b := d.bytes(); b > 32*rows {
		t.Fatalf("table holds %d bytes for %d rows: %.1f a row, want <= 32", b, rows, float64(b)/rows)
	}
}

// TestDupSetConcurrent checks rows from several goroutines: each identifier is recorded once,
// and every later sighting names a line that really held it.
func TestDupSetConcurrent(t *testing.T) {
	d := newDupSet()
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
				first, _ := d.check(params(fmt.Sprint("ext-", i), ""), line) // every worker sends the same ids
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
	if firsts != rows {
		t.Fatalf("%d identifiers recorded as new, want %d", firsts, rows)
	}
}
