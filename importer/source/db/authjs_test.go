package db

import (
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/internal/testdb"
	"strings"
	"testing"
	"time"
)

func TestAuthjs(t *testing.T) {
	verified := time.Date(2024, 1, 15, 10, 30, 0, 123000000, time.UTC)
	created := time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, orm := range []string{"prisma", "drizzle"} {
		for _, dialect := range []string{"postgres", "mysql", "sqlite"} {
			t.Run(orm+"/"+dialect, func(t *testing.T) {
				user, acct := `"User"`, `"Account"`
				if orm == "drizzle" {
					user, acct = `"user"`, `"account"`
				}
				ts := func(tm time.Time) string {
					if dialect == "sqlite" { // Prisma's and Drizzle's SQLite dates: epoch ms
						return itoa(tm.UnixMilli())
					}
					return "'" + tm.Format("2006-01-02 15:04:05.000") + "'"
				}
				extra, extraVals := "", ""
				if orm == "prisma" {
					extra, extraVals = `, "createdAt", "updatedAt"`, ", "+ts(created)+", "+ts(created)
				}
				stmts := []string{
					`insert into ` + user + ` ("id", "name", "email", "emailVerified", "image"` + extra + `) values
					('u1', 'O''Brien, "Bob"', 'bob@example.com', ` + ts(verified) + `, null` + extraVals + `),
					('u2', 'Zoë 山田', 'zoe@example.com', null, 'https://example.com/z.png'` + extraVals + `),
					('u3', null, 'email-only@example.com', ` + ts(verified) + `, null` + extraVals + `)`,
					`insert into ` + acct + ` ("userId", "type", "provider", "providerAccountId"` + extra + `) values
					('u2', 'oauth', 'google', 'g-123'` + extraVals + `), ('u3', 'email', 'email', 'email-only@example.com'` + extraVals + `)`,
				}
				d := testdb.Open(t, dialect)
				switch dialect {
				case "postgres":
					d.Run(t, fixtures.AuthjsSchemas[orm][dialect])
					d.Run(t, stmts...)
				case "mysql":
					d.Run(t, fixtures.AuthjsSchemas[orm][dialect])
					for _, s := range stmts {
						d.Run(t, "set session sql_mode = concat(@@sql_mode, ',ANSI_QUOTES'); "+s)
					}
				case "sqlite":
					for _, s := range strings.Split(fixtures.AuthjsSchemas[orm][dialect], ";") {
						if strings.TrimSpace(s) != "" {
							d.Run(t, s)
						}
					}
					d.Run(t, stmts...)
				}
				recs, logs := readAll(t, d.URL, Options{Preset: "authjs"}, "id")
				if len(logs) != 1 || !contains(logs[0], "reading table "+strings.Trim(user, `"`)) || !contains(logs[0], ColHasOAuth) {
					t.Errorf("log %q: want it to name table %s and %s", logs, user, ColHasOAuth)
				}
				if len(recs) != 3 {
					t.Fatalf("read %d users, want 3", len(recs))
				}
				bob, zoe, em := recs["u1"], recs["u2"], recs["u3"]
				wantEq(t, bob, "name", `O'Brien, "Bob"`)
				wantEq(t, bob, "email", "bob@example.com")
				wantTime(t, bob, "emailVerified", verified)
				wantAbsent(t, bob, "image")
				wantEq(t, bob, ColHasOAuth, false)
				wantEq(t, zoe, "name", "Zoë 山田")
				wantAbsent(t, zoe, "emailVerified")
				wantEq(t, zoe, ColHasOAuth, true)
				wantEq(t, em, ColHasOAuth, false) // an Email-provider account is not OAuth
				wantAbsent(t, em, "name")
				want := []string{"email", "emailVerified", ColHasOAuth, "id", "name"}
				if orm == "prisma" {
					wantTime(t, bob, "createdAt", created)
					want = []string{"createdAt", "email", "emailVerified", ColHasOAuth, "id", "name", "updatedAt"}
				}
				if got := strings.Join(keys(bob), ","); got != strings.Join(sorted(want), ",") {
					t.Errorf("keys %s, want %s", got, strings.Join(sorted(want), ","))
				}
			})
		}
	}
}

// A plural users table without an account table still reads, and says OAuth users cannot be told.
func TestAuthjsPluralNoAccounts(t *testing.T) {
	d := testdb.SQLite(t)
	d.Run(t, `create table users (id text primary key, email text, email_verified text)`,
		`insert into users values ('a', 'a@example.com', '2024-01-01T00:00:00Z')`)
	recs, logs := readAll(t, d.URL, Options{Preset: "authjs"}, "id")
	if len(recs) != 1 || len(logs) != 1 || !contains(logs[0], "users") || !contains(logs[0], "no account table") {
		t.Errorf("read %d, log %q", len(recs), logs)
	}
}
