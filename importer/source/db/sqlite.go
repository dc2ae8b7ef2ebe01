package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqlitePath takes sqlite:PATH, sqlite://PATH or sqlite:///abs/PATH.
func sqlitePath(raw string) string {
	p := raw[len("sqlite:"):]
	if rest, ok := strings.CutPrefix(p, "//"); ok {
		p = rest // sqlite:///abs -> /abs ; sqlite://rel -> rel
	}
	return p
}

// openSQLite opens the file read-only (mode=ro: a missing file is an error, never a new empty
// database) and begins a read transaction pinned at once, so the read sees one snapshot.
func openSQLite(ctx context.Context, raw string) (backend, error) {
	path := sqlitePath(raw)
	if path == "" {
		return nil, newError(BadURL, "write sqlite:PATH, e.g. sqlite:./app.db", nil)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, newError(FileMissing, "check the path after sqlite: (relative to the current directory)", fmt.Errorf("no file %s", path))
	case err != nil:
		return nil, newError(FileMissing, "", err)
	case st.IsDir():
		return nil, newError(NotADatabase, "sqlite: wants a database file, not a folder", fmt.Errorf("%s is a folder", path))
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, classifySQLite(err)
	}
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, classifySQLite(err)
	}
	// BEGIN is deferred: the first read takes the snapshot (WAL) or the shared lock that keeps
	// writers out (rollback journal). Reading sqlite_master now fixes it at Open.
	for _, stmt := range []string{"BEGIN", "SELECT count(*) FROM sqlite_master"} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			c.Close()
			db.Close()
			return nil, classifySQLite(err)
		}
	}
	return &sqlBackend{db: db, conn: c, kind: "sqlite", classif: classifySQLite}, nil
}

func classifySQLite(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return newError(NotADatabase, "the file is not an SQLite database", err)
		case sqlite3.SQLITE_CANTOPEN:
			return newError(FileMissing, "check the path and that this user may read it", err)
		case sqlite3.SQLITE_READONLY:
			return newError(QueryFailed, "userimport opens SQLite read-only: the query must not write", err)
		case sqlite3.SQLITE_ERROR:
			if strings.Contains(se.Error(), "no such table") {
				return newError(TableMissing, "check the table name in --query, or that the preset matches the database", err)
			}
		}
	}
	return newError(QueryFailed, "", err)
}
