package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mysqlConfig turns mysql://user[:pass]@host[:3306]/db[?socket=PATH&tls=…] into the driver's
// config. A Unix socket is ?socket=PATH or a percent-encoded path as the host
// (mysql://user@%2Frun%2Fmysqld%2Fmysqld.sock/db). Other parameters become session variables.
func mysqlConfig(raw, password string) (*mysql.Config, error) {
	prefix, ui, rest, at := splitURL(raw)
	if strings.ToLower(prefix) != "mysql://" {
		return nil, errors.New("want mysql://user[:password]@host[:port]/database")
	}
	cfg := mysql.NewConfig()
	if at >= 0 {
		user, pw, hasPW := strings.Cut(ui, ":")
		var err error
		if cfg.User, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("the user name has a bad %-escape")
		}
		if hasPW {
			if cfg.Passwd, err = url.PathUnescape(pw); err != nil {
				cfg.Passwd = pw // an unencoded '%' in a password is still the password
			}
		}
	}
	if password != "" {
		cfg.Passwd = password
	}
	hostport, pathq, _ := strings.Cut(rest, "/")
	dbname, query, _ := strings.Cut(pathq, "?")
	var err error
	if cfg.DBName, err = url.PathUnescape(dbname); err != nil {
		return nil, errors.New("the database name has a bad %-escape")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, errors.New("bad query parameters")
	}
	host, herr := url.PathUnescape(hostport)
	if herr != nil {
		return nil, errors.New("the host has a bad %-escape")
	}
	switch {
	case params.Has("socket"):
		cfg.Net, cfg.Addr = "unix", params.Get("socket")
		params.Del("socket")
	case strings.HasPrefix(host, "/"):
		cfg.Net, cfg.Addr = "unix", host
	default:
		if host == "" {
			host = "127.0.0.1"
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
		cfg.Net, cfg.Addr = "tcp", host
	}
	if t := params.Get("tls"); t != "" {
		cfg.TLSConfig = t
		params.Del("tls")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Timeout = 15 * time.Second
	cfg.Params = map[string]string{
		"time_zone": "'+00:00'", // TIMESTAMP columns come out in UTC
		// The import reads at the pace of Clerk's rate limit and may pause on a 429 longer than
		// the server's default 60 s wait for a client that has stopped reading its result.
		"net_write_timeout": "86400",
	}
	for k := range params {
		cfg.Params[k] = params.Get(k)
	}
	return cfg, nil
}

// openMySQL connects and starts REPEATABLE READ + WITH CONSISTENT SNAPSHOT, READ ONLY: the
// snapshot is taken right here, not at the first read. Rows stream unbuffered.
func openMySQL(ctx context.Context, raw, password string) (backend, error) {
	cfg, err := mysqlConfig(raw, password)
	if err != nil {
		return nil, newError(BadURL, "check the mysql:// URL", err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, newError(BadURL, "check the mysql:// URL", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, classifyMySQL(err)
	}
	for _, stmt := range []string{
		// READ ONLY for the session too: should the query end the transaction, writes stay refused.
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			c.Close()
			db.Close()
			return nil, classifyMySQL(err)
		}
	}
	return &sqlBackend{db: db, conn: c, kind: "mysql", classif: classifyMySQL}, nil
}

func classifyMySQL(err error) error {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		detail := errors.New(me.Message)
		switch me.Number {
		case 1045, 1044, 1698:
			return newError(AuthFailed, "check the user and password (URL or the password file)", detail)
		case 1049:
			return newError(DatabaseMissing, "check the database name after the host in the URL", detail)
		case 1146:
			return newError(TableMissing, "check the table name in --query, or that the preset matches the database", detail)
		case 1142, 1143:
			return newError(PermissionDenied, "the user may not read this table: grant it SELECT", detail)
		case 1792:
			return newError(QueryFailed, "userimport reads in a read-only transaction: the query must not write", detail)
		}
		return newError(QueryFailed, "", fmt.Errorf("%s (error %d)", me.Message, me.Number))
	}
	if isNetErr(err) {
		return newError(Unreachable, "check the host and port (or socket), that the server runs and accepts connections from here", err)
	}
	return err
}
