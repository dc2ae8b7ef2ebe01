package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
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
	d := newDupSet("")
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
		first, field, _ := d.check(s.p, s.line)
		if first != s.wantFirst || field != s.wantField {
			t.Errorf("line %d: got (%d, %q), want (%d, %q)", s.line, first, field, s.wantFirst, s.wantField)
		}
	}
}

// TestDupSetGrows fills the table through many resizes: every identifier keeps its first line,
// new ones are not mistaken for old, and the table stays within 32 bytes a row.
func TestDupSetGrows(t *testing.T) {
	fillDupSet(t, newDupSet(""), 50_000)
}

// TestDupSetInFile moves an import's table to a file early and grows it there ~17 times: the
// same answers as in memory, and nothing left in the run folder, then or after close.
func TestDupSetInFile(t *testing.T) {
	defer setDupFileMin(64 << 10)()
	dir := t.TempDir()
	d := newDupSet(dir)
	fillDupSet(t, d, 50_000)
	ft, ok := d.t.(*fileTable)
	if !ok {
		t.Fatalf("a table of %d bytes is a %T, want a file table", d.bytes(), d.t)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Fatalf("run folder holds %v: the table's file must be unlinked", entries)
	}
	f := ft.f
	d.close()
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("table file after close: %v, want it closed", err)
	}
}

// TestDupSetFileError: an I/O error of the table's file fails that check and every later one.
func TestDupSetFileError(t *testing.T) {
	defer setDupFileMin(1)()
	d := newDupSet(t.TempDir())
	fillDupSet(t, d, 20_000)
	d.t.(*fileTable).f.Close()
	for _, p := range []*mapping.CreateUserParams{params("new", ""), params("ext-1", "")} {
		if first, _, err := d.check(p, 5000); !errors.Is(err, os.ErrClosed) || first != 0 {
			t.Fatalf("check after the file failed: (%d, %v), want (0, %v)", first, err, os.ErrClosed)
		}
	}
	d.close()
}

func setDupFileMin(n int) (restore func()) {
	old := dupFileMin
	dupFileMin = n
	return func() { dupFileMin = old }
}

// fillDupSet checks rows of external_id + email: none is a duplicate, then each identifier
// names its own line, and the table stays within 32 bytes a row.
func fillDupSet(t *testing.T, d *dupSet, rows int) {
	t.Helper()
	for i := range rows {
		if first, _, err := d.check(params(fmt.Sprint("ext-", i), fmt.Sprintf("u%d@x.io", i)), i+2); first != 0 || err != nil {
			t.Fatalf("row %d: new identifiers reported as a duplicate of line %d (%v)", i, first, err)
		}
	}
	for i := range rows {
		first, field, err := d.check(params("", fmt.Sprintf("U%d@x.io", i)), rows+10)
		if first != i+2 || field != "email_address" || err != nil {
			t.Fatalf("email of row %d: got (%d, %q, %v), want (%d, email_address)", i, first, field, err, i+2)
		}
		if first, _, err := d.check(params(fmt.Sprint("ext-", i), ""), rows+10); first != i+2 || err != nil {
			t.Fatalf("external_id of row %d: got line %d (%v), want %d", i, first, err, i+2)
		}
	}
	if b := d.bytes(); b > 32*rows {
		t.Fatalf("table holds %d bytes for %d rows: %.1f a row, want <= 32", b, rows, float64(b)/float64(rows))
	}
}

// TestDupSetConcurrent checks rows from several goroutines, with the table in memory and in a
// file: each identifier is recorded once, and every later sighting names a line that held it.
func TestDupSetConcurrent(t *testing.T) {
	defer setDupFileMin(1)()
	for _, dir := range []string{"", t.TempDir()} {
		d := newDupSet(dir)
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
					first, _, err := d.check(params(fmt.Sprint("ext-", i), ""), line) // every worker sends the same ids
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
		d.close()
		if firsts != rows {
			t.Fatalf("dir %q: %d identifiers recorded as new, want %d", dir, firsts, rows)
		}
	}
}

// TestRunDupTableInFile: an import whose duplicate table went to a file still finds its
// duplicates, and leaves neither the file nor an open descriptor of it behind.
func TestRunDupTableInFile(t *testing.T) {
	defer setDupFileMin(1)()
	const rows = 3000
	var in strings.Builder
	in.WriteString("external_id,email_address\n")
	for i := range rows {
		fmt.Fprintf(&in, "u%d,u%d@example.com\n", i, i)
	}
	in.WriteString("u7,new@example.com\n") // the external_id of line 9
	dir := t.TempDir()
	sum := runOnce(t, dir, in.String(), newFake(), nil)
	if sum.Counts[runfolder.StatusCreated] != rows || sum.Counts[runfolder.StatusDuplicate] != 1 || sum.Problems[0].DupOfLine != 9 {
		t.Fatalf("counts %v, problems %v: want %d created and one duplicate of line 9", sum.Counts, sum.Problems, rows)
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".duplicates") {
			t.Errorf("run folder still holds %s", e.Name())
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to look for a descriptor left open:", err)
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.Contains(target, ".duplicates-") {
			t.Errorf("descriptor %s still open on %s", fd.Name(), target)
		}
	}
}

// TestDupTableErrorIsFatal: when the table's file fails, the row is left for the next session
// and the run stops with the error, rather than sending rows it cannot check.
func TestDupTableErrorIsFatal(t *testing.T) {
	defer setDupFileMin(1)()
	r := newRunner(Config{OutDir: t.TempDir(), Mapping: mapping.Native()}, time.Now())
	fillDupSet(t, r.dups, 20_000)
	r.dups.t.(*fileTable).f.Close()
	if _, ok := r.accept(&mapped{rec: source.Record{Num: 1, Line: 2}, params: params("new", "")}); ok {
		t.Fatal("a row the failed table could not check was accepted")
	}
	if !errors.Is(r.fatalErr, os.ErrClosed) || r.snapshotCounts()[statusLeft] != 1 {
		t.Fatalf("fatal error %v, counts %v: want the table's error and the row left", r.fatalErr, r.snapshotCounts())
	}
	r.dups.close()
}
