package db

import (
	"context"
	"errors"
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/internal/testdb"
	"io"
	"strconv"
	"testing"
)

// BenchmarkSupabaseRead reads a generated 35-column auth.users through the supabase preset's
// query: b.N rows; reports rows/s.
func BenchmarkSupabaseRead(b *testing.B) {
	d := testdb.Postgres(b)
	d.Run(b, fixtures.SupabaseDDL, `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
		raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at, confirmation_token, recovery_token)
		select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'user'||i||'@example.com',
		'$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', now(), '{"provider":"email","providers":["email"]}',
		jsonb_build_object('full_name', 'User '||i), now(), now(), now(), '', '' from generate_series(1, `+strconv.Itoa(b.N)+`) i`)
	ctx := context.Background()
	b.ResetTimer()
	r, err := Open(ctx, d.URL, Options{Preset: "supabase"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Next(ctx); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
