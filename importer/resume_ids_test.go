package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/userimport/userimport/runfolder"
)

// withSpill sets resumeSpill for one test.
func withSpill(t *testing.T, n int) {
	t.Helper()
	old := resumeSpill
	resumeSpill = n
	t.Cleanup(func() { resumeSpill = old })
}

// A collector's frozen set holds exactly the distinct hashes added less those dropped, in
// memory below resumeSpill and in an unlinked file past it; the folder is left empty.
func TestHashCollectorFreezes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spill  int
		onDisk bool
	}{{"memory", 1 << 15, false}, {"file", 7, true}, {"file, back to memory", 1500, false}} {
		t.Run(tc.name, func(t *testing.T) {
			withSpill(t, tc.spill)
			dir := t.TempDir()
			s := newIDSet()
			c := newHashCollector(dir)
			want := map[string]bool{}
			for i := range 3000 {
				id := fmt.Sprint("ext-", i%1700) // ids 0..1299 come twice, in another run
				c.add(s.hash(id))
				want[id] = i%1700%5 != 0
			}
			drop := func(h uint64) bool {
				for i := 0; i < 1700; i += 5 {
					if s.hash(fmt.Sprint("ext-", i)) == h {
						return true
					}
				}
				return false
			}
			must(t, c.finish(s, drop))
			defer s.close()
			if (s.disk != nil) != tc.onDisk {
				t.Errorf("on disk %v, want %v", s.disk != nil, tc.onDisk)
			}
			kept := 0
			for id, in := range want {
				if s.has(id) != in {
					t.Errorf("has(%q) = %v, want %v", id, !in, in)
				}
				if in {
					kept++
				}
			}
			for i := 1700; i < 2200; i++ {
				if id := fmt.Sprint("ext-", i); s.has(id) {
					t.Errorf("has(%q) for an id never added", id)
				}
			}
			if s.len() != kept {
				t.Errorf("len %d, want %d", s.len(), kept)
			}
			if err := s.err(); err != nil {
				t.Error(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("the folder holds %v: the set's files must be unlinked", left)
			}
		})
	}
}

// resumeJournal writes a journal of n rows over three sessions: the first finishes rows
// 1..n/2 (every 7th failed, every 11th left pending), is undone in part, the second (another
// input, same target) creates ids of its own and adopts some of the first's, the third (the same
// run as the first, keyed or not) goes on.
func resumeJournal(t *testing.T, dir string, n int) runfolder.Header {
	t.Helper()
	h := runfolder.Header{Event: "run", InputSHA256: "in", MappingSHA256: "m", APIURL: "http://127.0.0.1:9/v1", KeyFingerprint: "k"}
	other := h
	other.InputSHA256 = "other"
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	must(t, err)
	ev := func(row int, ext string, st runfolder.Status, user string) {
		must(t, j.Write(runfolder.Event{Row: row, Line: row + 1, ExternalID: ext, Status: st, UserID: user}))
	}
	must(t, j.WriteHeader(h))
	for row := 1; row <= n/2; row++ {
		ext := fmt.Sprint("e", row)
		ev(row, ext, runfolder.StatusPending, "")
		switch {
		case row%11 == 0:
		case row%7 == 0:
			ev(row, ext, runfolder.StatusFailed, "")
		default:
			ev(row, ext, runfolder.StatusCreated, fmt.Sprint("u", row))
		}
	}
	must(t, j.Write(runfolder.Event{Event: runfolder.EventEnd, RunStatus: runfolder.RunInterrupted}))
	must(t, j.WriteHeader(other))
	for row := 1; row <= n/4; row++ {
		ev(row, fmt.Sprint("o", row), runfolder.StatusCreated, fmt.Sprint("uo", row))
		if row%3 == 0 {
			must(t, j.Write(runfolder.Event{Row: row, ExternalID: fmt.Sprint("e", row), Status: runfolder.StatusExists, Settled: "journal"}))
		}
	}
	must(t, j.WriteHeader(h))
	for row := n / 2; row <= n*3/4; row++ {
		ev(row, fmt.Sprint("e", row), runfolder.StatusCreated, fmt.Sprint("u", row))
	}
	must(t, j.Close())
	u, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.UndoFile))
	must(t, err)
	for row := 2; row <= n/2; row += 13 {
		must(t, u.Write(runfolder.Event{Row: row, ExternalID: fmt.Sprint("e", row), UserID: fmt.Sprint("u", row), Status: runfolder.StatusDeleted}))
	}
	must(t, u.Close())
	return h
}

// A resume read with its sets sorted through files tells the session exactly what one read in
// memory does: rows done and undone, pending rows, and every id's membership.
func TestResumeFromFilesMatchesMemory(t *testing.T) {
	const n = 2000
	dir := t.TempDir()
	h := resumeJournal(t, dir, n)
	path := filepath.Join(dir, runfolder.ResultsFile)
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprint("keyed ", keyed), func(t *testing.T) {
			mem, err := loadResumeKeyed(path, h, keyed)
			must(t, err)
			defer mem.close()
			withSpill(t, 16)
			disk, err := loadResumeKeyed(path, h, keyed)
			must(t, err)
			defer disk.close()
			if disk.doneIDs.disk == nil || keyed && disk.sameKeys.disk == nil {
				t.Fatal("the sets were not read through files: the test proves nothing")
			}
			if mem.doneN != disk.doneN || mem.undoneN != disk.undoneN || len(mem.pending) != len(disk.pending) {
				t.Errorf("memory: done %d undone %d pending %d; files: %d %d %d",
					mem.doneN, mem.undoneN, len(mem.pending), disk.doneN, disk.undoneN, len(disk.pending))
			}
			if mem.doneN == 0 || mem.undoneN == 0 && !keyed || mem.doneIDs.len() == 0 { // keyed runs have no rows to undo
				t.Fatalf("done %d, undone %d, ids %d: the journal should exercise all three", mem.doneN, mem.undoneN, mem.doneIDs.len())
			}
			if mem.doneIDs.len() != disk.doneIDs.len() || mem.sameKeys.len() != disk.sameKeys.len() {
				t.Errorf("ids %d / %d, same-run keys %d / %d", mem.doneIDs.len(), disk.doneIDs.len(), mem.sameKeys.len(), disk.sameKeys.len())
			}
			for row := range n + 2 {
				for _, id := range []string{fmt.Sprint("e", row), fmt.Sprint("o", row)} {
					if mem.doneIDs.has(id) != disk.doneIDs.has(id) || mem.doneBefore(id) != disk.doneBefore(id) ||
						mem.wasPending(row, id) != disk.wasPending(row, id) {
						t.Fatalf("%s (row %d): memory done %v before %v pending %v; files %v %v %v", id, row,
							mem.doneIDs.has(id), mem.doneBefore(id), mem.wasPending(row, id),
							disk.doneIDs.has(id), disk.doneBefore(id), disk.wasPending(row, id))
					}
				}
				if mem.done.has(row) != disk.done.has(row) || mem.undone.has(row) != disk.undone.has(row) {
					t.Fatalf("row %d: memory done %v undone %v; files %v %v", row, mem.done.has(row), mem.undone.has(row), disk.done.has(row), disk.undone.has(row))
				}
			}
			if err := disk.err(); err != nil {
				t.Error(err)
			}
		})
	}
}

// What a resume keeps for the whole session is flat in the rows finished: a few bits a row,
// not a hash of each (the binary's GC target is five times the live heap, so 8 bytes a row
// kept would be 40 of RSS).
func TestResumeStateHeapIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100,000-row journal")
	}
	const n = 100_000
	dir := t.TempDir()
	h := runfolder.Header{Event: "run", InputSHA256: "in", MappingSHA256: "m", APIURL: "http://127.0.0.1:9/v1", KeyFingerprint: "k"}
	j, err := runfolder.OpenWriter(filepath.Join(dir, runfolder.ResultsFile))
	must(t, err)
	must(t, j.WriteHeader(h))
	for row := 1; row <= n; row++ {
		ext := fmt.Sprintf("bench-%08d", row)
		must(t, j.Write(runfolder.Event{Row: row, Line: row + 1, ExternalID: ext, Status: runfolder.StatusPending}))
		must(t, j.Write(runfolder.Event{Row: row, Line: row + 1, ExternalID: ext, Status: runfolder.StatusCreated, UserID: fmt.Sprint("user_", row)}))
	}
	must(t, j.Close())

	before := liveHeap()
	st, err := loadResume(filepath.Join(dir, runfolder.ResultsFile), h)
	must(t, err)
	defer st.close()
	kept := liveHeap() - before
	runtime.KeepAlive(st)
	if st.doneN != n || !st.doneIDs.has("bench-00000001") || st.doneIDs.has("bench-00000000") {
		t.Fatalf("done %d of %d", st.doneN, n)
	}
	t.Logf("the resume state of %d finished rows keeps %d bytes", n, kept)
	if perRow := float64(kept) / n; perRow > 1 {
		t.Errorf("the resume state keeps %d bytes = %.2f a finished row, want <= 1 (a hash a row would be 8)", kept, perRow)
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
