package mapping

import (
	"fmt"
	"testing"
)

// BenchmarkApplyRowText maps Supabase auth.users rows held by column with their jsonb columns
// as text, as the PostgreSQL reader hands them over (P6's rows).
func BenchmarkApplyRowText(b *testing.B) {
	m, err := Preset("supabase", PresetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"id", "email", "encrypted_password", "email_confirmed_at", "raw_app_meta_data", "raw_user_meta_data",
		"created_at", "phone", "phone_confirmed_at", "banned_until", "deleted_at", "is_anonymous"}
	cols := NewColumns(names)
	rows := make([]textRow, 1024)
	var keys []string
	for i := range rows {
		row := sliceRow{fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), fmt.Sprintf("user%08d@example.com", i),
			"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "2024-01-01T00:00:00Z", nil, nil,
			"2024-01-01T00:00:00Z", nil, nil, nil, nil, false}
		rows[i] = asTextRow(b, row, map[int]string{4: `{"provider": "email", "providers": ["email"]}`,
			5: fmt.Sprintf(`{"n": %d, "plan": "pro", "full_name": "First%d Last%d"}`, i, i, i)})
		if keys == nil {
			keys, _ = rowKeys(names, row)
			keys = append(keys[:4], append([]string{"raw_app_meta_data", "raw_user_meta_data"}, keys[4:]...)...)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		row := rows[i%len(rows)]
		*row.room = RowScratch{} // a fresh row each time, as the reader's are
		if _, err, verr := m.ApplyValid(RowRecord(cols, keys, row)); err != nil || verr != nil {
			b.Fatal(err, verr)
		}
	}
}
