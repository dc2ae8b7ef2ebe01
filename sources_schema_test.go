package main

// The source schemas the database end-to-end tests build, copied from importer/source/db's
// tests (which document the upstream commit each follows): Supabase's auth.users (supabase/auth
// bc32168), Auth.js Prisma and Drizzle tables (next-auth a1a16a5), Better Auth user/account with
// plugin columns (better-auth 451aa4b6e57c).

import "strings"

const supabaseDDL = `
create schema auth;
create table auth.users (
	instance_id uuid null,
	id uuid not null unique,
	aud varchar(255) null,
	"role" varchar(255) null,
	email varchar(255) null,
	encrypted_password varchar(255) null,
	email_confirmed_at timestamptz null,
	invited_at timestamptz null,
	confirmation_token varchar(255) null,
	confirmation_sent_at timestamptz null,
	recovery_token varchar(255) null,
	recovery_sent_at timestamptz null,
	email_change_token_new varchar(255) null,
	email_change varchar(255) null,
	email_change_sent_at timestamptz null,
	last_sign_in_at timestamptz null,
	raw_app_meta_data jsonb null,
	raw_user_meta_data jsonb null,
	is_super_admin bool null,
	created_at timestamptz null,
	updated_at timestamptz null,
	phone text null unique default null,
	phone_confirmed_at timestamptz null default null,
	phone_change text null default '',
	phone_change_token varchar(255) null default '',
	phone_change_sent_at timestamptz null default null,
	confirmed_at timestamptz generated always as (least(users.email_confirmed_at, users.phone_confirmed_at)) stored,
	email_change_token_current varchar(255) null default '',
	email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
	banned_until timestamptz null,
	reauthentication_token varchar(255) null default '',
	reauthentication_sent_at timestamptz null default null,
	is_sso_user boolean not null default false,
	deleted_at timestamptz null,
	is_anonymous boolean not null default false,
	constraint users_pkey primary key (id)
);
create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
`

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
