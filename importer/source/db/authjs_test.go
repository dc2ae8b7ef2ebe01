package db

import (
	"database/sql"
	"strings"
	"testing"
	"time"
)

// Auth.js tables as its adapters create them (nextauthjs/next-auth at a1a16a5): Prisma's schema
// in docs/pages/getting-started/adapters/prisma.mdx as `prisma migrate` writes it per provider,
// and Drizzle's default tables from packages/adapter-drizzle/src/lib/{pg,mysql,sqlite}.ts.
var authjsSchemas = map[string]map[string]string{
	"prisma": {
		"postgres": `CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT NOT NULL, "emailVerified" TIMESTAMP(3), "image" TEXT,
			"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
			CREATE TABLE "Account" ("userId" TEXT NOT NULL, "type" TEXT NOT NULL, "provider" TEXT NOT NULL, "providerAccountId" TEXT NOT NULL,
			"refresh_token" TEXT, "access_token" TEXT, "expires_at" INTEGER, "token_type" TEXT, "scope" TEXT, "id_token" TEXT, "session_state" TEXT,
			"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
			CONSTRAINT "Account_pkey" PRIMARY KEY ("provider","providerAccountId"));`,
		"mysql": "CREATE TABLE `User` (`id` VARCHAR(191) NOT NULL, `name` VARCHAR(191) NULL, `email` VARCHAR(191) NOT NULL, `emailVerified` DATETIME(3) NULL, `image` VARCHAR(191) NULL," +
			" `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` DATETIME(3) NOT NULL, UNIQUE INDEX `User_email_key`(`email`), PRIMARY KEY (`id`)) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" +
			"CREATE TABLE `Account` (`userId` VARCHAR(191) NOT NULL, `type` VARCHAR(191) NOT NULL, `provider` VARCHAR(191) NOT NULL, `providerAccountId` VARCHAR(191) NOT NULL," +
			" `refresh_token` TEXT NULL, `access_token` TEXT NULL, `expires_at` INTEGER NULL, `token_type` VARCHAR(191) NULL, `scope` VARCHAR(191) NULL, `id_token` TEXT NULL, `session_state` VARCHAR(191) NULL," +
			" `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), `updatedAt` DATETIME(3) NOT NULL, PRIMARY KEY (`provider`, `providerAccountId`)) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
		// Prisma stores SQLite DateTime as epoch milliseconds.
		"sqlite": `CREATE TABLE "User" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT, "email" TEXT NOT NULL, "emailVerified" DATETIME, "image" TEXT,
			"createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL);
			CREATE TABLE "Account" ("userId" TEXT NOT NULL, "type" TEXT NOT NULL, "provider" TEXT NOT NULL, "providerAccountId" TEXT NOT NULL,
			"refresh_token" TEXT, "access_token" TEXT, "expires_at" INTEGER, "token_type" TEXT, "scope" TEXT, "id_token" TEXT, "session_state" TEXT,
			"createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL, PRIMARY KEY ("provider", "providerAccountId"));`,
	},
	"drizzle": {
		"postgres": `create table "user" ("id" text primary key not null, "name" text, "email" text unique, "emailVerified" timestamp, "image" text);
			create table "account" ("userId" text not null references "user"("id") on delete cascade, "type" text not null, "provider" text not null,
			"providerAccountId" text not null, "refresh_token" text, "access_token" text, "expires_at" integer, "token_type" text, "scope" text,
			"id_token" text, "session_state" text, primary key ("provider", "providerAccountId"));`,
		"mysql": "create table `user` (`id` varchar(255) primary key not null, `name` varchar(255), `email` varchar(255) unique, `emailVerified` timestamp(3) null default null, `image` varchar(255));" +
			"create table `account` (`userId` varchar(255) not null, `type` varchar(255) not null, `provider` varchar(255) not null, `providerAccountId` varchar(255) not null," +
			" `refresh_token` varchar(255), `access_token` varchar(255), `expires_at` int, `token_type` varchar(255), `scope` varchar(255), `id_token` varchar(2048), `session_state` varchar(255)," +
			" primary key (`provider`, `providerAccountId`), foreign key (`userId`) references `user`(`id`) on delete cascade);",
		// Drizzle's sqlite adapter: integer("emailVerified", { mode: "timestamp_ms" }).
		"sqlite": `create table "user" ("id" text primary key not null, "name" text, "email" text unique, "emailVerified" integer, "image" text);
			create table "account" ("userId" text not null references "user"("id") on delete cascade, "type" text not null, "provider" text not null,
			"providerAccountId" text not null, "refresh_token" text, "access_token" text, "expires_at" integer, "token_type" text, "scope" text,
			"id_token" text, "session_state" text, primary key ("provider", "providerAccountId"));`,
	},
}

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
				var u string
				switch dialect {
				case "postgres":
					var c = pgConn(t, &u)
					pgExec(t, c, authjsSchemas[orm][dialect])
					pgExec(t, c, stmts...)
				case "mysql":
					var c *sql.DB
					u, c = myDB(t)
					sqlExec(t, c, authjsSchemas[orm][dialect])
					for _, s := range stmts {
						sqlExec(t, c, "set session sql_mode = concat(@@sql_mode, ',ANSI_QUOTES'); "+s)
					}
				case "sqlite":
					var c *sql.DB
					u, c = sqliteDB(t)
					for _, s := range strings.Split(authjsSchemas[orm][dialect], ";") {
						if strings.TrimSpace(s) != "" {
							sqlExec(t, c, s)
						}
					}
					sqlExec(t, c, stmts...)
				}
				recs, logs := readAll(t, u, Options{Preset: "authjs"}, "id")
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
	u, c := sqliteDB(t)
	sqlExec(t, c, `create table users (id text primary key, email text, email_verified text)`,
		`insert into users values ('a', 'a@example.com', '2024-01-01T00:00:00Z')`)
	recs, logs := readAll(t, u, Options{Preset: "authjs"}, "id")
	if len(recs) != 1 || len(logs) != 1 || !contains(logs[0], "users") || !contains(logs[0], "no account table") {
		t.Errorf("read %d, log %q", len(recs), logs)
	}
}
