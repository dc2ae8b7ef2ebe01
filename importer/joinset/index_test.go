package joinset

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/mapping"
)

// accountSpec joins account rows (kind = keep) to users by id = userId.
func accountSpec(t testing.TB) *mapping.JoinSpec {
	t.Helper()
	m, err := mapping.Parse([]byte(`{"joins": [{"name": "acct", "key": {"from": "id"}, "other_key": {"from": "userId"},
	  "where": {"from": "kind", "equals": "keep"}}], "fields": {"external_id": {"from": "id"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	j := m.Joins()[0]
	return &j
}

func build(t testing.TB, spec *mapping.JoinSpec, content string) *Index {
	t.Helper()
	r, err := source.Open(strings.NewReader(content), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ix, err := Build(context.Background(), spec, r, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func user(id string) mapping.Record {
	return mapping.CSVRecord([]string{"id"}, []string{id})
}

// cell reads one field of a joined row.
func cell(t testing.TB, rec mapping.Record, key string) string {
	t.Helper()
	v, ok := rec.Lookup(key)
	if !ok {
		t.Fatalf("joined row has no %s", key)
	}
	return fmt.Sprint(v)
}

// accounts writes n users' rows: a "keep" row per user carrying its number, a "drop" row
// for every third, and a second "keep" row (a duplicate key) for every fifth.
func accounts(n int) string {
	var b strings.Builder
	b.WriteString("userId,kind,secret\n")
	for i := range n {
		fmt.Fprintf(&b, "u%d,keep,s%d\n", i, i)
		if i%3 == 0 {
			fmt.Fprintf(&b, "u%d,drop,x%d\n", i, i)
		}
		if i%5 == 0 {
			fmt.Fprintf(&b, "u%d,keep,second%d\n", i, i)
		}
	}
	return b.String()
}

func TestManyKeysMissingAndDuplicates(t *testing.T) {
	const n = 5000
	spec := accountSpec(t)
	ix := build(t, spec, accounts(n))
	dups, drops := (n+4)/5, (n+2)/3
	want := BuildStats{Rows: n + dups + drops, Indexed: n, Filtered: drops, Duplicate: dups}
	if ix.Stats != want {
		t.Fatalf("stats = %+v, want %+v", ix.Stats, want)
	}
	if ix.Len() != n || ix.Unused() != n {
		t.Fatalf("len %d unused %d, want %d both", ix.Len(), ix.Unused(), n)
	}
	for i := 0; i < n; i += 2 { // every other key: the rest stay unused
		rec, found, err := ix.Lookup(fmt.Sprintf("u%d", i))
		if err != nil || !found {
			t.Fatalf("u%d: found %v, %v", i, found, err)
		}
		if got := cell(t, rec, "secret"); got != fmt.Sprintf("s%d", i) {
			t.Fatalf("u%d joined %q: the first keep row must win over drops and later repeats", i, got)
		}
	}
	for _, k := range []string{"u-1", fmt.Sprintf("u%d", n), "", "U1", "u1 "} {
		if _, found, err := ix.Lookup(k); found || err != nil {
			t.Errorf("%q matched no row, got found %v, %v", k, found, err)
		}
	}
	if got := ix.Unused(); got != n/2 {
		t.Errorf("unused = %d, want %d (the odd keys)", got, n/2)
	}
	// A key found twice counts once.
	ix.Lookup("u0")
	if got := ix.Unused(); got != n/2 {
		t.Errorf("unused after a repeat look-up = %d, want %d", got, n/2)
	}
}

// TestCollisions makes many keys share a hash: each still finds its own row, repeats of a
// key among colliding ones are still dropped, and blocks are crossed.
func TestCollisions(t *testing.T) {
	testHash = func(k string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(k))
		return h.Sum64() % 7 // 7 hashes for 3000 keys: runs far longer than a block
	}
	defer func() { testHash = nil }()
	const n = 3000
	ix := build(t, accountSpec(t), accounts(n))
	if ix.Stats.Indexed != n || ix.Stats.Duplicate != (n+4)/5 {
		t.Fatalf("stats = %+v", ix.Stats)
	}
	for i := range n {
		rec, found, err := ix.Lookup(fmt.Sprintf("u%d", i))
		if err != nil || !found {
			t.Fatalf("u%d: found %v, %v", i, found, err)
		}
		if got := cell(t, rec, "secret"); got != fmt.Sprintf("s%d", i) {
			t.Fatalf("u%d joined %q", i, got)
		}
	}
	if _, found, _ := ix.Lookup("nobody"); found {
		t.Error("a key sharing a hash with others but with no row must not match")
	}
	if ix.Unused() != 0 {
		t.Errorf("unused = %d after every key was found", ix.Unused())
	}
}

func TestEmptyAndAllFiltered(t *testing.T) {
	ix := build(t, accountSpec(t), "userId,kind,secret\nu1,drop,x\n,keep,nokey\n")
	if ix.Len() != 0 || ix.Stats.Filtered != 2 {
		t.Fatalf("len %d stats %+v", ix.Len(), ix.Stats)
	}
	if _, found, err := ix.Lookup("u1"); found || err != nil {
		t.Errorf("found %v, %v", found, err)
	}
}

// TestAuth0HashExport joins the fixtures' real-shaped hash export (NDJSON, _id.$oid, alt_id)
// to the profile records through the auth0 preset's declaration.
func TestAuth0HashExport(t *testing.T) {
	m, err := mapping.Preset("auth0", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := m.Joins()[0]
	users := fixtures.Users()
	hashes := fixtures.Auth0PasswordHashes(users)
	var buf bytes.Buffer
	if err := fixtures.Auth0PasswordHashesNDJSON(&buf, hashes); err != nil {
		t.Fatal(err)
	}
	ix := build(t, &spec, buf.String())
	if ix.Len() != len(hashes) || ix.Stats.Unreadable != 0 {
		t.Fatalf("indexed %d of %d hashes: %+v", ix.Len(), len(hashes), ix.Stats)
	}
	set := NewSet(&Join{Spec: spec, File: "hashes.json", Index: ix})
	withHash := 0
	for _, h := range hashes {
		id := "auth0|" + h.OID
		if h.AltID != "" {
			id = "auth0|" + h.AltID
		}
		rec, err := mapping.JSONRecord([]byte(fmt.Sprintf(`{"user_id": %q, "email": %q, "email_verified": true}`, id, h.Email)))
		if err != nil {
			t.Fatal(err)
		}
		if rec, err = set.Wrap(rec); err != nil {
			t.Fatal(err)
		}
		p, err := m.Apply(rec)
		if err != nil {
			t.Fatal(err)
		}
		if p.PasswordDigest == nil || *p.PasswordDigest != h.PasswordHash || *p.PasswordHasher != "bcrypt" {
			t.Errorf("%s: digest %v, want the export's %s", id, p.PasswordDigest, h.PasswordHash)
		}
		withHash++
	}
	lone, _ := mapping.JSONRecord([]byte(`{"user_id": "google-oauth2|1", "email": "g@example.com", "email_verified": true}`))
	if rec, _ := set.Wrap(lone); rec != lone {
		t.Error("a record with no hash must come back as it was")
	}
	c := set.Counts(true)[0]
	if c.Matched != withHash || c.NoMatch != 1 || *c.Unused != 0 || c.Rows != len(hashes) {
		t.Errorf("counts = %+v", c)
	}
	if set.Counts(false)[0].Unused != nil {
		t.Error("unused must be left out when the session did not map the whole input")
	}
}

// TestConcurrentLookups shares one index between goroutines, for the race detector.
func TestConcurrentLookups(t *testing.T) {
	const n = 2000
	ix := build(t, accountSpec(t), accounts(n))
	set := NewSet(&Join{Spec: *accountSpec(t), Index: ix})
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				rec, err := set.Wrap(user(fmt.Sprintf("u%d", i)))
				if err != nil {
					bad.Add(1)
					return
				}
				j, ok := rec.(mapping.Joiner)
				if !ok {
					bad.Add(1)
					continue
				}
				row, ok := j.Join("acct")
				if v, _ := row.Lookup("secret"); !ok || v != fmt.Sprintf("s%d", i) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d look-ups went wrong", bad.Load())
	}
	if c := set.Counts(true)[0]; c.Matched != n || *c.Unused != 0 {
		t.Errorf("counts = %+v", c)
	}
}

// TestLargeJoinHeapBounded indexes 200,000 rows of ~200 bytes (40 MB) and looks every one
// up: the heap must stay far below what holding the rows, or even their keys in a map,
// would take.
func TestLargeJoinHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB file")
	}
	const n = 200_000
	dir := t.TempDir()
	path := filepath.Join(dir, "account.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := strings.Repeat("p", 160)
	w.WriteString("userId,kind,secret,pad\n")
	for i := range n {
		fmt.Fprintf(w, "user-%08d,keep,s%d,%s\n", i, i, pad)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // samples the heap while the index is built and used
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := source.Open(in, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Build(context.Background(), accountSpec(t), r, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for i := range n {
		rec, found, err := ix.Lookup(fmt.Sprintf("user-%08d", i))
		if err != nil || !found {
			t.Fatalf("row %d: found %v, %v", i, found, err)
		}
		if i%9973 == 0 && cell(t, rec, "secret") != fmt.Sprintf("s%d", i) {
			t.Fatalf("row %d joined the wrong row", i)
		}
	}
	close(stop)
	<-done
	if ix.Unused() != 0 || ix.Len() != n {
		t.Fatalf("len %d unused %d", ix.Len(), ix.Unused())
	}
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("heap grew at most %.1f MB; the index keeps %d bytes in memory", float64(grew)/(1<<20), ix.MemBytes())
	// The rows are 40 MB; a map of their keys alone would be ~15 MB.
	if grew > 8<<20 {
		t.Errorf("heap grew %.1f MB while indexing and looking up %d rows: want flat memory (< 8 MB)", float64(grew)/(1<<20), n)
	}
	if ix.MemBytes() > n/4 {
		t.Errorf("the index keeps %d bytes in memory for %d rows: want under two bits a row", ix.MemBytes(), n)
	}
}

// TestLeavesNoFiles: the index's files are unlinked at once, so the run folder holds none of
// them, during the run or after it (a crash leaves nothing either).
func TestLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	r, err := source.Open(strings.NewReader(accounts(100)), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Build(context.Background(), accountSpec(t), r, dir)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if _, found, _ := ix.Lookup("u7"); !found || len(left) != 0 {
		t.Errorf("found %v; files in the folder while open: %v", found, left)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left after Close: %v", left)
	}
}
