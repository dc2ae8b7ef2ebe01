package db

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/userimport/userimport/internal/inplace"
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
	buf    []byte // the row being copied
	// Narrow rows handed back (Reader.Recycle) for take to read into: the row's allocation is
	// most of what a row costs the GC. They pass in batches: a channel operation a row cost
	// the recycling goroutine (validate's one ordered stage) more than the allocation did.
	free  chan []*pgRowInline
	spare []*pgRowInline // the batch take reads into next (the reading goroutine's)
	back  []*pgRowInline // handed back, not yet sent (the recycling goroutine's)
}

// freeBatch rows are handed back at a time; at most freeBatches batches are kept: about what
// validate holds in flight (its reorder slack and the chunks being read, mapped and checked),
// so that the spare rows add little to the live heap the GC target is a multiple of.
const freeBatch, freeBatches = 128, 24

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
	data  string   // one allocation a row: the values decoded are slices of it
	end   []uint32 // end of column i in data (start: the previous end), | preEncoded
	vals  []any    // decoded so far; allocated on the first decode (a narrow row's with it)
	// scratch is a narrow row's room for the mapping (allocated with it); nil: the mapping
	// allocates its own.
	scratch *mapping.RowScratch
	strs    inplace.Strings // room for the texts Value boxes in place (none for a wide row)
	tbuf    []byte          // room for the times and UUIDs it formats
	inline  *pgRowInline    // the narrow row this is part of; nil for a wide row
}

// inlineCols is the widest row whose ends and values share the row's allocation.
const inlineCols = 12

// pgRowInline is a narrow row with the room its slices and pointers use.
type pgRowInline struct {
	pgRow
	endRoom     [inlineCols]uint32
	valRoom     [inlineCols]any
	scratchRoom mapping.RowScratch
	strRoom     [6]string // the texts Value hands out, boxed where they lie
	timeRoom    [96]byte  // times and UUIDs formatted for Value
}

// Scratch is the room the row carries for the mapping's work on it (mapping.RowScratch); nil
// for a wide row.
func (r *pgRow) Scratch() *mapping.RowScratch { return r.scratch }

func newPGTable(rs *pgRows, keys [][]byte) *pgTable {
	return &pgTable{rs: rs, keys: keys, cols: mapping.NewColumns(rs.cols), shapes: map[string]*pgShape{}, mask: make([]byte, len(rs.cols)),
		free: make(chan []*pgRowInline, freeBatches)}
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
	var r *pgRow
	if len(raw) <= inlineCols { // one allocation for the row, its ends and its decoded values
		rb := t.reuse()
		r = &rb.pgRow
		r.end, r.vals, r.scratch, r.inline = rb.endRoom[:len(raw)], rb.valRoom[:len(raw)], &rb.scratchRoom, rb
		r.strs, r.tbuf = inplace.Make(rb.strRoom[:]), rb.timeRoom[:0]
	} else {
		r = &pgRow{end: make([]uint32, len(raw))}
	}
	r.t, r.shape = t, t.shapeOf()
	buf := t.buf[:0]
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	var pgVals []any // pgx's decoded row, only when a column needs it
	for i, v := range raw {
		if v != nil {
			if direct(t.rs.kinds[i], v) {
				buf = append(buf, v...)
			} else {
				if pgVals == nil {
					var err error
					if pgVals, err = t.rs.rs.Values(); err != nil {
						return nil, -1, err
					}
				}
				start := len(buf)
				var err error
				if buf, err = appendJSON(buf, pgValue(t.rs.oids[i], pgVals[i], v)); err != nil {
					return nil, i, err
				}
				if _, err := decodeValue(buf[start:]); err != nil {
					return nil, i, err
				}
				r.end[i] = uint32(len(buf)) | preEncoded
				continue
			}
		}
		r.end[i] = uint32(len(buf))
	}
	r.data, t.buf = string(buf), buf
	return r, 0, nil
}

// recycle keeps r, which nothing refers to any more, for take to read a later row into. Calls
// come from one goroutine at a time.
func (r *pgRow) recycle() {
	if r.inline == nil {
		return
	}
	t := r.t
	if t.back = append(t.back, r.inline); len(t.back) < freeBatch {
		return
	}
	select {
	case t.free <- t.back:
	default: // enough kept: the GC takes these
	}
	t.back = make([]*pgRowInline, 0, freeBatch)
}

// reuse is a cleared narrow row handed back, else a new one. Clearing rewrites the texts its
// Values boxed in place (inplace.String's "never change after"): Recycle's caller holds none.
func (t *pgTable) reuse() *pgRowInline {
	if len(t.spare) == 0 {
		select {
		case t.spare = <-t.free:
		default:
			return &pgRowInline{}
		}
	}
	rb := t.spare[len(t.spare)-1]
	t.spare[len(t.spare)-1] = nil
	t.spare = t.spare[:len(t.spare)-1]
	*rb = pgRowInline{}
	return rb
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
	case pgTimeBin:
		return len(v) == 8
	case pgDateBin:
		return len(v) == 4
	case pgBoolBin:
		return len(v) == 1
	case pgUUIDBin:
		return len(v) == 16
	}
	return false
}

// record is the row as the mapping reads it.
func (r *pgRow) record() mapping.Record { return mapping.RowRecord(r.t.cols, r.shape.keys, r) }

func (r *pgRow) col(i int) (v string, pre bool) {
	start := uint32(0)
	if i > 0 {
		start = r.end[i-1] &^ preEncoded
	}
	e := r.end[i]
	return r.data[start : e&^preEncoded], e&preEncoded != 0
}

// Null tells whether column i is NULL (mapping.RowText).
func (r *pgRow) Null(i int) bool { return i < 0 || i >= len(r.end) || r.shape.null[i] }

// JSONText is a json or jsonb column's object as PostgreSQL sent it (mapping.RowText): the
// mapping finds paths in it and copies it as metadata without decoding it.
func (r *pgRow) JSONText(i int) (string, bool) {
	if r.Null(i) || r.t.rs.kinds[i] != pgJSON {
		return "", false
	}
	v, pre := r.col(i)
	if pre {
		return "", false
	}
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') { // json keeps what was typed
		v = v[1:]
	}
	return v, len(v) > 0 && v[0] == '{'
}

// Present tells whether column i has a value as the mapping sees one (mapping.RowText): not
// NULL, and for text not blank. A time is not formatted to be seen.
func (r *pgRow) Present(i int) (present, known bool) {
	if r.Null(i) {
		return false, true
	}
	v, pre := r.col(i)
	if pre {
		return false, false
	}
	switch r.t.rs.kinds[i] {
	case pgText:
		return strings.TrimSpace(v) != "", true
	case pgJSON:
		if _, ok := r.JSONText(i); ok {
			return true, true // an object
		}
		return false, false // a JSON scalar: "" is blank
	case pgBool, pgInt, pgFloat, pgTimestamptz, pgTimestamp, pgDate, pgTimeBin, pgDateBin, pgBoolBin, pgUUIDBin:
		return true, true
	}
	return false, false
}

// Value is column i as decoding the row's JSON would give it; nil for NULL.
func (r *pgRow) Value(i int) any {
	if r.Null(i) {
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

// text is s as a Value: boxed in the row's room while it lasts (inplace).
func (r *pgRow) text(s string) any { return r.strs.Box(s) }

// formatted is a time or UUID column as the text Value gives, written into the row's room
// when it fits (no allocation), else into a string of its own.
func (r *pgRow) formatted(i int, v string) any {
	if free := r.tbuf[len(r.tbuf):cap(r.tbuf)]; cap(free) >= 48 {
		b := appendColumn(free[:0], r.t.rs.kinds[i], r.t.rs.oids[i], v)
		if len(b) > 2 && &b[0] == &free[:1][0] { // written in place
			r.tbuf = r.tbuf[:len(r.tbuf)+len(b)]
			return r.text(unsafe.String(&b[1], len(b)-2))
		}
	}
	var buf [48]byte // a quoted time or UUID fits: only the string is allocated
	b := appendColumn(buf[:0], r.t.rs.kinds[i], r.t.rs.oids[i], v)
	return r.text(string(b[1 : len(b)-1]))
}

func (r *pgRow) decode(i int) any {
	v, pre := r.col(i)
	if !pre {
		switch r.t.rs.kinds[i] {
		case pgText:
			// Its JSON decodes to the text itself unless it is not UTF-8 (encoding/json writes
			// U+FFFD for each bad byte): quotes, backslashes and controls come back as they were.
			if utf8.ValidString(v) {
				return r.text(v)
			}
		case pgBool:
			return len(v) > 0 && v[0] == 't'
		case pgInt:
			return json.Number(v)
		case pgFloat:
			if c := v[len(v)-1]; c >= '0' && c <= '9' { // not NaN, Infinity or -Infinity
				return json.Number(v)
			}
			return v
		case pgTimestamptz, pgTimestamp, pgDate, pgTimeBin, pgDateBin, pgUUIDBin:
			return r.formatted(i, v)
		case pgBoolBin:
			return v[0] != 0
		}
	}
	js := v
	if !pre {
		if k := r.t.rs.kinds[i]; k == pgJSON && r.t.rs.oids[i] == pgtype.JSONBOID {
			js = v // jsonb's text is its JSON
		} else {
			js = string(appendColumn(nil, k, r.t.rs.oids[i], v))
		}
	}
	d, err := decodeString(js)
	if err != nil { // PostgreSQL's own JSON, or JSON take checked: it decodes
		return v
	}
	return d
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

// appendColumn writes one value PostgreSQL sent (direct said it can be) as JSON.
func appendColumn(b []byte, k pgKind, oid uint32, v string) []byte {
	switch k {
	case pgBool:
		return strconv.AppendBool(b, len(v) > 0 && v[0] == 't')
	case pgInt:
		return append(b, v...)
	case pgFloat:
		if c := v[len(v)-1]; c >= '0' && c <= '9' {
			return append(b, v...)
		}
		return appendStringBytes(b, []byte(v))
	case pgJSON:
		// PostgreSQL holds only valid JSON; jsonb prints on one line, json as it was typed,
		// so json is compacted: a record must stay one line when written back as JSONL.
		if oid == pgtype.JSONBOID {
			return append(b, v...)
		}
		return appendCompact(b, []byte(v))
	case pgTimestamptz: // 2024-01-15 10:30:00.123456+00 -> 2024-01-15T10:30:00.123456Z
		n := len(v)
		return append(append(append(append(append(b, '"'), v[:10]...), 'T'), v[11:n-3]...), 'Z', '"')
	case pgTimestamp: // no zone: taken as UTC
		return append(append(append(append(append(b, '"'), v[:10]...), 'T'), v[11:]...), 'Z', '"')
	case pgDate:
		return append(append(append(b, '"'), v...), "T00:00:00Z\""...)
	case pgBoolBin:
		return strconv.AppendBool(b, v[0] != 0)
	case pgUUIDBin:
		return appendUUID(append(b, '"'), v)
	case pgTimeBin:
		return appendPGTime(b, int64(be(v)), time.Microsecond)
	case pgDateBin:
		return appendPGTime(b, int64(int32(be(v))), 24*time.Hour)
	}
	return appendStringBytes(b, []byte(v))
}

// be reads a big-endian unsigned integer of len(s) bytes (4 or 8).
func be(s string) uint64 {
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n<<8 | uint64(s[i])
	}
	return n
}

// pgEpoch is where PostgreSQL's binary times count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// appendPGTime writes a binary time or date (n units after pgEpoch) as a quoted RFC 3339
// string in UTC, as the text path writes it; PostgreSQL's infinities (the type's extremes)
// are written as it prints them.
func appendPGTime(b []byte, n int64, unit time.Duration) []byte {
	switch {
	case n == math.MaxInt64 || unit == 24*time.Hour && n == math.MaxInt32:
		return append(b, `"infinity"`...)
	case n == math.MinInt64 || unit == 24*time.Hour && n == math.MinInt32:
		return append(b, `"-infinity"`...)
	}
	if b, ok := appendPGTimeFast(b, n, unit); ok {
		return b
	}
	return appendPGTimeByTime(b, n, unit)
}

// appendPGTimeByTime is appendPGTime's formatting through time.Time, for any year.
func appendPGTimeByTime(b []byte, n int64, unit time.Duration) []byte {
	var t time.Time
	if unit == time.Microsecond {
		t = pgEpoch.Add(time.Duration(n%86400e6)*time.Microsecond).AddDate(0, 0, int(n/86400e6))
	} else {
		t = pgEpoch.AddDate(0, 0, int(n))
	}
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}

// appendPGTimeFast is appendPGTime's formatting for years 1 to 9999, by arithmetic on the
// day number (a million rows' time.Time arithmetic and AppendFormat showed in profiles); ok
// false for the rest, which time formats.
func appendPGTimeFast(b []byte, n int64, unit time.Duration) ([]byte, bool) {
	var days, us int64
	if unit == time.Microsecond {
		days, us = n/86400e6, n%86400e6
		if us < 0 {
			days, us = days-1, us+86400e6
		}
	} else {
		days = n
	}
	y, m, d := civil(days + 10957) // days from 1970-01-01 to pgEpoch
	if y < 1 || y > 9999 {
		return b, false
	}
	sec := us / 1e6
	frac := us % 1e6
	b = append(b, '"')
	b = append4(b, int(y))
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(sec/3600))
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	if frac != 0 {
		var f [7]byte
		f[0] = '.'
		for i := 6; i >= 1; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
		}
		end := 7
		for f[end-1] == '0' {
			end--
		}
		b = append(b, f[:end]...)
	}
	return append(b, 'Z', '"'), true
}

// civil is the proleptic Gregorian date of a day number counted from 1970-01-01 (Howard
// Hinnant's days_from_civil, inverted).
func civil(z int64) (y int64, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendUUID writes 16 bytes as the 8-4-4-4-12 hex text PostgreSQL prints, and the closing quote.
func appendUUID(b []byte, u string) []byte {
	const hexd = "0123456789abcdef"
	for i, c := range []byte(u) {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[c>>4], hexd[c&0xf])
	}
	return append(b, '"')
}
