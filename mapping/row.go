package mapping

import "strings"

// Columns are a query's column names, shared by every row it returns: a row record finds a
// key through this one index instead of a map of its own.
type Columns struct {
	names []string
	index map[string]int
}

// NewColumns indexes names (distinct, as a query's result columns must be).
func NewColumns(names []string) *Columns {
	c := &Columns{names: names, index: make(map[string]int, len(names))}
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

// RowRecord is ObjectRecord for a row held by column: keys are its non-NULL columns in order.
// Rows with the same NULL columns should share one keys slice: the mapping's per-shape plan
// and the unread-column check then recognise the shape without comparing it.
func RowRecord(c *Columns, keys []string, row RowValues) Record {
	if len(keys) == 0 {
		keys = nil
	}
	return &jsonRecord{keys: keys, cols: c, row: row}
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

// walkTop is walkPath over the record's top level: the longest key that prefixes p first.
func (r *jsonRecord) walkTop(p string) (any, bool) {
	if r.cols == nil {
		return walkPath(r.values, p, true)
	}
	if c, ok := r.get(p); ok {
		if v, ok := walkPath(c, "", false); ok {
			return v, true
		}
	}
	for d := strings.LastIndexByte(p, '.'); d >= 0; d = strings.LastIndexByte(p[:d], '.') {
		if c, ok := r.get(p[:d]); ok {
			if v, ok := walkPath(c, p[d+1:], true); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// sameKeys tells whether a and b are one slice (the shared keys of rows of one shape).
func sameKeys(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
