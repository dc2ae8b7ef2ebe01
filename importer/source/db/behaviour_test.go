package db

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/userimport/userimport/internal/testdb"
)

// A target per dialect: a fresh database with table t(id, email, name, meta) of n rows, changed
// through its own connection while a reader holds its snapshot.
func newTarget(t *testing.T, dialect string, n int) *testdb.DB {
	t.Helper()
	tg := testdb.Open(t, dialect)
	switch dialect {
	case "postgres":
		tg.Run(t, `create table t (id bigint primary key, email text, name text, meta jsonb)`,
			`insert into t select i, 'user'||i||'@example.com', repeat('n', 300)||i, jsonb_build_object('i', i, 'pad', repeat('x', 60))
			 from generate_series(1, `+strconv.Itoa(n)+`) i`)
	case "mysql":
		tg.Run(t, `create table t (id bigint primary key, email varchar(255), name text, meta json)`,
			`insert into t select seq, concat('user', seq, '@example.com'), concat(repeat('n', 300), seq),
			 json_object('i', seq, 'pad', repeat('x', 60)) from seq_1_to_`+strconv.Itoa(n))
	default:
		tg.Run(t, `create table t (id integer primary key, email text, name text, meta text)`,
			`with recursive s(i) as (select 1 union all select i + 1 from s where i < `+strconv.Itoa(n)+`)
			 insert into t select i, 'user'||i||'@example.com', printf('%.300c', 'n')||i, json_object('i', i, 'pad', printf('%.60c', 'x')) from s`)
	}
	return tg
}

var dialects = []string{"postgres", "mysql", "sqlite"}

// Memory stays flat: the heap after the first 15,000 rows and after all 150,000 is within 8 MiB
// of the heap before the first row, while the rows read add up to over 60 MB. Measuring from
// before the first row also catches a driver that buffers the whole result when the query starts.
func TestStreamingFlatMemory(t *testing.T) {
	const n = 150_000
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			tg := newTarget(t, d, n)
			ctx := context.Background()
			r := mustOpen(t, ctx, tg.URL, Options{Query: "select id, email, name, meta from t"})
			heap := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			base := heap()
			var early uint64
			total, rows := 0, 0
			for {
				rec, err := r.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				total += len(rec.Bytes())
				if rows++; rows == n/10 {
					early = heap()
				}
			}
			late := heap()
			if rows != n {
				t.Fatalf("read %d rows, want %d", rows, n)
			}
			const allowed = 8 << 20
			if total < 5*allowed {
				t.Fatalf("only %d bytes read: the test would not notice rows kept in memory", total)
			}
			if early > base+allowed || late > base+allowed {
				t.Errorf("heap %d bytes before the first row, %d after %d rows, %d after all %d (%d bytes of records): rows are being kept",
					base, early, n/10, late, n, total)
			}
		})
	}
}

// The reader's transaction refuses writes, and nothing it ran changed the table.
func TestReadOnly(t *testing.T) {
	writes := map[string]string{
		"postgres": "insert into t (id, email) values (0, 'w@example.com') returning id",
		"mysql":    "insert into t (id, email) values (0, 'w@example.com')",
		"sqlite":   "insert into t (id, email) values (0, 'w@example.com') returning id",
	}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			tg := newTarget(t, d, 3)
			ctx := context.Background()
			r := mustOpen(t, ctx, tg.URL, Options{Query: writes[d]})
			_, err := r.Next(ctx)
			r.Close()
			if err == nil || !strings.Contains(err.Error(), "read-only") && !strings.Contains(err.Error(), "READ ONLY") && !strings.Contains(strings.ToLower(err.Error()), "readonly") {
				t.Fatalf("a write inside the reader's transaction gave %v, want it refused as read-only", err)
			}
			recs, _ := readAll(t, tg.URL, Options{Query: "select cast(id as char(20)) as id from t where id = 0"}, "id")
			if len(recs) != 0 {
				t.Errorf("the write went through: %v", recs)
			}
		})
	}
}

// Rows committed after Open are not seen, rows deleted after Open still are, and Count agrees.
func TestSnapshot(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			tg := newTarget(t, d, 10)
			ctx := context.Background()
			r := mustOpen(t, ctx, tg.URL, Options{Query: "select id, email from t"})
			tg.Run(t, "insert into t (id, email) values (100, 'late@example.com')", "delete from t where id = 1")
			n, err := r.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for {
				rec, err := r.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				ids[decode(t, rec.Bytes())["id"].(interface{ String() string }).String()] = true
			}
			if n != 10 || len(ids) != 10 || ids["100"] || !ids["1"] {
				t.Errorf("Count %d, read %v: want the 10 rows as of Open", n, ids)
			}
		})
	}
}

func TestCountAfterNextRefused(t *testing.T) {
	tg := newTarget(t, "sqlite", 2)
	ctx := context.Background()
	r := mustOpen(t, ctx, tg.URL, Options{Query: "select id from t"})
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Count(ctx); err == nil {
		t.Error("Count after Next: want an error")
	}
}

func TestDuplicateColumns(t *testing.T) {
	tg := newTarget(t, "sqlite", 1)
	r := mustOpen(t, context.Background(), tg.URL, Options{Query: "select id, id from t"})
	if _, err := r.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate column: %v", err)
	}
}

func TestCancel(t *testing.T) {
	tg := newTarget(t, "postgres", 1000)
	ctx, cancel := context.WithCancel(context.Background())
	r := mustOpen(t, ctx, tg.URL, Options{Query: "select * from t"})
	if _, err := r.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel: %v, want context.Canceled", err)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func withPassword(raw, pw string) string {
	u, _ := url.Parse(raw)
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

func withDB(raw, db string) string {
	u, _ := url.Parse(raw)
	u.Path = "/" + db
	return u.String()
}

// Each failure names its cause and never the password.
func TestFailures(t *testing.T) {
	pg := testdb.Env(t, "USERIMPORT_TEST_POSTGRES_URL")
	my := testdb.Env(t, "USERIMPORT_TEST_MYSQL_URL")
	pgu, _ := url.Parse(pg)
	pgPW, _ := pgu.User.Password()
	myPW := urlPassword(my)
	emptyPG := testdb.Postgres(t).URL
	missing := filepath.Join(t.TempDir(), "nope.db")
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	sqc := testdb.SQLite(t)
	sqc.Run(t, "create table other (x)")
	sq := sqc.URL
	pgHost := pgu.Host
	cases := []struct {
		name, url string
		opts      Options
		cause     Cause
		hint      []string
		secret    string
	}{
		{"pg unreachable", strings.Replace(pg, pgHost, closedPort(t), 1), Options{Query: "select 1"}, Unreachable, nil, pgPW},
		{"pg wrong password", withPassword(pg, "Wr0ng-pw"), Options{Query: "select 1"}, AuthFailed, []string{"password"}, "Wr0ng-pw"},
		{"pg wrong password with @", strings.Replace(pg, ":"+pgPW+"@", ":p@ss@w0rd@", 1), Options{Query: "select 1"}, AuthFailed, nil, "ss@w0rd"},
		{"pg wrong password from a file", withPassword(pg, ""), Options{Query: "select 1", Password: "F1le-pw"}, AuthFailed, nil, "F1le-pw"},
		{"pg database missing", withDB(pg, "no_such_db"), Options{Query: "select 1"}, DatabaseMissing, []string{"database name"}, pgPW},
		{"pg table missing", emptyPG, Options{Query: "select * from nope"}, TableMissing, []string{"--query"}, pgPW},
		{"supabase wrong password", withPassword(pg, "Wr0ng-pw"), Options{Preset: "supabase"}, AuthFailed, []string{"as postgres", "pooler"}, "Wr0ng-pw"},
		{"supabase without auth.users", emptyPG, Options{Preset: "supabase"}, TableMissing, []string{"postgres", "pooler"}, pgPW},
		{"mysql unreachable", strings.Replace(my, my[strings.LastIndex(my, "@")+1:strings.LastIndex(my, "/")], closedPort(t), 1), Options{Query: "select 1"}, Unreachable, nil, myPW},
		{"mysql wrong password", strings.Replace(my, ":"+myPW+"@", ":Wr0ng-pw@", 1), Options{Query: "select 1"}, AuthFailed, nil, "Wr0ng-pw"},
		{"mysql database missing", my[:strings.LastIndex(my, "/")+1] + "no_such_db", Options{Query: "select 1"}, DatabaseMissing, nil, myPW},
		{"mysql table missing", my, Options{Query: "select * from nope"}, TableMissing, nil, myPW},
		{"authjs without tables", my, Options{Preset: "authjs"}, TableMissing, []string{`"User"`, "--query"}, myPW},
		{"sqlite file missing", "sqlite:" + missing, Options{Query: "select 1"}, FileMissing, []string{"path"}, ""},
		{"sqlite not a database", "sqlite:" + garbage, Options{Query: "select 1"}, NotADatabase, nil, ""},
		{"sqlite table missing", sq, Options{Query: "select * from nope"}, TableMissing, nil, ""},
		{"betterauth without tables", sq, Options{Preset: "betterauth"}, TableMissing, nil, ""},
		{"no query", sq, Options{}, QueryFailed, []string{"--query"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(c.url, c.opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want a *db.Error", err, err)
			}
			if e.Cause != c.cause {
				t.Errorf("cause %q, want %q: %v", e.Cause, c.cause, err)
			}
			msg := err.Error()
			t.Log(msg)
			for _, h := range c.hint {
				if !strings.Contains(msg, h) {
					t.Errorf("message %q does not say %q", msg, h)
				}
			}
			if c.secret != "" && strings.Contains(msg, c.secret) {
				t.Errorf("message %q holds the password", msg)
			}
			if !strings.HasPrefix(msg, Redact(c.url)) {
				t.Errorf("message %q does not start with the redacted source %q", msg, Redact(c.url))
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening a missing SQLite file created it: %v", err)
	}
}

// readErr opens, counts and reads, returning the first error.
func readErr(raw string, opts Options) error {
	ctx := context.Background()
	r, err := Open(ctx, raw, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Count(ctx); err != nil {
		return err
	}
	for {
		if _, err := r.Next(ctx); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// Passwords from elsewhere than the URL: Options.Password (a file the caller read) and PGPASSWORD.
func TestPasswordSources(t *testing.T) {
	u := testdb.Postgres(t).URL
	pu, _ := url.Parse(u)
	pw, _ := pu.User.Password()
	bare := withPassword(u, "")
	bare = strings.Replace(bare, pu.User.Username()+":@", pu.User.Username()+"@", 1)
	if err := readErr(bare, Options{Query: "select 1 as x", Password: pw}); err != nil {
		t.Errorf("Options.Password: %v", err)
	}
	t.Setenv("PGPASSWORD", pw)
	if err := readErr(bare, Options{Query: "select 1 as x"}); err != nil {
		t.Errorf("PGPASSWORD: %v", err)
	}
	t.Setenv("PGPASSWORD", "")

	// A password with unencoded '@' and '/' in the URL: split at the last '@' before the host.
	role := testdb.Name("r_")
	c := testdb.Postgres(t)
	c.Run(t, "create role "+role+" login password 'p@ss/w@rd'")
	t.Cleanup(func() { _ = c.Exec("drop role if exists " + role) })
	raw := "postgres://" + role + ":p@ss/w@rd@" + pu.Host + pu.Path + "?sslmode=disable"
	if err := readErr(raw, Options{Query: "select 1 as x"}); err != nil {
		t.Errorf("unencoded @ in the password: %v", err)
	}
}

func TestMySQLSocket(t *testing.T) {
	sock := testdb.Env(t, "USERIMPORT_TEST_MYSQL_SOCKET")
	d := testdb.MariaDB(t)
	d.Run(t, "create table t (id varchar(10) primary key)", "insert into t values ('a'), ('b')")
	db := d.URL[strings.LastIndex(d.URL, "/")+1:]
	pw := urlPassword(d.URL)
	for _, raw := range []string{
		"mysql://userimport:" + pw + "@/" + db + "?socket=" + sock,
		"mysql://userimport@" + url.PathEscape(sock) + "/" + db,
	} {
		recs, _ := readAll(t, raw, Options{Query: "select id from t", Password: pw}, "id")
		if len(recs) != 2 {
			t.Errorf("%s: read %d rows, want 2", Redact(raw), len(recs))
		}
	}
	_ = sql.ErrNoRows
}

// Closing half-way through a large result ends the read without draining it.
func TestCloseEarly(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			tg := newTarget(t, d, 20_000)
			ctx := context.Background()
			r := mustOpen(t, ctx, tg.URL, Options{Query: "select * from t"})
			for range 10 {
				if _, err := r.Next(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if _, err := r.Next(ctx); err == nil {
				t.Error("Next after Close gave a row")
			}
		})
	}
}

// A query that ends the reader's transaction does not open the way to writes.
func TestReadOnlyAfterCommit(t *testing.T) {
	for _, d := range []string{"postgres", "mysql"} {
		t.Run(d, func(t *testing.T) {
			tg := newTarget(t, d, 1)
			ctx := context.Background()
			r := mustOpen(t, ctx, tg.URL, Options{Query: "commit"})
			_, _ = r.Next(ctx)
			rb := r.b
			var werr error
			switch b := rb.(type) {
			case *pgBackend:
				_, werr = b.conn.Exec(ctx, "insert into t (id) values (0)")
			case *sqlBackend:
				_, werr = b.conn.ExecContext(ctx, "insert into t (id) values (0)")
			}
			r.Close()
			if werr == nil {
				t.Error("after a COMMIT the reader's session could write")
			}
		})
	}
}

func TestIdentityOfPresetQuery(t *testing.T) {
	tg := newTarget(t, "sqlite", 1)
	tg.Run(t, `create table "user" (id text primary key, name text, email text, "emailVerified" integer, "createdAt" date, "updatedAt" date)`)
	r1 := mustOpen(t, context.Background(), tg.URL, Options{Preset: "betterauth"})
	id1, q1 := r1.Identity(), r1.Query()
	r1.Close()
	tg.Run(t, `alter table "user" add column "role" text`)
	r2 := mustOpen(t, context.Background(), tg.URL, Options{Preset: "betterauth"})
	if q1 == r2.Query() || id1 != r2.Identity() {
		t.Errorf("a plugin column more: query changed %v, identity kept %v; want both", q1 != r2.Query(), id1 == r2.Identity())
	}
}
