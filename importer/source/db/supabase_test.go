package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/internal/testdb"
	"github.com/userimport/userimport/mapping"
	"slices"
	"testing"
	"time"
)

// supabaseRows are tricky users the way GoTrue writes them: digests of each kind, OAuth-only
// with an empty digest, unverified, banned, soft-deleted, anonymous, phone-only (no '+').
const supabaseRows = `
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at, confirmation_token, recovery_token, email_change_token_new, email_change) values
('00000000-0000-0000-0000-000000000000', '11111111-1111-4111-8111-111111111111', 'authenticated', 'authenticated', 'bob@example.com',
 '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', '2024-01-15 10:30:00.123456+00',
 '{"provider":"email","providers":["email"]}', '{"full_name":"O''Brien, \"Bob\"","age":41,"tags":["a","b"]}',
 '2024-01-15 10:29:59.5+00', '2024-02-01 08:00:00+02', '2024-03-01 00:00:00+00', '', '', '', ''),
('00000000-0000-0000-0000-000000000000', '22222222-2222-4222-8222-222222222222', 'authenticated', 'authenticated', 'zoe@example.com',
 '', '2024-01-16 00:00:00+00', '{"provider":"google","providers":["google"]}', '{"name":"Zoë 山田","avatar_url":"https://x/y.png","email_verified":true}',
 '2024-01-16 00:00:00+00', '2024-01-16 00:00:00+00', null, '', '', '', ''),
('00000000-0000-0000-0000-000000000000', '33333333-3333-4333-8333-333333333333', 'authenticated', 'authenticated', 'unverified@example.com',
 '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', null, '{"provider":"email"}', '{}',
 '2024-01-17 00:00:00+00', '2024-01-17 00:00:00+00', null, 'tok', '', '', ''),
('00000000-0000-0000-0000-000000000000', '44444444-4444-4444-8444-444444444444', 'authenticated', 'authenticated', 'fb@example.com',
 '$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,sk=ZmFrZWtleQ==$c2FsdA==$aGFzaA==', '2024-01-18 00:00:00+00', '{"provider":"email"}', null,
 '2024-01-18 00:00:00+00', '2024-01-18 00:00:00+00', null, '', '', '', '');
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, banned_until, deleted_at, created_at, raw_app_meta_data) values
('55555555-5555-4555-8555-555555555555', 'authenticated', 'authenticated', 'banned@example.com', '$2a$10$abcdefghijklmnopqrstuu5c8b0o8b0o8b0o8b0o8b0o8b0o8b0o8', '2024-01-19 00:00:00+00', '2999-01-01 00:00:00+00', null, '2024-01-19 00:00:00+00', '{}'),
('66666666-6666-4666-8666-666666666666', 'authenticated', 'authenticated', 'deleted@example.com', '', null, null, '2024-05-01 00:00:00+00', '2024-01-20 00:00:00+00', '{}');
insert into auth.users (id, aud, role, is_anonymous, created_at) values ('77777777-7777-4777-8777-777777777777', 'authenticated', 'authenticated', true, '2024-01-21 00:00:00+00');
insert into auth.users (id, aud, role, phone, phone_confirmed_at, encrypted_password, created_at, email_change_confirm_status) values
('88888888-8888-4888-8888-888888888888', 'authenticated', 'authenticated', '15551234567', '2024-01-22 12:00:00+00', '', '2024-01-22 00:00:00+00', 1);
`

func TestSupabase(t *testing.T) {
	d := testdb.Postgres(t)
	d.Run(t, fixtures.SupabaseDDL, supabaseRows)
	recs, logs := readAll(t, d.URL, Options{Preset: "supabase"}, "id")
	if len(logs) != 0 {
		t.Errorf("log %q: all 35 columns exist, nothing to say", logs)
	}
	if len(recs) != 8 {
		t.Fatalf("read %d users, want 8", len(recs))
	}
	for id, rec := range recs {
		for k := range rec {
			if !slices.Contains(SupabaseColumns, k) {
				t.Errorf("user %s: key %q is not an auth.users column", id, k)
			}
		}
	}

	bob := recs["11111111-1111-4111-8111-111111111111"]
	wantEq(t, bob, "instance_id", "00000000-0000-0000-0000-000000000000")
	wantEq(t, bob, "encrypted_password", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
	wantTime(t, bob, "email_confirmed_at", time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC))
	wantTime(t, bob, "updated_at", time.Date(2024, 2, 1, 6, 0, 0, 0, time.UTC)) // +02 source offset -> UTC
	wantTime(t, bob, "confirmed_at", time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC))
	meta, ok := bob["raw_user_meta_data"].(map[string]any)
	if !ok {
		t.Fatalf("raw_user_meta_data = %#v, want a JSON object", bob["raw_user_meta_data"])
	}
	wantEq(t, meta, "full_name", `O'Brien, "Bob"`)
	wantEq(t, meta, "age", 41)
	wantEq(t, meta, "tags", []string{"a", "b"})
	app := bob["raw_app_meta_data"].(map[string]any)
	wantEq(t, app, "providers", []string{"email"})
	wantEq(t, bob, "is_sso_user", false)
	wantEq(t, bob, "is_anonymous", false)
	wantEq(t, bob, "email_change_confirm_status", 0)
	wantEq(t, bob, "confirmation_token", "") // empty string is a value, not NULL
	wantAbsent(t, bob, "phone", "is_super_admin", "banned_until", "deleted_at", "invited_at")

	zoe := recs["22222222-2222-4222-8222-222222222222"]
	wantEq(t, zoe, "encrypted_password", "")
	wantEq(t, zoe["raw_user_meta_data"].(map[string]any), "name", "Zoë 山田")
	wantEq(t, zoe["raw_app_meta_data"].(map[string]any), "provider", "google")

	unv := recs["33333333-3333-4333-8333-333333333333"]
	wantAbsent(t, unv, "email_confirmed_at", "confirmed_at")
	if m, ok := unv["raw_user_meta_data"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("raw_user_meta_data = %#v, want an empty object", unv["raw_user_meta_data"])
	}
	wantEq(t, recs["44444444-4444-4444-8444-444444444444"], "encrypted_password", "$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,sk=ZmFrZWtleQ==$c2FsdA==$aGFzaA==")
	wantAbsent(t, recs["44444444-4444-4444-8444-444444444444"], "raw_user_meta_data")
	wantTime(t, recs["55555555-5555-4555-8555-555555555555"], "banned_until", time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))
	wantTime(t, recs["66666666-6666-4666-8666-666666666666"], "deleted_at", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	anon := recs["77777777-7777-4777-8777-777777777777"]
	wantEq(t, anon, "is_anonymous", true)
	wantAbsent(t, anon, "email", "encrypted_password")
	ph := recs["88888888-8888-4888-8888-888888888888"]
	wantEq(t, ph, "phone", "15551234567")
	wantEq(t, ph, "email_change_confirm_status", 1)
	wantTime(t, ph, "confirmed_at", time.Date(2024, 1, 22, 12, 0, 0, 0, time.UTC))
}

// An older auth.users (before is_anonymous) is read with what it has, and the log says what is missing.
func TestSupabaseOlderSchema(t *testing.T) {
	d := testdb.Postgres(t)
	d.Run(t, fixtures.SupabaseDDL, "alter table auth.users drop column is_anonymous",
		`insert into auth.users (id, email, created_at) values ('11111111-1111-4111-8111-111111111111', 'a@example.com', now())`)
	recs, logs := readAll(t, d.URL, Options{Preset: "supabase"}, "id")
	if len(recs) != 1 || len(logs) != 1 || !contains(logs[0], "is_anonymous") {
		t.Errorf("read %d users, log %q: want 1 user and a note naming is_anonymous", len(recs), logs)
	}
}

// The supabase preset's query reads only the columns its mapping reads: GoTrue's tokens stay
// in the database (and out of failed.jsonl). A mapping that reads none of them gets them all.
func TestSupabaseReadsWhatTheMappingReads(t *testing.T) {
	d := testdb.Postgres(t)
	d.Run(t, fixtures.SupabaseDDL, supabaseRows)
	m, err := mapping.Preset("supabase", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := readAll(t, d.URL, Options{Preset: "supabase", Reads: m.Reads}, "id")
	if len(recs) != 8 {
		t.Fatalf("read %d users, want 8", len(recs))
	}
	seen := map[string]bool{}
	for id, rec := range recs {
		for k := range rec {
			if !m.Reads(k) {
				t.Errorf("user %s: column %q is read, but the preset never reads it", id, k)
			}
			seen[k] = true
		}
	}
	for _, c := range []string{"id", "email", "encrypted_password", "email_confirmed_at", "raw_user_meta_data", "raw_app_meta_data",
		"banned_until", "deleted_at", "is_anonymous", "phone", "phone_confirmed_at", "created_at"} {
		if !seen[c] {
			t.Errorf("column %s was not read by any row", c)
		}
	}
	bob := recs["11111111-1111-4111-8111-111111111111"]
	wantAbsent(t, bob, "confirmation_token", "recovery_token", "instance_id", "aud")

	all, _ := readAll(t, d.URL, Options{Preset: "supabase", Reads: func(string) bool { return false }}, "id")
	wantEq(t, all["11111111-1111-4111-8111-111111111111"], "confirmation_token", "")
}

// A recycled row is read into again (validate hands its valid rows back), and reads as a row
// read into fresh memory: nothing of the row before it (a value decoded, a text boxed, the
// mapping's scratch) shows through, whatever its NULLs and JSON.
func TestRecycledRowsReadAsFresh(t *testing.T) {
	d := testdb.Postgres(t)
	// Rows are handed back a batch at a time: the fixture's users 40 times over (new ids,
	// emails and phones) are enough batches for most rows to be read into one used before.
	d.Run(t, fixtures.SupabaseDDL, supabaseRows, `
insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
	created_at, banned_until, deleted_at, is_anonymous, phone, phone_confirmed_at)
select md5(u.id::text || g)::uuid, aud, role, g || '.' || email, encrypted_password, email_confirmed_at, raw_app_meta_data,
	raw_user_meta_data, created_at, banned_until, deleted_at, is_anonymous, phone || g, phone_confirmed_at
from auth.users u, generate_series(1, 40) g`)
	const rows = 8 * 41
	m, err := mapping.Preset("supabase", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// read maps every row as validate does; recycle hands each back once mapped.
	read := func(recycle bool) (out []string, reused int) {
		ctx := context.Background()
		r := mustOpen(t, ctx, d.URL, Options{Preset: "supabase", Reads: m.Reads})
		seen := map[*pgRow]bool{} // rows handed back
		for {
			rec, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				return out, reused
			}
			if err != nil || rec.Err != nil {
				t.Fatalf("Next: %v %v", err, rec.Err)
			}
			if row, _ := rec.RawFrom.(*pgRow); row != nil && seen[row] {
				reused++
			}
			p, perr, verr := m.ApplyValid(rec.Decoded.(mapping.Record))
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %v %v %s", b, perr, verr, rec.Bytes()))
			if recycle {
				row, _ := rec.RawFrom.(*pgRow)
				seen[row] = true
				r.Recycle(rec)
			}
		}
	}
	fresh, _ := read(false)
	again, reused := read(true)
	if len(fresh) != rows || reused < rows-2*freeBatch {
		t.Fatalf("%d rows, %d read into a row handed back: want %d rows, all but the first two batches reusing one", len(fresh), reused, rows)
	}
	for i := range fresh {
		if fresh[i] != again[i] {
			t.Errorf("row %d read into a recycled row:\n%s\nread fresh:\n%s", i+1, again[i], fresh[i])
		}
	}
}
