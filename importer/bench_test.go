package importer

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// BenchmarkDryRun measures the validate path (read, map, check, dedupe) per row.
func BenchmarkDryRun(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("external_id,email_address,first_name,last_name,public_metadata\n")
	const rows = 20000
	for i := range rows {
		fmt.Fprintf(&sb, "ext-%d,user%d@example.com,First%d,Last%d,\"{\"\"plan\"\":\"\"pro\"\",\"\"n\"\":%d}\"\n", i, i, i, i, i)
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		src, err := source.Open(strings.NewReader(input), source.Options{Format: source.CSV})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := Run(context.Background(), Config{Source: src, Format: source.CSV, Mapping: mapping.Native(), DryRun: true})
		if err != nil || sum.Counts["valid"] != rows {
			b.Fatalf("%v %v", err, sum.Counts)
		}
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N * rows)
	b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/row")
}
