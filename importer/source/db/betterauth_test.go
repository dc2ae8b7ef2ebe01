package db

import (
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/internal/testdb"
	"slices"
	"strings"
	"testing"
	"time"
)

const baScrypt = "7c3e0a5b9f1d2e4a6b8c0d1e2f3a4b5c:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestBetterAuth(t *testing.T) {
	created := time.Date(2024, 3, 1, 9, 0, 0, 250000000, time.UTC)
	past := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, dialect := range []string{"postgres", "mysql", "sqlite"} {
		for _, plugins := range []bool{true, false} {
			name := dialect + "/plugins"
			if !plugins {
				name = dialect + "/core"
			}
			t.Run(name, func(t *testing.T) {
				tv, fv := "true", "false"
				ts := "'" + created.Format("2006-01-02 15:04:05.000") + "'"
				tp := "'" + past.Format("2006-01-02 15:04:05.000") + "'"
				if dialect == "sqlite" { // Better Auth writes SQLite booleans 0/1 and dates as ISO text
					tv, fv = "1", "0"
					ts, tp = "'"+created.Format("2006-01-02T15:04:05.000Z")+"'", "'"+past.Format("2006-01-02T15:04:05.000Z")+"'"
				}
				cols := `"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"`
				row := func(id, name, email, verified string, pl string) string {
					s := "('" + id + "', '" + name + "', '" + email + "', " + verified + ", null, " + ts + ", " + ts
					if plugins {
						s += ", " + pl
					}
					return s + ")"
				}
				if plugins {
					cols += `, "role", "banned", "banReason", "banExpires", "username", "displayUsername", "phoneNumber", "phoneNumberVerified", "isAnonymous", "twoFactorEnabled"`
				}
				users := `insert into "user" (` + cols + `) values ` + strings.Join([]string{
					row("b1", `O''Brien, "Bob"`, "bob@example.com", tv, "'admin', "+fv+", null, null, 'bob', 'Bob', '+15551234567', "+tv+", "+fv+", "+tv),
					row("b2", "Zoë 山田", "zoe@example.com", fv, "'user', null, null, null, null, null, null, null, "+fv+", "+fv),
					row("b3", "Spam, Inc.", "spam@example.com", tv, "'user', "+tv+", 'spam, \"bad\"', "+tp+", null, null, null, null, "+fv+", null"),
					row("b4", "Anonymous", "temp-b4@anon.example.com", fv, "null, null, null, null, null, null, null, null, "+tv+", null"),
				}, ", ")
				acct := `insert into "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt") values
					('a1', 'b1', 'credential', 'b1', '` + baScrypt + `', ` + ts + `, ` + ts + `),
					('a2', '12345', 'github', 'b2', null, ` + ts + `, ` + ts + `),
					('a3', 'b3', 'credential', 'b3', '$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy', ` + ts + `, ` + ts + `),
					('a4', 'g-3', 'google', 'b3', null, ` + ts + `, ` + ts + `)`
				d := testdb.Open(t, dialect)
				d.Run(t, fixtures.BetterAuthDDL(dialect, plugins)...)
				if dialect == "mysql" {
					for _, s := range []string{users, acct} {
						d.Run(t, "set session sql_mode = concat(@@sql_mode, ',ANSI_QUOTES'); "+s)
					}
				} else {
					d.Run(t, users, acct)
				}
				recs, logs := readAll(t, d.URL, Options{Preset: "betterauth"}, "id")
				if len(recs) != 4 {
					t.Fatalf("read %d users, want 4", len(recs))
				}
				wantLog := "plugin columns: none"
				if plugins {
					wantLog = "admin (role, banned, banReason, banExpires); username (username, displayUsername); phone-number (phoneNumber, phoneNumberVerified); anonymous (isAnonymous); two-factor (twoFactorEnabled)"
				}
				if len(logs) != 1 || !contains(logs[0], wantLog) {
					t.Errorf("log %q, want it to say %q", logs, wantLog)
				}
				b1, b2, b3, b4 := recs["b1"], recs["b2"], recs["b3"], recs["b4"]
				wantEq(t, b1, "name", `O'Brien, "Bob"`)
				wantEq(t, b1, "emailVerified", true)
				wantEq(t, b1, ColPassword, baScrypt)
				wantEq(t, b1, ColHasOAuth, false)
				wantTime(t, b1, "createdAt", created)
				wantAbsent(t, b1, "image")
				wantEq(t, b2, "emailVerified", false)
				wantEq(t, b2, "name", "Zoë 山田")
				wantAbsent(t, b2, ColPassword)
				wantEq(t, b2, ColHasOAuth, true)
				wantEq(t, b3, ColPassword, "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
				wantEq(t, b3, ColHasOAuth, true)
				wantKeys := []string{"createdAt", "email", "emailVerified", ColHasOAuth, "id", "name", ColPassword, "updatedAt"}
				if plugins {
					wantEq(t, b1, "role", "admin")
					wantEq(t, b1, "banned", false)
					wantEq(t, b1, "username", "bob")
					wantEq(t, b1, "displayUsername", "Bob")
					wantEq(t, b1, "phoneNumber", "+15551234567")
					wantEq(t, b1, "phoneNumberVerified", true)
					wantEq(t, b1, "isAnonymous", false)
					wantEq(t, b1, "twoFactorEnabled", true)
					wantEq(t, b3, "banned", true)
					wantEq(t, b3, "banReason", `spam, "bad"`)
					wantTime(t, b3, "banExpires", past)
					wantEq(t, b4, "isAnonymous", true)
					wantAbsent(t, b2, "banned", "banReason", "username", "phoneNumber")
					wantKeys = append(wantKeys, "role", "banned", "username", "displayUsername", "phoneNumber", "phoneNumberVerified", "isAnonymous", "twoFactorEnabled")
				}
				if got := keys(b1); !slices.Equal(got, sorted(wantKeys)) {
					t.Errorf("keys %v, want %v", got, sorted(wantKeys))
				}
			})
		}
	}
}
