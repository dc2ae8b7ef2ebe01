package db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

type pgBackend struct {
	conn *pgx.Conn
	tx   pgx.Tx
}

// openPostgres connects with pgx (which also reads PGPASSWORD and .pgpass) and begins
// REPEATABLE READ, READ ONLY: the snapshot is taken at the transaction's first statement.
func openPostgres(ctx context.Context, raw, password string) (backend, error) {
	cfg, err := pgx.ParseConfig(encodeUserinfo(raw))
	if err != nil {
		return nil, newError(BadURL, "check the postgres:// URL; percent-encode special characters in the password", errors.New(scrubParse(err)))
	}
	if password != "" {
		cfg.Password = password
	}
	// The text output the reader rewrites into RFC 3339 assumes these two.
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["datestyle"] = "ISO, MDY"
	// Belt and braces: should the query end the transaction (COMMIT), the session still refuses writes.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, classifyPG(err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Close(context.Background())
		return nil, classifyPG(err)
	}
	// Pin the snapshot now, not at the first query, so a Count and the read see the same rows
	// and the read starts from the moment Open returned.
	if _, err := tx.Exec(ctx, "select 1"); err != nil {
		conn.Close(context.Background())
		return nil, classifyPG(err)
	}
	return &pgBackend{conn: conn, tx: tx}, nil
}

// encodeUserinfo percent-encodes the user and password, split at the last '@' before the host,
// so a password holding an unencoded '@' or '/' reaches the driver whole instead of becoming
// part of the host name.
func encodeUserinfo(raw string) string {
	prefix, ui, rest, at := splitURL(raw)
	if at < 0 {
		return raw
	}
	unesc := func(s string) string {
		if u, err := url.PathUnescape(s); err == nil {
			return u
		}
		return s // an unencoded '%' is part of the password
	}
	user, pw, hasPW := strings.Cut(ui, ":")
	info := url.User(unesc(user))
	if hasPW {
		info = url.UserPassword(unesc(user), unesc(pw))
	}
	return prefix + info.String() + "@" + rest
}

// scrubParse keeps pgx's parse message (it already masks the password) but never the input.
func scrubParse(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		return pe.Unwrap().Error()
	}
	return "cannot parse the connection string"
}

func (b *pgBackend) dialect() string { return "postgres" }

func (b *pgBackend) quote(id string) string { return pgx.Identifier{id}.Sanitize() }

func (b *pgBackend) count(ctx context.Context, q string) (int64, error) {
	var n int64
	err := b.tx.QueryRow(ctx, "select count(*) from ("+q+"\n) q").Scan(&n)
	return n, err
}

func (b *pgBackend) columns(ctx context.Context, schema, table string) ([]string, bool, error) {
	sq := `select column_name from information_schema.columns
		where table_name = $1 and table_schema = any(current_schemas(false)) order by ordinal_position`
	args := []any{table}
	if schema != "" {
		sq = `select column_name from information_schema.columns
			where table_name = $1 and table_schema = $2 order by ordinal_position`
		args = append(args, schema)
	}
	rs, err := b.tx.Query(ctx, sq, args...)
	if err != nil {
		return nil, false, err
	}
	cols, err := pgx.CollectRows(rs, pgx.RowTo[string])
	return cols, len(cols) > 0, err
}

func (b *pgBackend) query(ctx context.Context, q string) (rows, error) {
	// Text results for most columns: the raw text is what JSON, numeric and unknown types need,
	// and pgx still decodes the rest into typed values. Times, booleans and UUIDs come binary:
	// the server formats them as text at a cost that dominates its side of a large read.
	rs, err := b.tx.Query(ctx, q, binaryOIDs)
	if err != nil {
		return nil, err
	}
	fds := rs.FieldDescriptions()
	pr := &pgRows{rs: rs, oids: make([]uint32, len(fds)), kinds: make([]pgKind, len(fds)), cols: make([]string, len(fds))}
	for i, fd := range fds {
		pr.oids[i], pr.kinds[i], pr.cols[i] = fd.DataTypeOID, kindOf(fd.DataTypeOID), fd.Name
		if fd.Format == pgx.BinaryFormatCode {
			pr.kinds[i] = binaryKind(fd.DataTypeOID)
		}
	}
	return pr, nil
}

func (b *pgBackend) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.tx.Rollback(ctx)
	return b.conn.Close(ctx)
}

func (b *pgBackend) classify(err error) error { return classifyPG(err) }

type pgKind uint8

const (
	pgOther pgKind = iota // decoded by pgx, then pgValue
	pgText
	pgBool
	pgInt
	pgFloat // float and numeric: a JSON number unless NaN/Infinity
	pgJSON
	pgTimeBin // timestamptz or timestamp, binary: microseconds since 2000-01-01 UTC
	pgDateBin // date, binary: days since 2000-01-01
	pgBoolBin
	pgUUIDBin
	pgTimestamptz
	pgTimestamp
	pgDate
)

// binaryOIDs are the types read in PostgreSQL's binary format (see pgRows.take's kinds).
var binaryOIDs = pgx.QueryResultFormatsByOID{
	pgtype.TimestamptzOID: pgx.BinaryFormatCode,
	pgtype.TimestampOID:   pgx.BinaryFormatCode,
	pgtype.DateOID:        pgx.BinaryFormatCode,
	pgtype.BoolOID:        pgx.BinaryFormatCode,
	pgtype.UUIDOID:        pgx.BinaryFormatCode,
}

func binaryKind(oid uint32) pgKind {
	switch oid {
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		return pgTimeBin
	case pgtype.DateOID:
		return pgDateBin
	case pgtype.BoolOID:
		return pgBoolBin
	case pgtype.UUIDOID:
		return pgUUIDBin
	}
	return pgOther // not asked for in binary: never reached
}

func kindOf(oid uint32) pgKind {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UUIDOID, pgtype.QCharOID:
		return pgText
	case pgtype.BoolOID:
		return pgBool
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return pgInt
	case pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
		return pgFloat
	case pgtype.JSONOID, pgtype.JSONBOID:
		return pgJSON
	case pgtype.TimestamptzOID:
		return pgTimestamptz
	case pgtype.TimestampOID:
		return pgTimestamp
	case pgtype.DateOID:
		return pgDate
	}
	return pgOther
}

type pgRows struct {
	rs    pgx.Rows
	oids  []uint32
	kinds []pgKind
	cols  []string
	table *pgTable // built on the first row
}

func (r *pgRows) Columns() []string { return r.cols }
func (r *pgRows) Next() bool        { return r.rs.Next() }
func (r *pgRows) Err() error        { return r.rs.Err() }
func (r *pgRows) Close()            { r.rs.Close() }

// AppendObject writes the row as one JSON object: straight from PostgreSQL's text output (the
// session runs with TimeZone UTC and DateStyle ISO) for the common types, through pgx's
// decoders for the rest.
func (r *pgRows) AppendObject(b []byte, keys [][]byte) ([]byte, int, error) {
	row, col, err := r.take(keys)
	if err != nil {
		return b, col, err
	}
	return row.AppendRaw(b), 0, nil
}

// take copies the current row out, to be decoded and written as JSON only when needed.
func (r *pgRows) take(keys [][]byte) (*pgRow, int, error) {
	if r.table == nil {
		r.table = newPGTable(r, keys)
	}
	return r.table.take()
}

// pgValue converts one decoded value; raw is its text form (nil for NULL).
func pgValue(oid uint32, v any, raw []byte) any {
	if raw == nil || v == nil {
		return nil
	}
	switch oid {
	case pgtype.JSONOID, pgtype.JSONBOID:
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			return json.RawMessage(buf.Bytes())
		}
		return string(raw)
	case pgtype.NumericOID:
		if json.Valid(raw) {
			return json.Number(raw) // keeps every digit; NaN and Infinity fall through to text
		}
		return string(raw)
	case pgtype.UUIDOID:
		return string(raw)
	}
	switch v := v.(type) {
	case string, bool, int64, int32, int16, float64, float32:
		return v
	case time.Time:
		return v
	case []byte:
		return string(v)
	case []any:
		return v
	case map[string]*string: // hstore
		return v
	}
	return string(raw) // intervals, ranges, enums, infinity timestamps, …: their text
}

// classifyPG names the likely cause of a pgx error.
func classifyPG(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		detail := errors.New(pe.Message)
		switch pe.Code {
		case "28P01", "28000":
			return newError(AuthFailed, "check the user and password (URL, PGPASSWORD, .pgpass or the password file)", detail)
		case "3D000":
			return newError(DatabaseMissing, "check the database name after the host in the URL", detail)
		case "3F000":
			return newError(SchemaMissing, "check the schema name, and that this is the right database", detail)
		case "42P01":
			return newError(TableMissing, "check the table name in --query, or that the preset matches the database", detail)
		case "42501":
			return newError(PermissionDenied, "the user may not read this table: grant it SELECT, or connect as its owner", detail)
		case "25006":
			return newError(QueryFailed, "userimport reads in a read-only transaction: the query must not write", detail)
		}
		return newError(QueryFailed, "", fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code))
	}
	if isNetErr(err) {
		return newError(Unreachable, "check the host and port, that the server runs and accepts TCP connections from here", err)
	}
	return err
}
