package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// The servers come from scripts/testdb.sh; under CI=true a missing one fails the test.
const startCmd = `eval "$(scripts/testdb.sh start)"   # or: make testdb`

func needEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must start the test databases (%s)", name, startCmd)
		}
		t.Skipf("%s is not set: start the test databases with %s", name, startCmd)
	}
	return v
}

func randName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// pgDB makes a fresh database for one test and returns its URL and an admin connection to it.
func pgDB(t testing.TB) (string, *pgx.Conn) {
	t.Helper()
	base := needEnv(t, "USERIMPORT_TEST_POSTGRES_URL")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("cannot reach the test PostgreSQL (%s): %v", startCmd, err)
	}
	name := randName("ui_")
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
	return u.String(), conn
}

func pgExec(t testing.TB, c *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// myDB makes a fresh MariaDB database for one test.
func myDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	base := needEnv(t, "USERIMPORT_TEST_MYSQL_URL")
	cfg, err := mysqlConfig(base, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	cfg.MultiStatements = true
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Ping(); err != nil {
		t.Fatalf("cannot reach the test MariaDB (%s): %v", startCmd, err)
	}
	name := randName("ui_")
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
	i := strings.LastIndex(base, "/")
	return base[:i+1] + name, conn
}

// sqliteDB makes a database file and returns its sqlite: URL and a writable handle.
func sqliteDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	t.Cleanup(func() { conn.Close() })
	return "sqlite:" + path, conn
}

func sqlExec(t *testing.T, c *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := c.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// readAll opens rawURL and returns every record decoded, keyed by the given column, plus the log.
func readAll(t *testing.T, rawURL string, opts Options, key string) (map[string]map[string]any, []string) {
	t.Helper()
	var logs []string
	opts.Log = func(m string) { logs = append(logs, m) }
	ctx := context.Background()
	r, err := Open(ctx, rawURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	n, err := r.Count(ctx)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	out := map[string]map[string]any{}
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rec.Err != nil {
			t.Fatalf("record %d: %v", rec.Num, rec.Err)
		}
		m := decode(t, rec.Bytes())
		out[m[key].(string)] = m
		sameDecoded(t, rawURL, rec)
	}
	if int(n) != len(out) {
		t.Errorf("Count = %d, read %d rows", n, len(out))
	}
	return out, logs
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("record is not one JSON object: %v: %s", err, raw)
	}
	return m
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// wantTime checks an RFC 3339 UTC timestamp equal to want.
func wantTime(t *testing.T, rec map[string]any, col string, want time.Time) {
	t.Helper()
	s, ok := rec[col].(string)
	if !ok {
		t.Errorf("%s = %#v, want an RFC 3339 string", col, rec[col])
		return
	}
	got, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s = %q, want RFC 3339 in UTC (…Z)", col, s)
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", col, got, want.UTC())
	}
}

func wantAbsent(t *testing.T, rec map[string]any, cols ...string) {
	t.Helper()
	for _, c := range cols {
		if v, ok := rec[c]; ok {
			t.Errorf("%s = %#v, want it absent (NULL)", c, v)
		}
	}
}

func wantEq(t *testing.T, rec map[string]any, col string, want any) {
	t.Helper()
	got, ok := rec[col]
	if !ok {
		t.Errorf("%s absent, want %#v", col, want)
		return
	}
	g := fmtAny(got)
	if n, ok := got.(json.Number); ok {
		g = n.String()
	}
	if w := fmtAny(want); g != w {
		t.Errorf("%s = %s, want %s", col, g, w)
	}
}

func fmtAny(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pgConn is pgDB for callers that fill in the URL through a pointer.
func pgConn(t *testing.T, u *string) *pgx.Conn {
	t.Helper()
	var c *pgx.Conn
	*u, c = pgDB(t)
	return c
}

// sameDecoded checks a record's Decoded (PostgreSQL sets it) is what decoding its Raw gives:
// the same keys in order and every value equal, so the importer's shortcut changes nothing.
func sameDecoded(t *testing.T, rawURL string, rec source.Record) {
	t.Helper()
	if rec.Decoded == nil {
		if scheme(rawURL) == "postgres" || scheme(rawURL) == "postgresql" {
			t.Fatalf("record %d: a PostgreSQL row without Decoded", rec.Num)
		}
		return
	}
	got, ok := rec.Decoded.(mapping.Record)
	if !ok {
		t.Fatalf("record %d: Decoded is a %T, not a mapping.Record", rec.Num, rec.Decoded)
	}
	want, err := mapping.JSONRecord(rec.Bytes())
	if err != nil {
		t.Fatalf("record %d: JSONRecord(Bytes()): %v", rec.Num, err)
	}
	if !reflect.DeepEqual(got.Keys(), want.Keys()) {
		t.Fatalf("record %d: Decoded keys %q, Raw's %q", rec.Num, got.Keys(), want.Keys())
	}
	for _, k := range want.Keys() {
		gv, gok := got.Lookup(k)
		wv, wok := want.Lookup(k)
		if gok != wok || !reflect.DeepEqual(gv, wv) {
			t.Errorf("record %d, %s: Decoded %#v (%v), Raw's %#v (%v)", rec.Num, k, gv, gok, wv, wok)
		}
	}
}
