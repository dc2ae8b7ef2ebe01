package importer

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// BenchmarkValidate measures the validate path (read, map, check, dedupe) per row.
func BenchmarkValidate(b *testing.B) {
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
		sum, err := Validate(context.Background(), ValidateConfig{Source: src, Format: source.CSV, Mapping: mapping.Native()})
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

// nullTarget answers every create at once, so BenchmarkImport measures the create path
// itself: pacing, the gate, the write-ahead mark, the journal and the counters.
type nullTarget struct{}

func (nullTarget) Create(context.Context, *mapping.CreateUserParams) (string, error) {
	return "user_bench", nil
}
func (nullTarget) FindByExternalID(context.Context, []string) (map[string]string, error) {
	return nil, nil
}
func (nullTarget) FindByEmail(context.Context, string) (string, bool, error) { return "", false, nil }
func (nullTarget) Count(context.Context) (int, error)                        { return 0, nil }
func (nullTarget) LookupBatch() int                                          { return 100 }

// BenchmarkImport measures an import's CPU and allocations a row against a target that costs
// nothing: the per-row overhead of the paced, retrying call path and the journal.
func BenchmarkImport(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("external_id,email_address,first_name\n")
	const rows = 20000
	for i := range rows {
		fmt.Fprintf(&sb, "ext-%d,user%d@example.com,First%d\n", i, i, i)
	}
	input := sb.String()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		src, err := source.Open(strings.NewReader(input), source.Options{Format: source.CSV})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := Run(context.Background(), Config{OutDir: b.TempDir(), Source: src, Format: source.CSV,
			Mapping: mapping.Native(), Target: nullTarget{}, Pacer: pacer.New(pacer.Config{}), Concurrency: 8})
		if err != nil || sum.Counts[StatusCreated] != rows {
			b.Fatalf("%v %v", err, sum.Counts)
		}
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N * rows)
	b.ReportMetric(n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/row")
}
