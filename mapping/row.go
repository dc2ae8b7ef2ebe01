package mapping

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/userimport/userimport/internal/inplace"
)

// Columns are a query's column names, shared by every row it returns: a row record finds a
// key through this one index instead of a map of its own, and a dotted key's columns are
// worked out once for all rows.
type Columns struct {
	index map[string]int

	mu   sync.Mutex
	refs atomic.Pointer[map[string]*colRefs] // copied on write: the mapping reads few keys
}

// colRefs is where a key may be found in a row: the columns to try, in lookup order (the
// key itself, then its dotted prefixes longest first, each with the path left to walk).
type colRefs struct {
	cands  []colRef
	dotted bool
	first  int // the column named by the key's first segment, or -1
}

type colRef struct {
	col  int
	rest string // "" for the key itself
}

// maxRefs bounds the keys remembered; past it a key is worked out on each look-up.
const maxRefs = 4096

func (c *Columns) refsFor(key string) *colRefs {
	if m := c.refs.Load(); m != nil {
		if r, ok := (*m)[key]; ok {
			return r
		}
	}
	r := &colRefs{first: -1}
	if i, ok := c.index[key]; ok {
		r.cands = append(r.cands, colRef{col: i})
	}
	if r.dotted = strings.Contains(key, "."); r.dotted {
		for d := strings.LastIndexByte(key, '.'); d >= 0; d = strings.LastIndexByte(key[:d], '.') {
			if i, ok := c.index[key[:d]]; ok {
				r.cands = append(r.cands, colRef{col: i, rest: key[d+1:]})
			}
		}
		first, _, _ := strings.Cut(key, ".")
		if i, ok := c.index[first]; ok {
			r.first = i
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.refs.Load()
	if old != nil && len(*old) >= maxRefs {
		return r
	}
	m := make(map[string]*colRefs, 1+len(derefs(old)))
	for k, v := range derefs(old) {
		m[k] = v
	}
	m[key] = r
	c.refs.Store(&m)
	return r
}

func derefs(m *map[string]*colRefs) map[string]*colRefs {
	if m == nil {
		return nil
	}
	return *m
}

// rowLookup is lookup for a row record: as lookup does it over a map, with the key's
// columns found once for all rows.
func (r *jsonRecord) rowLookup(key string, loose func(string) string) (any, bool) {
	return r.rowLookupRefs(r.cols.refsFor(key), key, loose)
}

// rowLookupRefs is rowLookup with key's columns already found.
func (r *jsonRecord) rowLookupRefs(refs *colRefs, key string, loose func(string) string) (any, bool) {
	for _, c := range refs.cands {
		if c.rest != "" && r.text != nil {
			if s, ok := r.text.JSONText(c.col); ok {
				if members, ok, _ := r.members(c.col, s); ok {
					if x, found, decided := pathIn(members, c.rest, r.room.boxes()); decided {
						if found {
							return x, true
						}
						continue
					}
				}
			}
		}
		v := r.row.Value(c.col)
		if v == nil {
			continue
		}
		if c.rest == "" {
			return present(v)
		}
		if x, ok := walkPath(v, c.rest, true); ok {
			return x, true
		}
	}
	if !refs.dotted {
		if k := loose(key); k != "" {
			v, _ := r.get(k)
			return present(v)
		}
		return nil, false
	}
	if refs.first < 0 || r.null(refs.first) {
		first, rest, _ := strings.Cut(key, ".")
		if k := loose(first); k != "" {
			v, _ := r.get(k)
			return walkPath(v, rest, true)
		}
	}
	return nil, false
}

// NewColumns indexes names (distinct, as a query's result columns must be).
func NewColumns(names []string) *Columns {
	c := &Columns{index: make(map[string]int, len(names))}
	for i, n := range names {
		c.index[n] = i
	}
	return c
}

// RowValues is one row's values by column, each as JSONRecord would decode it (string, bool,
// json.Number, map[string]any, []any), nil for NULL. A database reader decodes a column only
// when the mapping first asks for it: most rows never need most columns.
type RowValues interface {
	Value(col int) any
}

// RowText is what a RowValues may also offer, so that the mapping need not decode a column
// to learn what it wants from it.
type RowText interface {
	// Null tells whether column col is NULL.
	Null(col int) bool
	// JSONText is column col's JSON object as the database holds it (ok false when the column
	// is NULL or holds anything else). A path into it is then found by scanning the text, and
	// metadata taken from it whole is copied, not decoded and encoded again.
	JSONText(col int) (text string, ok bool)
	// Present is present(Value(col)) when the row can tell without decoding the column (known).
	Present(col int) (present, known bool)
}

// RowScratch is room a row may carry for what the mapping works out about it (its record, its
// JSON columns' members, the texts and bytes it writes, the view and params of its first
// Apply): a RowValues that embeds one and returns it from Scratch spares the mapping several
// allocations a row.
type RowScratch struct {
	rec  jsonRecord
	idx  textIndex
	strs [8]string // room for the texts the mapping works out (names, digests, times)
	box  inplace.Strings
	buf  [160]byte // room for the bytes it writes (metadata, times)
	used int
	// The row's first Apply takes its view, its params and its params' texts from here.
	applied bool
	view    view
	params  CreateUserParams
	texts   [8]string // its text fields
	lists   [4]string // its one-item lists
	flags   [2]bool   // its defaults' flags
}

// take is n bytes of room (length 0, capacity n): the row's while they last, else new ones.
// What is written there must never change after: strings and params refer to it.
func (sc *RowScratch) take(n int) []byte {
	if sc != nil && n <= len(sc.buf)-sc.used {
		b := sc.buf[sc.used : sc.used : sc.used+n]
		sc.used += n
		return b
	}
	return make([]byte, 0, n)
}

// boxes is the room for boxing texts; nil (ordinary boxing) without a scratch.
func (sc *RowScratch) boxes() *inplace.Strings {
	if sc == nil {
		return nil
	}
	return &sc.box
}

// scratchRow is a RowValues that carries a RowScratch.
type scratchRow interface {
	Scratch() *RowScratch
}

// roomFor is the room of the row record r views, or nil.
func roomFor(r Record) *RowScratch {
	if v, ok := r.(*view); ok {
		if jr, ok := v.base.(*jsonRecord); ok {
			return jr.room
		}
	}
	return nil
}

// boxIn is any(s), boxed in the room of the row record r views when it has one.
func boxIn(r Record, s string) any { return roomFor(r).boxes().Box(s) }

// null tells whether column col of a row record is NULL.
func (r *jsonRecord) null(col int) bool {
	if r.text != nil {
		return r.text.Null(col)
	}
	return r.row.Value(col) == nil
}

// RowRecord is ObjectRecord for a row held by column: keys are its non-NULL columns in order.
// Rows with the same NULL columns should share one keys slice: the mapping's per-shape plan
// and the unread-column check then recognise the shape without comparing it.
func RowRecord(c *Columns, keys []string, row RowValues) Record {
	if len(keys) == 0 {
		keys = nil
	}
	var sc *RowScratch
	if sr, ok := row.(scratchRow); ok {
		sc = sr.Scratch()
	}
	var jr *jsonRecord
	switch {
	case sc == nil:
		jr = &jsonRecord{}
	case sc.rec.row == nil: // the row's first record lives in its room
		jr, sc.box = &sc.rec, inplace.Make(sc.strs[:])
		jr.room, jr.tidx = sc, &sc.idx
	default: // what the index holds follows from the row: its records may share it
		jr = &jsonRecord{tidx: &sc.idx}
	}
	jr.keys, jr.cols, jr.row = keys, c, row
	jr.text, _ = row.(RowText)
	return jr
}

// get is a top-level key's value: false when absent (NULL, for a row).
func (r *jsonRecord) get(k string) (any, bool) {
	if r.cols == nil {
		v, ok := r.values[k]
		return v, ok
	}
	i, ok := r.cols.index[k]
	if !ok {
		return nil, false
	}
	v := r.row.Value(i)
	return v, v != nil
}

// sameKeys tells whether a and b are one slice (the shared keys of rows of one shape).
func sameKeys(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// exprRefs are an expression's from keys' columns in one query's rows, kept by the expression
// so that a row's look-up need not find them by name again.
type exprRefs struct {
	cols *Columns
	refs []*colRefs // by index into expr.from
}

// lookupFrom is r.Lookup(e.from[i]), for a row record through its columns found once.
func (e *expr) lookupFrom(r Record, i int) (any, bool) {
	if jr, refs, jp := e.rowRefs(r, i); jr != nil {
		loose := jr.resolve
		if jp != nil {
			loose = jp.resolve
		}
		return jr.rowLookupRefs(refs, e.from[i], loose)
	}
	return r.Lookup(e.from[i])
}

// rowRefs is the row record r views and e.from[i]'s columns in it, with the view's plan (whose
// loose key resolver it uses, when it has one); jr is nil when r is no plain view of a row
// record.
func (e *expr) rowRefs(r Record, i int) (jr *jsonRecord, refs *colRefs, jp *jsonPlan) {
	v, ok := r.(*view)
	if !ok || len(v.flatten) != 0 {
		return nil, nil, nil
	}
	if jr, ok = v.base.(*jsonRecord); !ok || jr.cols == nil || strings.HasPrefix(e.from[i], "join.") {
		return nil, nil, nil
	}
	er := e.refs.Load()
	if er == nil || er.cols != jr.cols {
		er = &exprRefs{cols: jr.cols, refs: make([]*colRefs, len(e.from))}
		for j, key := range e.from {
			er.refs[j] = jr.cols.refsFor(key)
		}
		e.refs.Store(er)
	}
	return jr, er.refs[i], v.jplan
}

// rowColumn is the column e (one from key, nothing else) takes whole from a row record that
// offers RowText: the first of the key's columns that is not NULL, or col -1 when all are.
// ok is false where the row's shortcuts do not apply (another record, another expression, or
// a first non-NULL column the key only reaches into): eval decides those.
func (e *expr) rowColumn(r Record) (jr *jsonRecord, refs *colRefs, jp *jsonPlan, col int, ok bool) {
	if len(e.from) != 1 || e.fromList || len(e.when) != 0 {
		return nil, nil, nil, 0, false
	}
	if jr, refs, jp = e.rowRefs(r, 0); jr == nil || jr.text == nil {
		return nil, nil, nil, 0, false
	}
	for _, c := range refs.cands {
		if !jr.text.Null(c.col) {
			return jr, refs, jp, c.col, c.rest == ""
		}
	}
	return jr, refs, jp, -1, true
}

// rowPresent tells whether e (one from key, nothing else) has a value in a row record, when the
// row can tell without decoding it (known).
func (e *expr) rowPresent(r Record) (present, known bool) {
	jr, refs, jp, col, ok := e.rowColumn(r)
	if !ok {
		return false, false
	}
	if col >= 0 {
		return jr.text.Present(col)
	}
	// Every column it names is NULL: absent, unless the key names another as people write it
	// (rowLookupRefs' last resort).
	key := e.from[0]
	if refs.dotted {
		if refs.first >= 0 && !jr.null(refs.first) {
			return false, true
		}
		key, _, _ = strings.Cut(key, ".")
	}
	loose := jr.resolve
	if jp != nil {
		loose = jp.resolve
	}
	return false, loose(key) == ""
}

// rowMeta is the metadata e (one from key, nothing else) reads from a row record, when its
// first non-NULL column is a JSON object taken whole: the object in canonical form, copied
// from the column's text. ok false leaves it to eval.
func (e *expr) rowMeta(r Record) (json.RawMessage, bool) {
	jr, _, _, col, ok := e.rowColumn(r)
	if !ok || col < 0 {
		return nil, false
	}
	s, ok := jr.text.JSONText(col)
	if !ok {
		return nil, false
	}
	members, ok, sep := jr.members(col, s)
	if !ok || sep {
		return nil, false
	}
	return canonicalMembers(members, jr.room)
}
