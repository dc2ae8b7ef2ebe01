package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// verified tells whether the user's address email is verified.
func (u apiUser) verified(email string) (verified, found bool) {
	for _, e := range u.EmailAddresses {
		if e.EmailAddress == email {
			return e.Verification != nil && e.Verification.Status == "verified", true
		}
	}
	return false, false
}

// apiUsers lists every user through the sandbox's Backend API, as Clerk returns them, by
// external_id: every user must have one, and only one user each.
func (c *cli) apiUsers() map[string]apiUser {
	c.t.Helper()
	users := map[string]apiUser{}
	for _, u := range listUsers(c.t, c.env["CLERK_API_URL"], c.env["CLERK_SECRET_KEY"]) {
		if u.ExternalID == nil {
			c.t.Fatalf("a user without external_id was created: %+v", u)
		}
		if _, dup := users[*u.ExternalID]; dup {
			c.t.Fatalf("two users hold external_id %s", *u.ExternalID)
		}
		users[*u.ExternalID] = u
	}
	return users
}

func fixtureFiles(t *testing.T) map[string]fixtures.File {
	t.Helper()
	files, err := fixtures.WriteAll(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]fixtures.File{}
	for _, f := range files {
		byName[f.Name] = f
	}
	return byName
}

func joinSummary(t *testing.T, dir string) runfolder.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s runfolder.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkPasswords asserts, per expected user, that it landed with a password exactly when its
// source holds one, that users a preset leaves out are absent, and that nothing else was created.
func checkPasswords(t *testing.T, c *cli, expect []fixtures.Expect) {
	t.Helper()
	users := c.apiUsers()
	want := 0
	for _, e := range expect {
		u, ok := users[e.ExternalID]
		if e.Skipped {
			if ok {
				t.Errorf("%s (%s): left out by the preset, but created", e.Key, e.ExternalID)
			}
			continue
		}
		want++
		switch {
		case !ok:
			t.Errorf("%s (%s): not created", e.Key, e.ExternalID)
		case u.PasswordEnabled != e.Password:
			t.Errorf("%s (%s): password_enabled %v, want %v", e.Key, e.ExternalID, u.PasswordEnabled, e.Password)
		}
	}
	if len(users) != want {
		t.Errorf("%d users in the instance, want %d: the join must not create users of its own", len(users), want)
	}
}

func countPasswords(expect []fixtures.Expect) (with, without int) {
	for _, e := range expect {
		if e.Password {
			with++
		} else {
			without++
		}
	}
	return with, without
}

// TestJoinAuth0HashExport imports Auth0's profile export (<tenant>.json.gz) with the
// password-hash export given as --join: the users whose hash is exported get their bcrypt
// digest, no user comes from the hash file itself, and hashes of users not in the profile
// export are counted in summary.json and said on stderr.
func TestJoinAuth0HashExport(t *testing.T) {
	files := fixtureFiles(t)
	profile, hashes := files[fixtures.Auth0ExportName], files[fixtures.Auth0HashesName]
	// Two hashes of users the profile export does not hold (deleted since, say).
	extra := `{"_id":{"$oid":"5f7c8ec7c33c6c004bbafe82"},"email_verified":true,"email":"gone1@example.com","passwordHash":"$2b$10$C9KsmrdeRhFmsZgGbPcCXuPxK1xUSvcx4L7sFAvGzGYQK4ZhMrhBu","tenant":"acme-prod","connection":"Username-Password-Authentication"}
{"_id":{"$oid":"5f7c8ec7c33c6c004bbafe83"},"email_verified":true,"email":"gone2@example.com","passwordHash":"$2b$10$C9KsmrdeRhFmsZgGbPcCXuPxK1xUSvcx4L7sFAvGzGYQK4ZhMrhBu","tenant":"acme-prod","connection":"Username-Password-Authentication"}
`
	f, err := os.OpenFile(hashes.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(extra)
	f.Close()

	c := newCLI(t, testKey)
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--preset", "auth0", "--join", hashes.Path, "--rate", "1000", "--no-progress", "--out", out, profile.Path)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	checkPasswords(t, c, profile.Expect)
	with, without := countPasswords(profile.Expect)
	if with == 0 || without == 0 {
		t.Fatalf("the fixtures must hold users with and without a hash (%d, %d)", with, without)
	}
	sum := joinSummary(t, out)
	if len(sum.Joins) != 1 {
		t.Fatalf("summary joins = %+v", sum.Joins)
	}
	j := sum.Joins[0]
	if j.Name != "passwords" || j.Matched != with || j.NoMatch != without || j.Unused == nil || *j.Unused != 2 || j.Indexed != with+2 {
		t.Errorf("summary joins = %+v (unused %v), want %d matched, %d with no hash, 2 unused", j, j.Unused, with, without)
	}
	if !strings.Contains(res.stderr, fmt.Sprintf("2 of its %d rows matched no record of the input", with+2)) {
		t.Errorf("stderr does not say 2 hashes matched no user:\n%s", res.stderr)
	}
	var said []string // what the join says: counts only, no key, email or digest
	for _, line := range strings.Split(res.stderr, "\n") {
		if strings.Contains(line, "--join") {
			said = append(said, line)
		}
	}
	joined := strings.Join(said, "\n")
	for _, e := range profile.Expect {
		if e.ExternalID != "" && strings.Contains(joined, e.ExternalID) {
			t.Errorf("the join's lines name %s", e.ExternalID)
		}
	}
	if len(said) == 0 || strings.Contains(res.stderr, "gone1@example.com") || strings.Contains(res.stderr, "$2b$") {
		t.Errorf("the join's lines are missing, or stderr shows a join row's email or digest:\n%s", res.stderr)
	}
}

// TestJoinBetterAuthAccount imports Better Auth's user table with its account table joined:
// the credential rows' digests land on their users (scrypt and bcrypt), OAuth rows are
// filtered out by the preset's providerId = 'credential', and users without one get none.
func TestJoinBetterAuthAccount(t *testing.T) {
	files := fixtureFiles(t)
	user, account := files["betterauth-user.csv"], files["betterauth-account.csv"]
	c := newCLI(t, testKey)
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--preset", "betterauth", "--join", "account="+account.Path, "--rate", "1000", "--no-progress", "--out", out, user.Path)
	if res.code != 0 && res.code != 1 { // 1 while anonymous users count as failures
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	checkPasswords(t, c, user.Expect)
	with, without := countPasswords(user.Expect)
	j := joinSummary(t, out).Joins
	if len(j) != 1 || j[0].Matched != with || j[0].NoMatch != without || j[0].Filtered == 0 || j[0].Unused == nil || *j[0].Unused != 0 {
		t.Errorf("summary joins = %+v, want %d matched, %d without a credential row, the OAuth rows filtered", j, with, without)
	}
}

// TestJoinValidate: validate joins too (the digests count among the fields), writing nothing.
func TestJoinValidate(t *testing.T) {
	files := fixtureFiles(t)
	profile, hashes := files[fixtures.Auth0ExportName], files[fixtures.Auth0HashesName]
	with, _ := countPasswords(profile.Expect)
	c := newCLI(t, testKey)
	c.env["CLERK_SECRET_KEY"] = ""
	res := c.run(nil, "validate", "--preset", "auth0", "--join", hashes.Path, "--json", profile.Path)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	var sum runfolder.Summary
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	if sum.Fields["password_digest"] != with || len(sum.Joins) != 1 || sum.Joins[0].Matched != with {
		t.Errorf("password_digest in %d rows, joins %+v; want %d", sum.Fields["password_digest"], sum.Joins, with)
	}
	without := c.run(nil, "validate", "--preset", "auth0", "--json", profile.Path)
	var sum0 runfolder.Summary
	json.Unmarshal([]byte(without.stdout), &sum0)
	if sum0.Fields["password_digest"] != 0 || sum0.Joins != nil {
		t.Errorf("without --join no digest can come: %v, %+v", sum0.Fields["password_digest"], sum0.Joins)
	}
}

func TestResolveJoins(t *testing.T) {
	two, err := mapping.Parse([]byte(`{"joins": [
	  {"name": "a", "key": {"from": "id"}, "other_key": {"from": "uid"}},
	  {"name": "b", "key": {"from": "id"}, "other_key": {"from": "uid"}}],
	  "fields": {"external_id": {"from": "id"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	one, _ := mapping.Preset("betterauth", mapping.PresetOptions{})
	dir := t.TempDir()
	odd := filepath.Join(dir, "x=y.csv") // a file whose name holds '='
	os.WriteFile(odd, []byte("uid\n1\n"), 0o600)

	got, err := resolveJoins([]string{"b=accounts.csv", "a=other.csv"}, two)
	if err != nil || len(got) != 2 || got[0].spec.Name != "b" || got[0].path != "accounts.csv" || got[1].spec.Name != "a" {
		t.Errorf("NAME=FILE: %+v, %v", got, err)
	}
	if got, err := resolveJoins([]string{"account.csv"}, one); err != nil || got[0].spec.Name != "account" {
		t.Errorf("one declared join is implied: %+v, %v", got, err)
	}
	if got, err := resolveJoins([]string{odd}, one); err != nil || got[0].path != odd {
		t.Errorf("a file named x=y: %+v, %v", got, err)
	}
	for _, c := range []struct {
		m    *mapping.Mapping
		vals []string
		want string
	}{
		{mapping.Native(), []string{"f.csv"}, "declares no join"},
		{two, []string{"f.csv"}, "several joins (a, b): give NAME=FILE"},
		{two, []string{"c=f.csv"}, `"c" names no join of the mapping (it declares a, b)`},
		{one, []string{"f.csv", "account=g.csv"}, "given twice"},
		{one, []string{"-"}, "cannot be stdin"},
	} {
		_, err := resolveJoins(c.vals, c.m)
		if ue, ok := asUsage(err); !ok || !strings.Contains(ue.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error saying %q", c.vals, err, c.want)
		}
	}
	// Through the CLI: exit 2 before any run folder is made.
	cl := newCLI(t, testKey)
	out := filepath.Join(dir, "run")
	res := cl.run(nil, "import", "--join", odd, "--out", out, odd)
	if res.code != 2 || !strings.Contains(res.stderr, "declares no join") {
		t.Errorf("exit %d: %s", res.code, res.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused --join made the run folder: %v", err)
	}
}

// TestJoinAuthjsAccounts: Auth.js creates OAuth users with emailVerified NULL; with the
// account table joined their addresses are created verified, and without it unverified,
// while the others follow emailVerified either way.
func TestJoinAuthjsAccounts(t *testing.T) {
	files := fixtureFiles(t)
	users, accounts := files["authjs-users.csv"], files["authjs-accounts.csv"]
	oauth := map[string]bool{}
	for _, u := range fixtures.Users() {
		oauth[u.Key] = u.OAuth
	}
	for _, join := range []bool{true, false} {
		c := newCLI(t, testKey)
		args := []string{"import", "--preset", "authjs", "--rate", "1000", "--no-progress", "--out", filepath.Join(t.TempDir(), "run")}
		if join {
			args = append(args, "--join", accounts.Path)
		}
		res := c.run(nil, append(args, users.Path)...)
		if res.code != 0 {
			t.Fatalf("join %v: exit %d\n%s", join, res.code, res.stderr)
		}
		got := c.apiUsers()
		oauthSeen := 0
		for _, e := range users.Expect {
			u, ok := got[e.ExternalID]
			if !ok || len(e.Emails) != 1 {
				t.Errorf("join %v: %s not created (or not one email)", join, e.Key)
				continue
			}
			want := e.Emails[0].Verified // the expectations assume no join
			if oauth[e.Key] {
				oauthSeen++
				want = join
			}
			if v, found := u.verified(e.Emails[0].Value); !found || v != want {
				t.Errorf("join %v: %s's %s verified %v (found %v), want %v", join, e.Key, e.Emails[0].Value, v, found, want)
			}
		}
		if oauthSeen == 0 {
			t.Fatal("the fixtures hold no OAuth user")
		}
		if len(got) != len(users.Expect) {
			t.Errorf("join %v: %d users, want %d", join, len(got), len(users.Expect))
		}
	}
}

// TestJoinUnusedOnlyForAWholeInput: a session that maps part of the input (--limit, then the
// resumed rest) cannot tell which join rows no record wants, so it does not count them.
func TestJoinUnusedOnlyForAWholeInput(t *testing.T) {
	files := fixtureFiles(t)
	profile, hashes := files[fixtures.Auth0ExportName], files[fixtures.Auth0HashesName]
	c := newCLI(t, testKey)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"import", "--preset", "auth0", "--join", hashes.Path, "--rate", "1000", "--no-progress", "--out", out}
	first := c.run(nil, append(args, "--limit", "2", profile.Path)...)
	if first.code != 75 {
		t.Fatalf("--limit 2: exit %d\n%s", first.code, first.stderr)
	}
	if j := joinSummary(t, out).Joins; len(j) != 1 || j[0].Unused != nil || strings.Contains(first.stderr, "matched no record") {
		t.Errorf("a limited session counted unused join rows: %+v\n%s", j, first.stderr)
	}
	rest := c.run(nil, append(args, profile.Path)...)
	if rest.code != 0 {
		t.Fatalf("resume: exit %d\n%s", rest.code, rest.stderr)
	}
	if j := joinSummary(t, out).Joins; len(j) != 1 || j[0].Unused != nil {
		t.Errorf("a resumed session counted unused join rows: %+v", j)
	}
	checkPasswords(t, c, profile.Expect)
}

// TestJoinAuth0CSV: the CSV export's user_id carries Auth0's ' prefix; the join key is read
// as the mapping reads it (prefix stripped), so the hashes still land.
func TestJoinAuth0CSV(t *testing.T) {
	files := fixtureFiles(t)
	profile, hashes := files[fixtures.Auth0Tenant+".csv"], files[fixtures.Auth0HashesName]
	raw, err := os.ReadFile(profile.Path)
	if err != nil || !strings.Contains(string(raw), `"'auth0|`) {
		t.Fatalf("the fixture's user_id must carry the ' prefix: %v", err)
	}
	c := newCLI(t, testKey)
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--preset", "auth0", "--join", hashes.Path, "--rate", "1000", "--no-progress", "--out", out, profile.Path)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	expect := fixtures.Auth0Expect(fixtures.Users(), true, true)
	checkPasswords(t, c, expect)
	with, _ := countPasswords(expect)
	if j := joinSummary(t, out).Joins; len(j) != 1 || j[0].Matched != with || *j[0].Unused != 0 {
		t.Errorf("joins = %+v, want %d matched and none unused", j, with)
	}
}
