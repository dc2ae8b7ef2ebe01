package joinset

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/userimport/userimport/importer/source"
)

// BenchmarkBuild indexes a 100,000-row account table; ns/op over 1e5 is the cost of a row.
func BenchmarkBuild(b *testing.B) {
	content := accounts(100_000)
	spec := accountSpec(b)
	dir := b.TempDir()
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		r, err := source.Open(strings.NewReader(content), source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ix, err := Build(context.Background(), spec, r, dir)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// BenchmarkLookup is one record's look-up: a block read and a row read.
func BenchmarkLookup(b *testing.B) {
	ix := build(b, accountSpec(b), accounts(100_000))
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("u%d", i*97)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, found, err := ix.Lookup(keys[i%len(keys)]); !found || err != nil {
			b.Fatal(found, err)
		}
		i++
	}
}
