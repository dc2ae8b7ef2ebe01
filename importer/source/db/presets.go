package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// SupabaseColumns are auth.users' 35 columns in table order (supabase/auth migrations at bc32168).
var SupabaseColumns = []string{
	"instance_id", "id", "aud", "role", "email", "encrypted_password", "email_confirmed_at", "invited_at",
	"confirmation_token", "confirmation_sent_at", "recovery_token", "recovery_sent_at", "email_change_token_new",
	"email_change", "email_change_sent_at", "last_sign_in_at", "raw_app_meta_data", "raw_user_meta_data",
	"is_super_admin", "created_at", "updated_at", "phone", "phone_confirmed_at", "phone_change",
	"phone_change_token", "phone_change_sent_at", "confirmed_at", "email_change_token_current",
	"email_change_confirm_status", "banned_until", "reauthentication_token", "reauthentication_sent_at",
	"is_sso_user", "deleted_at", "is_anonymous",
}

// BetterAuthPluginColumns are the user columns Better Auth's plugins add, by plugin.
var BetterAuthPluginColumns = map[string][]string{
	"admin":        {"role", "banned", "banReason", "banExpires"},
	"username":     {"username", "displayUsername"},
	"phone-number": {"phoneNumber", "phoneNumberVerified"},
	"anonymous":    {"isAnonymous"},
	"two-factor":   {"twoFactorEnabled"},
}

// Extra columns the default queries add; presets read them by these names.
const (
	// ColPassword (betterauth) is the credential account's password digest.
	ColPassword = "password"
	// ColHasOAuth (authjs, betterauth) is true when the user has a sign-in account other than
	// a password (Better Auth providerId <> 'credential') or an email link (Auth.js provider <> 'email').
	ColHasOAuth = "has_oauth_account"
)

func defaultQuery(ctx context.Context, b backend, opts Options) (string, error) {
	preset, log := opts.Preset, opts.Log
	switch strings.ToLower(preset) {
	case "supabase":
		return supabaseQuery(ctx, b, log, opts.Reads)
	case "authjs":
		return authjsQuery(ctx, b, log)
	case "betterauth":
		return betterAuthQuery(ctx, b, log)
	case "":
		return "", newError(QueryFailed, "give --query SQL, or a preset with a default query (supabase, authjs, betterauth)", fmt.Errorf("no query"))
	}
	return "", newError(QueryFailed, "give --query SQL: only the supabase, authjs and betterauth presets bring a default query", fmt.Errorf("preset %q has no default query", preset))
}

func supabaseQuery(ctx context.Context, b backend, log func(string), reads func(string) bool) (string, error) {
	if b.dialect() != "postgres" {
		return "", newError(QueryFailed, "Supabase is PostgreSQL: use its postgres:// connection string", fmt.Errorf("supabase preset on %s", b.dialect()))
	}
	have, ok, err := b.columns(ctx, "auth", "users")
	if err != nil {
		return "", b.classify(err)
	}
	if !ok {
		return "", newError(TableMissing, "other roles than postgres cannot see auth.users", fmt.Errorf("no table auth.users visible"))
	}
	var cols, missing []string
	for _, c := range SupabaseColumns {
		if slices.Contains(have, c) {
			cols = append(cols, c)
		} else {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		log(fmt.Sprintf("supabase: auth.users has no column %s (an older Supabase); reading the other %d", strings.Join(missing, ", "), len(cols)))
	}
	if reads != nil {
		if used := slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return !reads(c) }); len(used) > 0 {
			cols = used // else all, and the warning about unread columns says why
		}
	}
	for i, c := range cols {
		cols[i] = b.quote(c)
	}
	return "select " + strings.Join(cols, ", ") + " from auth.users", nil
}

// findTable returns the first of names that exists, with its columns.
func findTable(ctx context.Context, b backend, names ...string) (string, []string, error) {
	for _, n := range names {
		cols, ok, err := b.columns(ctx, "", n)
		if err != nil {
			return "", nil, b.classify(err)
		}
		if ok {
			return n, cols, nil
		}
	}
	return "", nil, nil
}

func pick(cols []string, names ...string) string {
	for _, n := range names {
		if slices.Contains(cols, n) {
			return n
		}
	}
	return ""
}

func authjsQuery(ctx context.Context, b backend, log func(string)) (string, error) {
	// Prisma's "User", Drizzle's "user", then a plural "users" (Kysely, TypeORM, hand-made).
	user, ucols, err := findTable(ctx, b, "User", "user", "users")
	if err != nil {
		return "", err
	}
	if user == "" {
		return "", newError(TableMissing, `the authjs preset looks for table "User" (Prisma), "user" (Drizzle) or users: give --query for another schema`, fmt.Errorf("no Auth.js user table"))
	}
	acct, acols, err := findTable(ctx, b, map[string][]string{"User": {"Account"}, "user": {"account"}}[user]...)
	if err != nil {
		return "", err
	}
	if user == "users" {
		if acct, acols, err = findTable(ctx, b, "accounts"); err != nil {
			return "", err
		}
	}
	q := "select " + selectAll(b, "u", ucols, "emailVerified", "createdAt", "updatedAt")
	uid, prov := pick(acols, "userId", "user_id"), pick(acols, "provider")
	if acct != "" && uid != "" && prov != "" {
		q += fmt.Sprintf(", exists(select 1 from %s a where a.%s = u.%s and a.%s <> 'email') as %s",
			b.quote(acct), b.quote(uid), b.quote("id"), b.quote(prov), b.quote(ColHasOAuth))
		log(fmt.Sprintf("authjs: reading table %s, with %s from %s", user, ColHasOAuth, acct))
	} else {
		log(fmt.Sprintf("authjs: reading table %s (no account table found: OAuth users cannot be told apart)", user))
	}
	return q + " from " + b.quote(user) + " u", nil
}

func betterAuthQuery(ctx context.Context, b backend, log func(string)) (string, error) {
	user, ucols, err := findTable(ctx, b, "user", "users")
	if err != nil {
		return "", err
	}
	if user == "" {
		return "", newError(TableMissing, "the betterauth preset looks for table user (or users): give --query for another schema", fmt.Errorf("no Better Auth user table"))
	}
	acct, acols, err := findTable(ctx, b, "account", "accounts")
	if err != nil {
		return "", err
	}
	var plugins []string
	for _, p := range []string{"admin", "username", "phone-number", "anonymous", "two-factor"} {
		var found []string
		for _, c := range BetterAuthPluginColumns[p] {
			if slices.Contains(ucols, c) {
				found = append(found, c)
			}
		}
		if len(found) > 0 {
			plugins = append(plugins, p+" ("+strings.Join(found, ", ")+")")
		}
	}
	// Every column the user table has is read, plugin ones included: what exists is what comes.
	keep := slices.DeleteFunc(slices.Clone(ucols), func(c string) bool { return c == ColPassword || c == ColHasOAuth })
	q := "select " + selectAll(b, "u", keep, "createdAt", "updatedAt", "banExpires")
	uid, prov, pw := pick(acols, "userId", "user_id"), pick(acols, "providerId", "provider_id"), pick(acols, "password")
	from := " from " + b.quote(user) + " u"
	if acct != "" && uid != "" && prov != "" {
		if pw != "" {
			q += ", c." + b.quote(pw) + " as " + b.quote(ColPassword)
			from += fmt.Sprintf(" left join %s c on c.%s = u.%s and c.%s = 'credential'",
				b.quote(acct), b.quote(uid), b.quote("id"), b.quote(prov))
		}
		q += fmt.Sprintf(", exists(select 1 from %s o where o.%s = u.%s and o.%s <> 'credential') as %s",
			b.quote(acct), b.quote(uid), b.quote("id"), b.quote(prov), b.quote(ColHasOAuth))
	} else {
		log("betterauth: no account table found: passwords cannot be read")
	}
	if len(plugins) == 0 {
		plugins = []string{"none"}
	}
	log(fmt.Sprintf("betterauth: reading table %s joined with %s; plugin columns: %s", user, acct, strings.Join(plugins, "; ")))
	return q + from, nil
}

// selectAll lists alias.col for each column. On SQLite the dates columns are turned from the
// epoch integers Prisma and Drizzle store (milliseconds; seconds when small) into RFC 3339 text;
// a text date stays as it is.
func selectAll(b backend, alias string, cols []string, dates ...string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		col := alias + "." + b.quote(c)
		q[i] = col
		if b.dialect() == "sqlite" && slices.Contains(dates, c) {
			q[i] = fmt.Sprintf("case when typeof(%[1]s) = 'integer' then strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', "+
				"case when abs(%[1]s) >= 100000000000 then %[1]s / 1000.0 else %[1]s end, 'unixepoch') else %[1]s end as %[2]s", col, b.quote(c))
		}
	}
	return strings.Join(q, ", ")
}
