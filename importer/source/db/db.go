// Package db reads users straight out of a PostgreSQL, MySQL/MariaDB or SQLite database as a
// source.Reader: one JSON object per row (column names are keys), streamed through a cursor
// inside one read-only transaction with a consistent snapshot. It never writes to the source.
//
// Values: json/jsonb become objects; timestamps RFC 3339 in UTC (a timestamp without a zone,
// MySQL DATETIME included, is taken as UTC; a date is its midnight UTC); integers and decimals
// JSON numbers with every digit kept (NaN and Infinity as strings); booleans booleans; NULL is
// left out (and MySQL's zero date 0000-00-00 with it); bytes become a string, invalid UTF-8
// replaced by U+FFFD; anything else (arrays stay arrays) its text.
//
// Booleans on MySQL and SQLite: MySQL's BOOLEAN is TINYINT(1), which its driver does not tell
// apart from other TINYINTs, and SQLite stores booleans as 0/1; so on those two an integer 0 or
// 1 becomes false/true when the column is declared BOOL/BOOLEAN (SQLite) or its name reads as
// a flag (is…/has…, …Verified, …Enabled, …Confirmed, banned, locked, disabled, deleted: see
// boolName); any other integer stays a number. A BIT(1) is a boolean. MariaDB's JSON is a
// LONGTEXT to clients, so it stays a string (MySQL's JSON becomes an object).
package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/userimport/userimport/importer/source"
)

// Options configure Open.
type Options struct {
	Query    string           // SQL to read; empty: the preset's default query
	Preset   string           // supabase, authjs or betterauth: picks the default query
	Password string           // overrides the URL's password; the caller reads it from a file or env, never a flag
	Log      func(msg string) // notes such as which table a preset found; nil: discarded
	// Reads tells whether the mapping reads a column. The supabase preset's query leaves out the
	// auth.users columns it never reads (GoTrue's tokens, mostly): they would only cost the
	// server and the wire, and land in failed.jsonl. nil: every column.
	Reads func(column string) bool
}

// Reader streams rows as records. Count, when used, must come before the first Next: both run
// on the one connection that holds the snapshot.
type Reader struct {
	b       backend
	url     string // redacted
	ident   string
	query   string
	preset  string
	num     int
	started bool
	rows    rows
	cols    []string
	keys    [][]byte // each column's JSON-quoted name followed by ':'
	buf     []byte
	cancel  context.CancelFunc
	ctx     context.Context
	watched context.Context // the caller's ctx whose cancel ends the read
	unwatch func() bool
	closed  sync.Once
	done    bool // Close ran
	cerr    error
}

var _ source.Reader = (*Reader)(nil)

// backend is one dialect's connection inside its read-only snapshot transaction.
type backend interface {
	query(ctx context.Context, q string) (rows, error)
	count(ctx context.Context, q string) (int64, error)
	// columns lists a table's columns in order; ok false when the table does not exist.
	columns(ctx context.Context, schema, table string) (cols []string, ok bool, err error)
	quote(ident string) string
	dialect() string
	classify(err error) error // turns a driver error into an *Error with its likely cause
	close() error             // ends the transaction (rollback) and the connection
}

// rows is a running query. AppendObject writes the current row as one JSON object (keys[i]
// is column i's quoted name and ':'), NULLs left out; on error col is the column that could not
// be written, or -1 when the row itself could not be read.
type rows interface {
	Columns() []string
	Next() bool
	AppendObject(b []byte, keys [][]byte) (out []byte, col int, err error)
	Err() error
	Close()
}

// rowTaker is rows that hand over the current row itself, decoded only as far as the mapping
// reads it and written as JSON only when it goes to the failed file.
type rowTaker interface {
	take(keys [][]byte) (*pgRow, int, error)
}

// Open connects to rawURL (postgres://, postgresql://, mysql://, sqlite:PATH), begins the
// read-only snapshot transaction and resolves the query (opts.Query, else the preset's default).
func Open(ctx context.Context, rawURL string, opts Options) (*Reader, error) {
	if opts.Log == nil {
		opts.Log = func(string) {}
	}
	red := Redact(rawURL)
	var (
		b   backend
		err error
	)
	switch scheme(rawURL) {
	case "postgres", "postgresql":
		b, err = openPostgres(ctx, rawURL, opts.Password)
	case "mysql":
		b, err = openMySQL(ctx, rawURL, opts.Password)
	case "sqlite":
		b, err = openSQLite(ctx, rawURL)
	default:
		return nil, fmt.Errorf("%s: not a database URL (want postgres://, postgresql://, mysql:// or sqlite:PATH)", red)
	}
	if err != nil {
		return nil, supabaseHint(withSource(err, red, rawURL, opts.Password), opts.Preset)
	}
	q := strings.TrimRight(strings.TrimSpace(opts.Query), "; \t\r\n")
	// A preset's query follows the schema it finds (a plugin column more, an older table), so
	// its identity is the preset's name: tomorrow's run matches today's folder.
	idq := q
	if q == "" {
		idq = "preset:" + strings.ToLower(opts.Preset)
		q, err = defaultQuery(ctx, b, opts)
		if err != nil {
			b.close()
			return nil, supabaseHint(withSource(err, red, rawURL, opts.Password), opts.Preset)
		}
	}
	rctx, cancel := context.WithCancel(context.Background())
	return &Reader{b: b, url: red, ident: Identity(rawURL, idq), query: q, preset: opts.Preset, ctx: rctx, cancel: cancel}, nil
}

// supabaseHint adds what almost always fixes a Supabase connection: its auth schema is only
// readable by postgres, and the direct host is IPv6-only on many networks.
func supabaseHint(err error, preset string) error {
	var e *Error
	if !strings.EqualFold(preset, "supabase") || !errors.As(err, &e) {
		return err
	}
	switch e.Cause {
	case AuthFailed, TableMissing, SchemaMissing, PermissionDenied, Unreachable:
		if !strings.Contains(e.Hint, "pooler") {
			e.Hint = strings.TrimPrefix(e.Hint+"; Supabase: connect as postgres with the project's pooler connection string (Connect → Session pooler)", "; ")
		}
	}
	return err
}

// IsURL tells whether a SOURCE argument names a database rather than a file.
func IsURL(s string) bool {
	switch scheme(s) {
	case "postgres", "postgresql", "mysql", "sqlite":
		return true
	}
	return false
}

func scheme(s string) string {
	i := strings.Index(s, ":")
	if i <= 0 {
		return ""
	}
	return strings.ToLower(s[:i])
}

// Query is the SQL the reader runs (the preset's default when none was given).
func (r *Reader) Query() string { return r.query }

// Identity is Identity(url, the --query SQL), or with a preset's default query
// Identity(url, "preset:<name>"): the run folder's record of what was read.
func (r *Reader) Identity() string { return r.ident }

// Format is how mapping should read Raw: one JSON object per record.
func (r *Reader) Format() source.Format { return source.JSONL }

// Header is nil: records are JSON objects.
func (r *Reader) Header() []string { return nil }

// Count runs select count(*) over the query in the same snapshot, for progress.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	if r.started {
		return 0, errors.New("db: Count must be called before the first Next")
	}
	n, err := r.b.count(ctx, r.query)
	if err != nil {
		return 0, supabaseHint(withSource(r.b.classify(err), r.url, "", ""), r.preset)
	}
	return n, nil
}

// Next returns the next row as a record with Raw holding one JSON object; io.EOF at the end.
// Num and Line are both the 1-based row number: a database has no lines, and rows are matched
// to the journal by external_id, not by position.
func (r *Reader) Next(ctx context.Context) (source.Record, error) {
	if err := ctx.Err(); err != nil {
		return source.Record{}, err
	}
	if r.done {
		return source.Record{}, errors.New("db: Next after Close")
	}
	// A cancel of the caller's ctx while a row is awaited ends the whole read. Registered once
	// per ctx: the importer passes the same one for every row.
	if ctx != r.watched && ctx.Done() != nil {
		if r.unwatch != nil {
			r.unwatch()
		}
		r.watched, r.unwatch = ctx, context.AfterFunc(ctx, r.cancel)
	}
	if !r.started {
		r.started = true
		rs, err := r.b.query(r.ctx, r.query)
		if err != nil {
			return source.Record{}, r.fail(ctx, err)
		}
		r.rows = rs
		if err := r.setColumns(rs.Columns()); err != nil {
			return source.Record{}, err
		}
	}
	if r.rows == nil {
		return source.Record{}, io.EOF
	}
	if !r.rows.Next() {
		err := r.rows.Err()
		r.rows.Close()
		r.rows = nil
		if err != nil {
			return source.Record{}, r.fail(ctx, err)
		}
		return source.Record{}, io.EOF
	}
	r.num++
	rec := source.Record{Num: r.num, Line: r.num}
	if rt, ok := r.rows.(rowTaker); ok {
		row, col, err := rt.take(r.keys)
		if err != nil {
			return r.rowError(ctx, rec, col, err)
		}
		rec.Decoded, rec.RawFrom = row.record(), row
		return rec, nil
	}
	var col int
	var err error
	if r.buf, col, err = r.rows.AppendObject(r.buf[:0], r.keys); err != nil {
		return r.rowError(ctx, rec, col, err)
	}
	rec.Raw = append([]byte(nil), r.buf...)
	return rec, nil
}

// Recycle takes back a record the caller is done with: nothing of it (no value, string or
// params it gave) may be held or read after, since the next row is read into its memory.
// Records of other sources, or of wide rows, are left to the GC.
func (r *Reader) Recycle(rec source.Record) {
	if row, ok := rec.RawFrom.(*pgRow); ok {
		row.recycle()
	}
}

// rowError is a row that could not be written (a reported row), or a read that failed (col < 0).
func (r *Reader) rowError(ctx context.Context, rec source.Record, col int, err error) (source.Record, error) {
	if col < 0 {
		return source.Record{}, r.fail(ctx, err)
	}
	rec.Err = &source.RecordError{Line: r.num, Msg: fmt.Sprintf("row %d, column %q: %v", r.num, r.cols[col], err)}
	return rec, nil
}

func (r *Reader) fail(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return supabaseHint(withSource(r.b.classify(err), r.url, "", ""), r.preset)
}

func (r *Reader) setColumns(cols []string) error {
	seen := make(map[string]bool, len(cols))
	r.cols = cols
	r.keys = make([][]byte, len(cols))
	for i, c := range cols {
		if seen[c] {
			return fmt.Errorf("%s: the query returns column %q twice: give one an alias (AS other_name)", r.url, c)
		}
		seen[c] = true
		k, _ := json.Marshal(c)
		r.keys[i] = append(k, ':')
	}
	return nil
}

// Close ends the read: the transaction is rolled back (it never wrote) and the connection closed.
func (r *Reader) Close() error {
	r.closed.Do(func() {
		r.done = true
		if r.unwatch != nil {
			r.unwatch()
		}
		early := r.rows != nil
		// Cancel first: closing a half-read result would otherwise drain every remaining row.
		r.cancel()
		if early {
			r.rows.Close()
			r.rows = nil
		}
		if err := r.b.close(); !early {
			r.cerr = err // after a cancelled read the connection is gone; that is no failure
		}
	})
	return r.cerr
}

// Identity names a database source for the run folder: the URL without its password, then the
// query's sha256. Resume matches rows by external_id, so a changed query is a different source.
func Identity(rawURL, query string) string {
	sum := sha256.Sum256([]byte(query))
	return stripPassword(rawURL) + " query-sha256:" + hex.EncodeToString(sum[:])
}
