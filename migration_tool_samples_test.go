package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/internal/fixtures"
)

// testdata/migration-tool/ holds rows copied verbatim from Clerk's own importer's samples
// (github.com/clerk/migration-tool samples/ at bbf75584668e): the shapes its users feed it.
// clerk.csv keeps the leading "# Password for users with passwords: …" line, 5 plain users,
// 2 of the 10 phone users (written with 12 fields where the header has 13: the sample's own
// slip), and the 4 rows of its "| separated emails and phones" commit (c6d6eb1c). firebase.csv
// is 10 of its 50 header-less legacy-width (29-field) rows: with and without a hash, unverified,
// phone-only, disabled=false and disabled=true. supabase.csv is its header and 8 of its 26 rows.

func addr(v string, verified bool) fixtures.Address {
	return fixtures.Address{Value: v, Verified: verified}
}

func mtUser(ext, first, last, username string, emails, phones []fixtures.Address, hasher string) fixtures.Expect {
	e := fixtures.Expect{ExternalID: ext, FirstName: first, LastName: last, Username: username, Emails: emails, Phones: phones}
	if hasher != "" {
		e.Password, e.Hasher = true, hasher
	} else {
		e.SkipPasswordRequirement = true
	}
	return e
}

func TestMigrationToolClerkCSV(t *testing.T) {
	v := func(s ...string) []fixtures.Address {
		var out []fixtures.Address
		for _, a := range s {
			out = append(out, addr(strings.TrimPrefix(a, "?"), !strings.HasPrefix(a, "?")))
		}
		return out
	}
	f := fixtures.File{Name: "clerk.csv", Path: filepath.Join("testdata", "migration-tool", "clerk.csv"), Preset: "clerk",
		Expect: []fixtures.Expect{
			// The primary is in neither list; janedoe@test.com is its verified address.
			mtUser("user_2YDryYFVMM1W1plDDKz7Gzf4we6", "Jane", "Doe", "", v("jane.doe@test.com", "janedoe@test.com"), nil, "bcrypt"),
			mtUser("user_2ZZCgLE7kJG2CRBxTZ6YUIvzS10", "John", "Doe", "", v("johndoe@test.com"), nil, ""),
			mtUser("user_2cWszPHuo6P2lCdnhhZbVMfbAIC", "John", "Hancock", "", v("johnhancock@test.com"), nil, "bcrypt"),
			mtUser("user_2cukOsyNsh0J3MCEvrgM6PkoB0I", "Jane", "Hancock", "", v("janehancock@test.com"), nil, ""),
			mtUser("user_2dG7H8I9J0K1L2M3N4O5P6Q7R8S", "Grace", "Miller", "", v("gracemiller@test.com"), nil, "bcrypt"),
			{ExternalID: "user_3fL2M3N4O5P6Q7R8S9T0U1V2W3X"}, // 12 fields
			{ExternalID: "user_3fM3N4O5P6Q7R8S9T0U1V2W3X4Y"}, // 12 fields
			mtUser("user_pipe_email_test", "Pipe", "Email", "pipeemail", v("primary@test.com", "secondary@test.com"), nil, ""),
			mtUser("user_pipe_phone_test", "Pipe", "Phone", "pipephone", nil, v("?+12125550200", "?+12125550201"), ""),
			mtUser("user_mixed_separator_test", "Mixed", "Separator", "mixedsep", v("first@test.com", "?second@test.com", "?third@test.com"), nil, ""),
			mtUser("user_mixed_phone_separator_test", "Mixed", "Phone", "", v("mixedphone@test.com"), v("?+12125550300", "?+12125550301"), ""),
		}}
	tg := newE2ETarget(t)
	out := filepath.Join(t.TempDir(), "run")
	res := tg.run("import", "--preset", "clerk", "--out", out, "--no-progress", "--rate", "500", f.Path)
	// The two 12-field rows are refused alone, named by line; every other row imports.
	if res.code != 1 || !strings.Contains(res.stdout, "9 created") || !strings.Contains(res.stdout, "2 invalid") {
		t.Fatalf("exit %d, want 1 with 9 created and 2 invalid\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	checkLanded(t, tg, f, journalByRow(t, out), map[int]string{6: "wrong number of fields (12, header has 13)", 7: "wrong number of fields (12, header has 13)"})
}

func TestMigrationToolFirebaseCSV(t *testing.T) {
	ms := func(n int64) time.Time { return time.UnixMilli(n) }
	fb := func(n int, email string, verified bool, name string, created int64, phone string, hash, banned bool) fixtures.Expect {
		e := fixtures.Expect{ExternalID: fmt.Sprintf("abc123def456ghi789jk%04d", n), Name: name, CreatedAt: ms(created), Banned: banned}
		if email != "" {
			e.Emails = []fixtures.Address{addr(email, verified)}
		}
		if phone != "" {
			// firebase-tools writes a phone only for a phone sign-in, which verified it.
			e.Phones = []fixtures.Address{addr(phone, true)}
		}
		if hash {
			e.Password, e.Hasher = true, "scrypt_firebase"
		} else {
			e.SkipPasswordRequirement = true
		}
		return e
	}
	f := fixtures.File{Name: "firebase.csv", Path: filepath.Join("testdata", "migration-tool", "firebase.csv"), Preset: "firebase",
		Options: map[string]string{"firebase_signer_key": fixtures.FirebaseSignerKey},
		Expect: []fixtures.Expect{
			fb(1, "jane.doe@test.com", true, "Jane Doe", 1704067200000, "", true, false),
			fb(2, "john.smith@test.com", true, "John Smith", 1704067200000, "", true, false),
			fb(3, "alice.johnson@test.com", false, "", 1704067200000, "", false, false),
			fb(4, "bob.williams@test.com", true, "Bob Williams", 1704153600000, "+12125550100", true, false),
			fb(6, "david.miller@test.com", true, "David Miller", 1704240000000, "", false, false),
			fb(8, "", false, "", 1704326400000, "+12125550101", false, false),
			fb(9, "frank.brown@test.com", true, "Frank Brown", 1704326400000, "", true, false),
			fb(11, "henry.anderson@test.com", false, "Henry Anderson", 1704412800000, "", true, false),
			fb(15, "leo.harris@test.com", true, "Leo Harris", 1704585600000, "", true, true),
			fb(16, "", false, "", 1704672000000, "+12125550103", false, false),
		}}
	tg := newE2ETarget(t)
	out := filepath.Join(t.TempDir(), "run")
	res := tg.run(importArgs(t, f, nil, out)...)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	checkLanded(t, tg, f, journalByRow(t, out), nil)

	// Without the project's signer key a row with a hash is refused alone, naming the option,
	// rather than created without its password; the rows without one import.
	tg = newE2ETarget(t)
	out = filepath.Join(t.TempDir(), "run")
	res = tg.run("import", "--preset", "firebase", "--out", out, "--no-progress", "--rate", "500", f.Path)
	if res.code != 1 || !strings.Contains(res.stdout, "4 created") || !strings.Contains(res.stdout, "6 invalid") {
		t.Fatalf("no signer key: exit %d, want 1 with 4 created and 6 invalid\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	for row, j := range journalByRow(t, out) {
		if e := f.Expect[row-1]; e.Password != (j.Status == "invalid") || e.Password && !strings.Contains(errMessage(j), "firebase_signer_key") {
			t.Errorf("no signer key: record %d (password %v) journaled %q %s", row, e.Password, j.Status, errMessage(j))
		}
	}
}

// The sample's header has 36 columns and every one of its rows 33: Clerk's importer (csv-parser,
// values by position) reads first_name into reauthentication_sent_at and "false" into
// banned_until. userimport must refuse the file once, naming both widths and the columns the
// rows lack, and create nobody, rather than import shifted values.
func TestMigrationToolSupabaseCSV(t *testing.T) {
	tg := newE2ETarget(t)
	out := filepath.Join(t.TempDir(), "run")
	res := tg.run("import", "--preset", "supabase", "--out", out, "--no-progress", filepath.Join("testdata", "migration-tool", "supabase.csv"))
	if res.code != 2 {
		t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"33 fields", "36", `"deleted_at", "first_name", "last_name"`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not name %s:\n%s", want, res.stderr)
		}
	}
	if n := len(tg.users()); n != 0 {
		t.Errorf("%d users created from a misaligned file", n)
	}
}
