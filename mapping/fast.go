package mapping

import (
	"strings"
	"sync/atomic"
	"unsafe"
)

// compiled is what Apply needs per row, worked out once per Mapping: the expression of each
// target by position, and the column plan for the last CSV header seen.
type compiled struct {
	exprs []*expr // by index into targets; nil: the mapping leaves that field alone
	plan  atomic.Pointer[csvPlan]
}

func compile(exprs map[string]*expr) *compiled {
	c := &compiled{exprs: make([]*expr, len(targets))}
	for i, t := range targets {
		c.exprs[i] = exprs[t.name]
	}
	return c
}

// compiledFor returns m's compiled form; a Mapping built without a constructor gets a fresh one.
func (m *Mapping) compiledFor() *compiled {
	if m.comp != nil {
		return m.comp
	}
	return compile(m.exprs)
}

// csvPlan says, for one CSV header, which columns each plain "from" target reads, so a row is
// mapped by index without scanning the header or boxing cells into interfaces.
type csvPlan struct {
	header []string
	cols   [][]int // by target index: columns in key order; nil: evaluate the expression generically
}

// planFor returns the plan for header, building and caching it on a change of header.
// Rows of one input share one header, so the cache almost always hits.
func (c *compiled) planFor(header []string) *csvPlan {
	if p := c.plan.Load(); p != nil && sameHeader(p.header, header) {
		return p
	}
	p := &csvPlan{header: header, cols: make([][]int, len(targets))}
	for i, e := range c.exprs {
		if e == nil || e.when != nil || e.from == nil {
			continue
		}
		cols := []int{}
		for _, k := range e.from {
			if strings.Contains(k, ".") {
				cols = nil // a dotted path may reach into a JSON cell: the generic path walks it
				break
			}
			if col := indexOf(header, k); col >= 0 {
				cols = append(cols, col)
			}
		}
		p.cols[i] = cols
	}
	c.plan.Store(p)
	return p
}

func indexOf(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i // the first column of that name, as csvRecord.cell finds it
		}
	}
	return -1
}

func sameHeader(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b) {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cellsOf returns the present cells (not blank) of cols, in order, into buf.
func cellsOf(buf []string, cells []string, cols []int) []string {
	for _, c := range cols {
		if c < len(cells) && strings.TrimSpace(cells[c]) != "" {
			buf = append(buf, cells[c])
		}
	}
	return buf
}

// assignText is assign for CSV cells, taking the same decisions without interface values.
// vals are the present cells the target's keys found, in key order.
func (t *target) assignText(p *CreateUserParams, vals []string, res *reserved) error {
	if len(vals) == 0 {
		return nil
	}
	switch t.kind {
	case kindString:
		s := vals[0]
		if !t.secret {
			s = strings.TrimSpace(s)
		}
		t.str(p, res.text(s))
	case kindList:
		var l []string
		for _, s := range vals {
			var err error
			if l, err = appendText(l, s, t.secret); err != nil {
				return err
			}
		}
		t.putList(p, l, res)
	case kindBool:
		b, ok := textBool(vals[0])
		if !ok {
			return invalid("%v", errBool)
		}
		t.boolf(p, b)
	case kindInt:
		return t.assign(p, vals[0], true, res)
	case kindMeta:
		raw, err := metaText(vals[0])
		if err != nil || raw == nil {
			return err
		}
		t.meta(p, raw)
	}
	return nil
}

// appendText is appendItem for a CSV cell: a JSON array, or comma-separated items.
func appendText(out []string, s string, secret bool) ([]string, error) {
	ts := strings.TrimSpace(s)
	if strings.HasPrefix(ts, "[") {
		return appendItem(out, s, true, secret)
	}
	for s != "" {
		part := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out, nil
}
