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
