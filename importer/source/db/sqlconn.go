package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sqlBackend is the database/sql side shared by MySQL and SQLite: one *sql.Conn holding the
// transaction, begun and ended with explicit statements (database/sql's BeginTx cannot ask
// MySQL for WITH CONSISTENT SNAPSHOT).
type sqlBackend struct {
	db      *sql.DB
	conn    *sql.Conn
	kind    string // "mysql" or "sqlite"
	classif func(error) error
}

func (b *sqlBackend) dialect() string { return b.kind }

func (b *sqlBackend) quote(id string) string {
	if b.kind == "mysql" {
		return "`" + strings.ReplaceAll(id, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
}

func (b *sqlBackend) classify(err error) error { return b.classif(err) }

func (b *sqlBackend) count(ctx context.Context, q string) (int64, error) {
	var n int64
	err := b.conn.QueryRowContext(ctx, "select count(*) from ("+q+"\n) q").Scan(&n)
	return n, err
}

func (b *sqlBackend) columns(ctx context.Context, schema, table string) ([]string, bool, error) {
	var (
		rs  *sql.Rows
		err error
	)
	if b.kind == "mysql" {
		// BINARY: table names are case-sensitive on Linux servers; "User" and "user" differ.
		rs, err = b.conn.QueryContext(ctx, `select column_name from information_schema.columns
			where table_schema = database() and binary table_name = ? order by ordinal_position`, table)
	} else {
		// SQLite matches table names without case; the presets tell "User" from "user" by the
		// name the table was created with.
		var n int
		if err := b.conn.QueryRowContext(ctx, `select count(*) from sqlite_master where type in ('table', 'view') and name = ?`, table).Scan(&n); err != nil || n == 0 {
			return nil, false, err
		}
		rs, err = b.conn.QueryContext(ctx, `select name from pragma_table_info(?)`, table)
	}
	if err != nil {
		return nil, false, err
	}
	defer rs.Close()
	var cols []string
	for rs.Next() {
		var c string
		if err := rs.Scan(&c); err != nil {
			return nil, false, err
		}
		cols = append(cols, c)
	}
	return cols, len(cols) > 0, rs.Err()
}

func (b *sqlBackend) query(ctx context.Context, q string) (rows, error) {
	rs, err := b.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cols, err := rs.Columns()
	if err != nil {
		rs.Close()
		return nil, err
	}
	cts, err := rs.ColumnTypes()
	if err != nil {
		rs.Close()
		return nil, err
	}
	r := &sqlRows{rs: rs, cols: cols, types: make([]string, len(cts)), flag: make([]bool, len(cols)),
		dest: make([]any, len(cols)), vals: make([]any, len(cols)), out: make([]any, len(cols))}
	for i, ct := range cts {
		r.types[i] = strings.ToUpper(ct.DatabaseTypeName())
		r.flag[i] = boolName(cols[i])
		r.dest[i] = &r.vals[i]
	}
	return r, nil
}

func (b *sqlBackend) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = b.conn.ExecContext(ctx, "ROLLBACK")
	err := b.conn.Close()
	if cerr := b.db.Close(); err == nil {
		err = cerr
	}
	return err
}

type sqlRows struct {
	rs    *sql.Rows
	cols  []string
	types []string // DatabaseTypeName, upper case
	flag  []bool   // the name reads as a boolean
	dest  []any
	vals  []any
	out   []any
}

func (r *sqlRows) Columns() []string { return r.cols }
func (r *sqlRows) Next() bool        { return r.rs.Next() }
func (r *sqlRows) Err() error        { return r.rs.Err() }
func (r *sqlRows) Close()            { r.rs.Close() }

func (r *sqlRows) AppendObject(b []byte, keys [][]byte) ([]byte, int, error) {
	if err := r.rs.Scan(r.dest...); err != nil {
		return b, -1, err
	}
	for i, v := range r.vals {
		r.out[i] = sqlValue(r.types[i], r.flag[i], v)
		r.vals[i] = nil
	}
	return appendValues(b, keys, r.out)
}

// sqlValue converts a MySQL or SQLite value by its declared type.
func sqlValue(typ string, flag bool, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case int64:
		if (v == 0 || v == 1) && (flag || typ == "BOOL" || typ == "BOOLEAN") {
			return v == 1
		}
		return v
	case uint64, float64, float32, bool:
		return v
	case time.Time:
		if v.IsZero() {
			return nil // MySQL's 0000-00-00: "no date"
		}
		return v
	case []byte:
		return bytesValue(typ, flag, v)
	case string:
		return bytesValue(typ, flag, []byte(v))
	}
	return v
}

func bytesValue(typ string, flag bool, v []byte) any {
	switch {
	case typ == "JSON":
		if json.Valid(v) {
			return json.RawMessage(append([]byte(nil), v...))
		}
	case typ == "DECIMAL" || typ == "NUMERIC":
		if json.Valid(v) {
			return json.Number(string(v))
		}
	case typ == "BIT" && len(v) == 1 && (v[0] == 0 || v[0] == 1):
		return v[0] == 1 // BIT(1), a common MySQL boolean
	case flag && (typ == "BOOL" || typ == "BOOLEAN" || typ == "TINYINT"):
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && (n == 0 || n == 1) {
			return n == 1
		}
	}
	return string(v)
}

// isNetErr tells a failure to reach the server (refused, unreachable, DNS, timeout).
func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ENOENT) && strings.Contains(err.Error(), "dial")
}
