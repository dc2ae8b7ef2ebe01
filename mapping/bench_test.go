package mapping

import (
	"fmt"
	"testing"
)

// BenchmarkApplyValidate maps and checks the rows of `make bench`'s V1 input, CSV and JSON.
func BenchmarkApplyValidate(b *testing.B) {
	header := []string{"external_id", "email_address", "first_name", "last_name", "public_metadata"}
	const n = 1000
	csv, js := make([]Record, n), make([]Record, n)
	for i := range n {
		cells := []string{fmt.Sprint("ext-", i), fmt.Sprintf("user%d@example.com", i), fmt.Sprint("First", i), fmt.Sprint("Last", i),
			fmt.Sprintf(`{"plan":"pro","n":%d}`, i)}
		csv[i] = CSVRecord(header, cells)
		rec, err := JSONRecord(fmt.Appendf(nil, `{"external_id":%q,"email_address":%q,"first_name":%q,"last_name":%q,"public_metadata":{"plan":"pro","n":%d}}`,
			cells[0], cells[1], cells[2], cells[3], i))
		if err != nil {
			b.Fatal(err)
		}
		js[i] = rec
	}
	m := Native()
	for name, recs := range map[string][]Record{"csv": csv, "json": js} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p, err := m.Apply(recs[i%n])
				if err == nil {
					err = Validate(p)
				}
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
