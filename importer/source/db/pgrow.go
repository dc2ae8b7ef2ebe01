package db

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/userimport/userimport/mapping"
)

// pgTable is what every row of one PostgreSQL query shares: the columns' kinds, their JSON
// keys, the mapping's index of their names, and the NULL patterns seen so far.
type pgTable struct {
	rs     *pgRows
	keys   [][]byte // column i's quoted name and ':'
	cols   *mapping.Columns
	shapes map[string]*pgShape // by NULL pattern (one byte a column)
	mask   []byte
}

// pgShape is one NULL pattern: rows that have it share their keys slice, which lets the mapping
// recognise the shape without comparing it.
type pgShape struct {
	null []bool
	keys []string // the non-NULL columns' names, in order
}

// maxShapes bounds the NULL patterns remembered; a query with more builds the rest per row.
const maxShapes = 1024

// preEncoded marks an end offset whose column data is already JSON (decoded by pgx at read
// time: arrays, intervals, infinity, …), not PostgreSQL's text.
const preEncoded = 1 << 31

// pgRow is one row copied out of pgx's read buffer (valid only until the next row): the
// columns' text end to end. A column is decoded when the mapping first reads it, and the row
// is written as JSON only when it goes to the failed file: most columns of most rows are
// never needed in either form.
type pgRow struct {
	t     *pgTable
	shape *pgShape
	data  []byte
	end   []uint32 // end of column i in data (start: the previous end), | preEncoded
	vals  []any    // decoded so far; allocated on the first decode
}

func newPGTable(rs *pgRows, keys [][]byte) *pgTable {
	return &pgTable{rs: rs, keys: keys, cols: mapping.NewColumns(rs.cols), shapes: map[string]*pgShape{}, mask: make([]byte, len(rs.cols))}
}

// take copies the current row. The columns PostgreSQL's text cannot give as JSON directly go
// through pgx's decoders now, while the row is current; on error col is the column at fault,
// -1 when the row itself could not be read.
func (t *pgTable) take() (*pgRow, int, error) {
	raw := t.rs.rs.RawValues()
	size := 0
	for i, v := range raw {
		size += len(v)
		if v == nil {
			t.mask[i] = 1
		} else {
			t.mask[i] = 0
		}
	}
	r := &pgRow{t: t, shape: t.shapeOf(), data: make([]byte, 0, size), end: make([]uint32, len(raw))}
	var pgVals []any // pgx's decoded row, only when a column needs it
	for i, v := range raw {
		if v != nil {
			if direct(t.rs.kinds[i], v) {
				r.data = append(r.data, v...)
			} else {
				if pgVals == nil {
					var err error
					if pgVals, err = t.rs.rs.Values(); err != nil {
						return nil, -1, err
					}
				}
				start := len(r.data)
				var err error
				if r.data, err = appendJSON(r.data, pgValue(t.rs.oids[i], pgVals[i], v)); err != nil {
					return nil, i, err
				}
				if _, err := decodeValue(r.data[start:]); err != nil {
					return nil, i, err
				}
				r.end[i] = uint32(len(r.data)) | preEncoded
				continue
			}
		}
		r.end[i] = uint32(len(r.data))
	}
	return r, 0, nil
}

// shapeOf is the current NULL pattern's shape, remembered while there are few.
func (t *pgTable) shapeOf() *pgShape {
	if s, ok := t.shapes[string(t.mask)]; ok {
		return s
	}
	s := &pgShape{null: make([]bool, len(t.mask))}
	for i, m := range t.mask {
		s.null[i] = m == 1
		if m == 0 {
			s.keys = append(s.keys, t.rs.cols[i])
		}
	}
	if len(t.shapes) < maxShapes {
		t.shapes[string(t.mask)] = s
	}
	return s
}

// direct tells whether a value's text is kept as PostgreSQL sent it, to be turned into JSON
// (or decoded) later; the others are decoded by pgx at once.
func direct(k pgKind, v []byte) bool {
	switch k {
	case pgText, pgBool, pgInt, pgFloat, pgJSON:
		return true
	case pgTimestamptz:
		n := len(v)
		return n >= 22 && v[4] == '-' && v[10] == ' ' && string(v[n-3:]) == "+00"
	case pgTimestamp:
		n := len(v)
		return n >= 19 && v[4] == '-' && v[10] == ' ' && v[n-1] >= '0' && v[n-1] <= '9' && string(v[n-3:]) != " BC"
	case pgDate:
		return len(v) == 10 && v[4] == '-'
	}
	return false
}

// record is the row as the mapping reads it.
func (r *pgRow) record() mapping.Record { return mapping.RowRecord(r.t.cols, r.shape.keys, r) }

func (r *pgRow) col(i int) (v []byte, pre bool) {
	start := uint32(0)
	if i > 0 {
		start = r.end[i-1] &^ preEncoded
	}
	e := r.end[i]
	return r.data[start : e&^preEncoded], e&preEncoded != 0
}

// Value is column i as decoding the row's JSON would give it; nil for NULL.
func (r *pgRow) Value(i int) any {
	if i < 0 || i >= len(r.end) || r.shape.null[i] {
		return nil
	}
	if r.vals != nil && r.vals[i] != nil {
		return r.vals[i]
	}
	v := r.decode(i)
	if r.vals == nil {
		r.vals = make([]any, len(r.end))
	}
	r.vals[i] = v
	return v
}

func (r *pgRow) decode(i int) any {
	v, pre := r.col(i)
	if !pre {
		switch r.t.rs.kinds[i] {
		case pgText:
			if plainText(v) {
				return string(v)
			}
		case pgBool:
			return len(v) > 0 && v[0] == 't'
		case pgInt:
			return json.Number(v)
		case pgFloat:
			if c := v[len(v)-1]; c >= '0' && c <= '9' { // not NaN, Infinity or -Infinity
				return json.Number(v)
			}
			return string(v)
		case pgTimestamptz, pgTimestamp, pgDate:
			b := appendColumn(make([]byte, 0, len(v)+8), r.t.rs.kinds[i], r.t.rs.oids[i], v)
			return string(b[1 : len(b)-1])
		}
	}
	js := v
	if !pre {
		js = appendColumn(nil, r.t.rs.kinds[i], r.t.rs.oids[i], v)
	}
	d, err := decodeValue(js)
	if err != nil { // PostgreSQL's own JSON, or JSON take checked: it decodes
		return string(v)
	}
	return d
}

// plainText tells whether text is written into JSON as it is: valid UTF-8, nothing escaped.
func plainText(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AppendRaw writes the row as one JSON object, NULLs left out: the record for failed.jsonl.
func (r *pgRow) AppendRaw(b []byte) []byte {
	b = append(b, '{')
	first := true
	for i := range r.end {
		if r.shape.null[i] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, r.t.keys[i]...)
		v, pre := r.col(i)
		if pre {
			b = append(b, v...)
		} else {
			b = appendColumn(b, r.t.rs.kinds[i], r.t.rs.oids[i], v)
		}
	}
	return append(b, '}')
}

// appendColumn writes one value PostgreSQL sent as text (direct said it can be) as JSON.
func appendColumn(b []byte, k pgKind, oid uint32, v []byte) []byte {
	switch k {
	case pgBool:
		return strconv.AppendBool(b, len(v) > 0 && v[0] == 't')
	case pgInt:
		return append(b, v...)
	case pgFloat:
		if c := v[len(v)-1]; c >= '0' && c <= '9' {
			return append(b, v...)
		}
		return appendStringBytes(b, v)
	case pgJSON:
		// PostgreSQL holds only valid JSON; jsonb prints on one line, json as it was typed,
		// so json is compacted: a record must stay one line when written back as JSONL.
		if oid == pgtype.JSONBOID {
			return append(b, v...)
		}
		return appendCompact(b, v)
	case pgTimestamptz: // 2024-01-15 10:30:00.123456+00 -> 2024-01-15T10:30:00.123456Z
		n := len(v)
		return append(append(append(append(append(b, '"'), v[:10]...), 'T'), v[11:n-3]...), 'Z', '"')
	case pgTimestamp: // no zone: taken as UTC
		return append(append(append(append(append(b, '"'), v[:10]...), 'T'), v[11:]...), 'Z', '"')
	case pgDate:
		return append(append(append(b, '"'), v...), "T00:00:00Z\""...)
	}
	return appendStringBytes(b, v)
}
