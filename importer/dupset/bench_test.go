package dupset

import (
	"fmt"
	"testing"

	"github.com/userimport/userimport/mapping"
)

// BenchmarkDupSet measures the duplicate check alone on a million rows of external_id + email
// a loop, with the table in memory (validate) and as an import keeps it (in a file past
// FileMin), and reports the table's size per row against the bound of 32 bytes.
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
				d := New(dir)
				for i := range rows {
					p.ExternalID, p.EmailAddresses[0] = &ids[i], emails[i]
					if first, _, err := d.Check(&p, i+2); first != 0 || err != nil {
						b.Fatalf("row %d: false duplicate of line %d (%v)", i, first, err)
					}
				}
				perRow = float64(d.Bytes()) / rows
				d.Close()
			}
			b.ReportMetric(perRow, "table-B/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
