package db

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"
)

// Better Auth's tables as its CLI migrates them: better-auth/better-auth at 451aa4b6e57c
// (2026-08-23), packages/core/src/db/get-tables.ts for the fields, plugins/*/schema.ts for the
// admin, username, phone-number, anonymous and two-factor columns, and getType in
// packages/better-auth/src/db/get-migration.ts for the types: string -> text (MySQL varchar(255)
// when unique, varchar(36) for ids and references), boolean -> boolean / boolean (TINYINT(1)) /
// integer, date -> timestamptz / timestamp(3) / date. The Kysely adapter writes SQLite and
// MySQL booleans as 1/0 and SQLite dates as toISOString() text (supportsBooleans, supportsDates).
func betterAuthDDL(dialect string, plugins bool) []string {
	ty := map[string]map[string]string{
		"postgres": {"s": "text", "k": "text", "id": "text", "b": "boolean", "d": "timestamptz"},
		"mysql":    {"s": "text", "k": "varchar(255)", "id": "varchar(36)", "b": "boolean", "d": "timestamp(3)"},
		"sqlite":   {"s": "text", "k": "text", "id": "text", "b": "integer", "d": "date"},
	}[dialect]
	q := func(s string) string {
		if dialect == "mysql" {
			return strings.ReplaceAll(s, `"`, "`")
		}
		return s
	}
	user := `create table "user" ("id" ` + ty["id"] + ` not null primary key, "name" ` + ty["s"] + ` not null, "email" ` + ty["k"] + ` not null unique,
		"emailVerified" ` + ty["b"] + ` not null, "image" ` + ty["s"] + `, "createdAt" ` + ty["d"] + ` not null, "updatedAt" ` + ty["d"] + ` not null`
	if plugins {
		user += `, "role" ` + ty["s"] + `, "banned" ` + ty["b"] + `, "banReason" ` + ty["s"] + `, "banExpires" ` + ty["d"] +
			`, "username" ` + ty["k"] + ` unique, "displayUsername" ` + ty["s"] + `, "phoneNumber" ` + ty["k"] + ` unique, "phoneNumberVerified" ` + ty["b"] +
			`, "isAnonymous" ` + ty["b"] + `, "twoFactorEnabled" ` + ty["b"]
	}
	return []string{q(user + ")"), q(`create table "account" ("id" ` + ty["id"] + ` not null primary key, "accountId" ` + ty["s"] + ` not null,
		"providerId" ` + ty["s"] + ` not null, "userId" ` + ty["id"] + ` not null references "user" ("id") on delete cascade,
		"accessToken" ` + ty["s"] + `, "refreshToken" ` + ty["s"] + `, "idToken" ` + ty["s"] + `, "accessTokenExpiresAt" ` + ty["d"] + `,
		"refreshTokenExpiresAt" ` + ty["d"] + `, "scope" ` + ty["s"] + `, "password" ` + ty["s"] + `,
		"createdAt" ` + ty["d"] + ` not null, "updatedAt" ` + ty["d"] + ` not null)`)}
}

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
				var u string
				switch dialect {
				case "postgres":
					c := pgConn(t, &u)
					pgExec(t, c, betterAuthDDL(dialect, plugins)...)
					pgExec(t, c, users, acct)
				case "mysql":
					var c *sql.DB
					u, c = myDB(t)
					sqlExec(t, c, betterAuthDDL(dialect, plugins)...)
					for _, s := range []string{users, acct} {
						sqlExec(t, c, "set session sql_mode = concat(@@sql_mode, ',ANSI_QUOTES'); "+s)
					}
				case "sqlite":
					var c *sql.DB
					u, c = sqliteDB(t)
					sqlExec(t, c, betterAuthDDL(dialect, plugins)...)
					sqlExec(t, c, users, acct)
				}
				recs, logs := readAll(t, u, Options{Preset: "betterauth"}, "id")
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
