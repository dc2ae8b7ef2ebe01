// Package testdb gives tests a fresh database on the local PostgreSQL and MariaDB that
// scripts/testdb.sh runs (or a SQLite file), filled (insert.go) as each source's tables hold its
// data. Only tests import it: the database-source tests (importer/source/db) and the root
// package's end-to-end imports.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // SQLite registers the "sqlite" driver
)

// Start is how to start the servers; every message about a missing one names it.
const Start = `eval "$(scripts/testdb.sh start)"   # or: make testdb`

// Env is the value of the environment variable name (USERIMPORT_TEST_POSTGRES_URL,
// USERIMPORT_TEST_MYSQL_URL, USERIMPORT_TEST_MYSQL_SOCKET). Unset, the test skips; under
// CI=true it fails, never skips.
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must start the test databases (%s)", name, Start)
		}
		t.Skipf("%s is not set: start the test databases with %s", name, Start)
	}
	return v
}

// Name is prefix and 12 random hex digits: a database or role no other test uses.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// DB is a fresh database, dropped when the test ends.
type DB struct {
	Dialect string    // "postgres", "mysql" or "sqlite", as internal/fixtures names them
	URL     string    // the SOURCE URL that reads it
	PG      *pgx.Conn // PostgreSQL's admin connection to it; nil for the others
	SQL     *sql.DB   // MariaDB's or SQLite's handle; nil for PostgreSQL
}

// Open is a fresh database of dialect ("postgres", "mysql" or "sqlite").
func Open(t testing.TB, dialect string) *DB {
	t.Helper()
	switch dialect {
	case "postgres":
		return Postgres(t)
	case "mysql":
		return MariaDB(t)
	case "sqlite":
		return SQLite(t)
	}
	t.Fatalf("testdb: no dialect %q", dialect)
	return nil
}

// Postgres makes a fresh database on the test PostgreSQL.
func Postgres(t testing.TB) *DB {
	t.Helper()
	base := Env(t, "USERIMPORT_TEST_POSTGRES_URL")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("cannot reach the test PostgreSQL (%s): %v", Start, err)
	}
	name := Name("ui_")
	if _, err := admin.Exec(ctx, "create database "+name); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close(ctx)
		_, _ = admin.Exec(ctx, "drop database if exists "+name+" with (force)")
		admin.Close(ctx)
	})
	return &DB{Dialect: "postgres", URL: u.String(), PG: conn}
}

// MariaDB makes a fresh utf8mb4 database on the test MariaDB. Its handle runs several
// statements in one Exec and, as the source does, keeps TIMESTAMPs in UTC.
func MariaDB(t testing.TB) *DB {
	t.Helper()
	base := Env(t, "USERIMPORT_TEST_MYSQL_URL")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr, cfg.MultiStatements = "tcp", u.Host, true
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		t.Fatalf("cannot reach the test MariaDB (%s): %v", Start, err)
	}
	name := Name("ui_")
	if _, err := admin.Exec("create database " + name + " character set utf8mb4 collate utf8mb4_unicode_ci"); err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	conn, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		_, _ = admin.Exec("drop database if exists " + name)
		admin.Close()
	})
	u.Path = "/" + name
	return &DB{Dialect: "mysql", URL: u.String(), SQL: conn}
}

// SQLite makes a database file (WAL, as the apps run it) and returns its sqlite: URL.
func SQLite(t testing.TB) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	t.Cleanup(func() { conn.Close() })
	return &DB{Dialect: "sqlite", URL: "sqlite:" + path, SQL: conn}
}

// Exec runs one statement with the dialect's placeholders ($1 or ?).
func (d *DB) Exec(q string, args ...any) error {
	var err error
	if d.PG != nil {
		_, err = d.PG.Exec(context.Background(), q, args...)
	} else {
		_, err = d.SQL.Exec(q, args...)
	}
	return err
}

// Run runs each statement (or several in one string), failing the test with the one that fails.
func (d *DB) Run(t testing.TB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if err := d.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}
