package report

import (
	"path/filepath"
	"testing"
)

// BenchmarkBuild100k times Build on a generated 100,000-row journal (about 26 MB).
func BenchmarkBuild100k(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	if err := GenerateJournal(dir, 100_000); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLine times the two row lines every imported row leaves in the journal.

func BenchmarkParseLine(b *testing.B) {
	lines := [][]byte{
		[]byte(`{"row":8,"line":9,"external_id":"bench-00000007","status":"pending","at":"2026-11-27T08:26:41.14685724Z"}`),
		[]byte(`{"row":8,"line":9,"external_id":"bench-00000007","status":"created","user_id":"user_btYvZR6ouWjqaWha7roNuBCdlqB","attempts":1,"at":"2026-11-27T08:26:41.148028446Z"}`),
	}
	var l journalLine
	for b.Loop() {
		for _, line := range lines {
			if err := parseLine(line, &l); err != nil {
				b.Fatal(err)
			}
		}
	}
}
