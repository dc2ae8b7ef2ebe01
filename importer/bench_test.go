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

// BenchmarkDupSet measures the duplicate check alone on a million rows of external_id + email
// a loop, with the table in memory (validate) and as an import keeps it (in a file past
// dupFileMin), and reports the table's size per row against the bound of 32 bytes.
func BenchmarkDupSet(b *testing.B) {
	const rows = 1_000_000
	ids, emails := make([]string, rows), make([]string, rows)
	for i := range rows {
		ids[i], emails[i] = fmt.Sprint("ext-", i), fmt.Sprintf("user%d@example.com", i)
	}
	for _, mode := range []string{"memory", "import"} {
		b.Run(mode, func(b *testing.B) {
			dir := ""
			if mode == "import" {
				dir = b.TempDir()
			}
			var p mapping.CreateUserParams
			p.EmailAddresses = make([]string, 1)
			var perRow float64
			for b.Loop() {
				d := newDupSet(dir)
				for i := range rows {
					p.ExternalID, p.EmailAddresses[0] = &ids[i], emails[i]
					if first, _, err := d.check(&p, i+2); first != 0 || err != nil {
						b.Fatalf("row %d: false duplicate of line %d (%v)", i, first, err)
					}
				}
				perRow = float64(d.bytes()) / rows
				d.close()
			}
			b.ReportMetric(perRow, "table-B/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
