package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/internal/testdb"
)

// End to end: each source database, and another Clerk instance, imported through the CLI into
// a sandbox, checked against the fixtures' per-user expectations (what the source facts say
// must land in Clerk), the same expectations the file exports are held to.

// listUsers reads every user of the sandbox at apiURL (.../v1) through its Backend API, as
// Clerk serves them.
func listUsers(t testing.TB, apiURL, key string) []apiUser {
	t.Helper()
	var all []apiUser
	for offset := 0; ; offset += 500 {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/users?limit=500&offset=%d&order_by=%%2Bcreated_at", apiURL, offset), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page []apiUser
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list users: HTTP %d: %v", resp.StatusCode, err)
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all
		}
	}
}

// checkExpect holds the instance's users to the fixtures' expectations: every record not
// skipped is one user as checkUser has it (identifiers verified as the source says, the first
// primary, names, ban, password, metadata, creation time); no other user.
func checkExpect(t *testing.T, users []apiUser, want []fixtures.Expect) {
	t.Helper()
	byKey := map[string]*apiUser{}
	for i := range users {
		u := &users[i]
		if id := deref(u.ExternalID); id != "" {
			byKey["x:"+id] = u
		}
		for _, e := range u.EmailAddresses {
			byKey["e:"+strings.ToLower(e.EmailAddress)] = u
		}
	}
	n := 0
	for _, e := range want {
		if e.Skipped {
			continue
		}
		n++
		var u *apiUser
		if e.ExternalID != "" {
			u = byKey["x:"+e.ExternalID]
		} else if len(e.Emails) > 0 {
			u = byKey["e:"+strings.ToLower(e.Emails[0].Value)]
		}
		if u == nil {
			t.Errorf("%s: no user with external_id %q / email %v", e.Key, e.ExternalID, e.Emails)
			continue
		}
		checkUser(t, e.Key, e, u)
	}
	if len(users) != n {
		t.Errorf("%d users in the instance, want %d", len(users), n)
	}
}

// importDB runs import SOURCE into c's sandbox and checks it ends complete.
func importDB(t *testing.T, c *cli, out string, args ...string) result {
	t.Helper()
	argv := append([]string{"import", "--rate", "1000", "--no-progress", "--no-report", "--out", out}, args...)
	r := c.run(nil, argv...)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("import %v: exit %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func TestDatabaseSourcesEndToEnd(t *testing.T) {
	users := fixtures.Users()
	cases := []struct {
		name   string
		open   func(testing.TB) *testdb.DB
		fill   func(*testing.T, *testdb.DB)
		preset string
		want   []fixtures.Expect
	}{
		{"postgres/supabase", testdb.Postgres, func(t *testing.T, d *testdb.DB) {
			d.Run(t, fixtures.SupabaseDDL)
			d.Insert(t, "auth.users", fixtures.SupabaseRows(users), "confirmed_at")
		}, "supabase", fixtures.SupabaseExpect(users)},
	}
	for _, dc := range []struct {
		name string
		open func(testing.TB) *testdb.DB
	}{{"postgres", testdb.Postgres}, {"mariadb", testdb.MariaDB}, {"sqlite", testdb.SQLite}} {
		dialect := map[string]string{"postgres": "postgres", "mariadb": "mysql", "sqlite": "sqlite"}[dc.name]
		cases = append(cases, struct {
			name   string
			open   func(testing.TB) *testdb.DB
			fill   func(*testing.T, *testdb.DB)
			preset string
			want   []fixtures.Expect
		}{dc.name + "/authjs", dc.open, func(t *testing.T, d *testdb.DB) {
			d.Run(t, fixtures.AuthjsSchemas["prisma"][dialect])
			d.Insert(t, `"User"`, fixtures.AuthjsUserRows(users, fixtures.AuthjsPrisma))
			d.Insert(t, `"Account"`, fixtures.AuthjsAccountRows(users, fixtures.AuthjsPrisma))
		}, "authjs", fixtures.AuthjsExpect(users, fixtures.AuthjsPrisma)}, struct {
			name   string
			open   func(testing.TB) *testdb.DB
			fill   func(*testing.T, *testdb.DB)
			preset string
			want   []fixtures.Expect
		}{dc.name + "/betterauth", dc.open, func(t *testing.T, d *testdb.DB) {
			d.Run(t, fixtures.BetterAuthDDL(dialect, true)...)
			d.Insert(t, `"user"`, fixtures.BetterAuthUserRows(users))
			d.Insert(t, `"account"`, fixtures.BetterAuthAccountRows(users))
		}, "betterauth", fixtures.BetterAuthExpect(users)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.open(t)
			tc.fill(t, d)
			c := newCLI(t, testKey)
			out := filepath.Join(t.TempDir(), "run")
			r := importDB(t, c, out, "--preset", tc.preset, d.URL)
			checkExpect(t, listUsers(t, c.env["CLERK_API_URL"], testKey), tc.want)
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			}
			// The same source again: nothing is sent, every user is done before.
			before := c.sb.Stats().Creates
			importDB(t, c, out, "--preset", tc.preset, d.URL)
			if sent := c.sb.Stats().Creates - before; sent != 0 {
				t.Errorf("the second run sent %d creates", sent)
			}
		})
	}
}

// homeGrown is a users table of an application's own, read with --query.
func homeGrown(t *testing.T, d *testdb.DB, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		d.Run(t, fmt.Sprintf(`insert into app_users (uid, mail, given, family, joined) values ('u%d', 'User%d@Example.com', 'Given%d', 'Family', '2024-03-%02d 10:00:00+00')`, i, i, i, 1+i%28))
	}
}

const homeGrownQuery = `select uid as external_id, mail as email_address, given as first_name, family as last_name, joined as created_at from app_users order by uid`

func TestHomeGrownDatabaseWithQuery(t *testing.T) {
	d := testdb.Postgres(t)
	d.Run(t, `create table app_users (uid text primary key, mail text not null, given text, family text, joined timestamptz)`)
	homeGrown(t, d, 0, 5)
	c := newCLI(t, testKey)
	out := filepath.Join(t.TempDir(), "run")
	importDB(t, c, out, "--query", homeGrownQuery, d.URL)
	var want []fixtures.Expect
	for i := range 5 {
		want = append(want, fixtures.Expect{Key: fmt.Sprint(i), ExternalID: fmt.Sprintf("u%d", i),
			Emails:    []fixtures.Address{{Value: fmt.Sprintf("user%d@example.com", i), Verified: true}},
			FirstName: fmt.Sprintf("Given%d", i), LastName: "Family",
			CreatedAt: time.Date(2024, 3, 1+i%28, 10, 0, 0, 0, time.UTC)})
	}
	checkExpect(t, listUsers(t, c.env["CLERK_API_URL"], testKey), want)
	// The run folder names the source without its password, everywhere.
	pw := "userimport-test-pw"
	for _, f := range []string{"results.jsonl", "summary.json", "log.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		if strings.Contains(string(b), pw) {
			t.Errorf("%s holds the database password", f)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "results.jsonl"))
	if err != nil || !strings.Contains(string(b), `"input":"postgres://***@`) || !strings.Contains(string(b), "query-sha256:") {
		t.Errorf("header does not name the redacted source and the query's hash:\n%.400s", b)
	}
}

// A database run killed with its creates in flight, then run again (and the next night with
// new rows): nobody is created twice, whether rows carry an external_id or only an email.
func TestDatabaseRunKilledThenRerun(t *testing.T) {
	for _, tc := range []struct {
		name, query string
	}{
		{"external_id", homeGrownQuery},
		{"email only", `select mail as email_address, given as first_name from app_users order by uid desc`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testdb.Postgres(t)
			d.Run(t, `create table app_users (uid text primary key, mail text not null, given text, family text, joined timestamptz)`)
			homeGrown(t, d, 0, 30)
			c := newCLI(t, testKey)
			out := filepath.Join(t.TempDir(), "run")
			importDB(t, c, out, "--query", tc.query, d.URL)
			killAfterSend(t, out) // every create left; no outcome reached the journal
			homeGrown(t, d, 100, 110)
			r := importDB(t, c, out, "--query", tc.query, d.URL)
			st := c.sb.Stats()
			if st.Creates != st.Users || st.Users != 40 {
				t.Errorf("sandbox: %d creates for %d users, want 40 each\n%s", st.Creates, st.Users, r.stderr)
			}
			if r.code != 0 || strings.Contains(r.stdout, " 1 failed") || !strings.Contains(r.stdout, "40 created") {
				t.Errorf("rerun: exit %d\n%s", r.code, r.stdout)
			}
			r = importDB(t, c, out, "--query", tc.query, d.URL)
			if st2 := c.sb.Stats(); st2.Creates != st.Creates || !strings.Contains(r.stdout, "40 done by an earlier run") {
				t.Errorf("third run: %d more creates\n%s", st2.Creates-st.Creates, r.stdout)
			}
		})
	}
}

func TestValidateReportsDatabaseErrors(t *testing.T) {
	c := newCLI(t, testKey)
	path := filepath.Join(t.TempDir(), "missing.db")
	r := c.run(nil, "validate", "--preset", "betterauth", "sqlite:"+path)
	if r.code != 2 || !strings.Contains(r.stderr, "file missing") {
		t.Errorf("missing SQLite file: exit %d\n%s", r.code, r.stderr)
	}
	r = c.run(nil, "validate", "--preset", "supabase", "postgres://admin:s3cret-pw@127.0.0.1:1/app")
	if r.code != 2 || strings.Contains(r.stderr, "s3cret-pw") || !strings.Contains(r.stderr, "postgres://***@127.0.0.1:1/app") ||
		!strings.Contains(r.stderr, "host unreachable") {
		t.Errorf("unreachable host: exit %d\n%s", r.code, r.stderr)
	}
	r = c.run(nil, "validate", "--query", "select 1", "users.csv")
	if r.code != 2 || !strings.Contains(r.stderr, "--query") {
		t.Errorf("--query with a file: exit %d\n%s", r.code, r.stderr)
	}
}

// Another Clerk instance as the source: a sandbox filled from the Dashboard CSV fixture is read
// through the Backend API into a second sandbox; each user lands with the same fields (no
// password: the API returns no digests, said once), keyed by the source's external_id or id.
func TestClerkSourceEndToEnd(t *testing.T) {
	const srcKey = "sk_test_source_instance_key"
	_, srcURL := serveSandbox(t, sandbox.Options{Key: srcKey})
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "dashboard.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixtures.ClerkDashboardCSV(f, fixtures.ClerkUsers(fixtures.Users())); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fill := newCLI(t, srcKey)
	fill.env["CLERK_API_URL"] = srcURL
	if r := fill.run(nil, "import", "--preset", "clerk", "--rate", "1000", "--no-progress", "--no-report", "--out", filepath.Join(dir, "fill"), csvPath); r.code != 0 {
		t.Fatalf("filling the source: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := listUsers(t, srcURL, srcKey)
	if len(want) < 3 {
		t.Fatalf("the source holds %d users: the test would prove little", len(want))
	}

	c := newCLI(t, testKey)
	c.env["CLERK_SOURCE_API_URL"], c.env["CLERK_SOURCE_SECRET_KEY"] = srcURL, srcKey
	out := filepath.Join(dir, "run")
	r := importDB(t, c, out, "clerk:")
	if r.code != 0 || strings.Count(r.stderr, "returns no password digests") != 1 || !strings.Contains(r.stderr, "--join") {
		t.Errorf("exit %d; the notice must be said once and suggest --join:\n%s", r.code, r.stderr)
	}
	got := listUsers(t, c.env["CLERK_API_URL"], testKey)
	byExt := map[string]apiUser{}
	for _, u := range got {
		byExt[deref(u.ExternalID)] = u
	}
	if len(got) != len(want) {
		t.Errorf("%d users imported, the source has %d", len(got), len(want))
	}
	for _, s := range want {
		key := deref(s.ExternalID)
		if key == "" {
			key = s.ID
		}
		u, ok := byExt[key]
		if !ok {
			t.Errorf("source user %s (external_id %q) not imported", s.ID, deref(s.ExternalID))
			continue
		}
		type same struct {
			Emails, Phones, Wallets []string
			Username, First, Last   string
			Banned, Locked          bool
			CreatedAt               int64
			Public, Private, Unsafe string
		}
		shape := func(u apiUser) same {
			var s same
			for _, e := range u.EmailAddresses {
				s.Emails = append(s.Emails, fmt.Sprintf("%s %v %v", e.EmailAddress, e.Verification != nil && e.Verification.Status == "verified", e.ID == deref(u.PrimaryEmailAddressID)))
			}
			for _, p := range u.PhoneNumbers {
				s.Phones = append(s.Phones, fmt.Sprintf("%s %v", p.PhoneNumber, p.Verification != nil && p.Verification.Status == "verified"))
			}
			for _, w := range u.Web3Wallets {
				s.Wallets = append(s.Wallets, w.Web3Wallet)
			}
			slices.Sort(s.Emails)
			slices.Sort(s.Phones)
			norm := func(m map[string]any) string {
				if len(m) == 0 {
					return "{}"
				}
				b, _ := json.Marshal(m)
				return string(b)
			}
			return same{s.Emails, s.Phones, s.Wallets, deref(u.Username), deref(u.FirstName), deref(u.LastName), u.Banned, u.Locked, u.CreatedAt,
				norm(u.PublicMetadata), norm(u.PrivateMetadata), norm(u.UnsafeMetadata)}
		}
		if a, b := shape(s), shape(u); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("user %s:\nsource %+v\nimported %+v", s.ID, a, b)
		}
		if u.PasswordEnabled {
			t.Errorf("user %s has a password: the Backend API returns none", s.ID)
		}
	}
	// Run again: every user is done before, nobody sent.
	before := c.sb.Stats().Creates
	importDB(t, c, out, "clerk:")
	if sent := c.sb.Stats().Creates - before; sent != 0 {
		t.Errorf("second run sent %d creates", sent)
	}

	// The target's own key as the source's is refused before anything is read.
	c.env["CLERK_SOURCE_SECRET_KEY"] = testKey
	if r := c.run(nil, "import", "--no-progress", "--out", filepath.Join(dir, "self"), "clerk:"); r.code != 2 || !strings.Contains(r.stderr, "is the target's key") ||
		strings.Contains(r.stderr, testKey) {
		t.Errorf("source key = target key: exit %d\n%s", r.code, r.stderr)
	}
}
