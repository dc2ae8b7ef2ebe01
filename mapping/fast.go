package mapping

import (
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"
)

// compiled is what Apply needs per row, worked out once per Mapping: the expression of each
// target by position, and the column plan for the last CSV header seen.
type compiled struct {
	exprs []*expr  // by index into targets; nil: the mapping leaves that field alone
	read  []string // the keys the mapping reads, sorted: resolved against each header once
	plan  atomic.Pointer[csvPlan]
	jplan atomic.Pointer[jsonPlan]

	readSet map[string]bool     // read, as a set
	byNorm  map[string][]string // normKey -> the top-level keys read that normalise to it

	// needs, by target: the top-level keys its value comes from, when it is surely absent
	// without all of them (nil: it may have a value regardless, a constant say).
	needs [][]string
}

func compile(exprs map[string]*expr, read map[string]bool) *compiled {
	c := &compiled{exprs: make([]*expr, len(targets))}
	for i, t := range targets {
		c.exprs[i] = exprs[t.name]
	}
	c.readSet, c.byNorm = map[string]bool{}, map[string][]string{}
	for k := range read {
		c.read = append(c.read, k)
		c.readSet[k] = true
	}
	slices.Sort(c.read)
	for _, k := range c.read {
		if !strings.Contains(k, ".") {
			n := normKey(k)
			c.byNorm[n] = append(c.byNorm[n], k)
		}
	}
	c.needs = make([][]string, len(targets))
	for i, e := range c.exprs {
		set := map[string]bool{}
		if e != nil && e.valueNeeds(set) {
			c.needs[i] = slices.Sorted(maps.Keys(set))
		}
	}
	return c
}

// compiledFor returns m's compiled form; a Mapping built without a constructor gets a fresh one.
func (m *Mapping) compiledFor() *compiled {
	if m.comp != nil {
		return m.comp
	}
	return compile(m.exprs, m.read)
}

// csvPlan says, for one CSV header, which column each key the mapping reads is (matched
// exactly, else as people write it), and which columns each simple target reads, so a row is
// mapped by index without scanning the header or boxing cells into interfaces.
type csvPlan struct {
	header  []string
	index   map[string]int // key -> column; -1: absent (or ambiguous)
	targets []*fastTarget  // by target index; nil: evaluate the expression generically
	err     *AmbiguousError
}

// fastTarget reads a target from cells: the first alternative with a present cell (and
// whose condition holds) gives the values; when none does, rest (if any) is evaluated
// generically: the parts of a coalesce the shortcut cannot take.
type fastTarget struct {
	alts []fastAlt
	rest *expr
	none bool // no alternative has a column and there is no rest: the field stays unset
}

type fastAlt struct {
	cols     []int
	fromList bool
	cond     []fastCond
}

// fastCond is a when on plain keys, read from cells.
type fastCond struct {
	cols []int
	c    *cond
}

func (p *csvPlan) target(i int) *fastTarget {
	if p == nil {
		return nil
	}
	return p.targets[i]
}

// values returns the cells of the first alternative that has any, and whether one had.
func (ft *fastTarget) values(buf, cells []string, rules *cellRules) ([]string, bool) {
	for _, a := range ft.alts {
		if len(a.cols) == 0 || !a.holds(cells, rules) {
			continue
		}
		vals := cellsOf(buf, cells, a.cols, rules)
		if len(vals) == 0 {
			continue
		}
		if !a.fromList && len(vals) > 1 {
			vals = vals[:1] // a single key: eval returns its value, not a list
		}
		return vals, true
	}
	return nil, false
}

func (a *fastAlt) holds(cells []string, rules *cellRules) bool {
	for _, fc := range a.cond {
		var v any
		for _, col := range fc.cols {
			if col < len(cells) {
				if s, ok := rules.clean(cells[col]); ok {
					v = s
					break
				}
			}
		}
		ok := v != nil
		if fc.c.hasEquals {
			ok = looseEqual(v, fc.c.equals)
		}
		if ok == fc.c.not {
			return false
		}
	}
	return true
}

// planFor returns the plan for header, building and caching it on a change of header.
// Rows of one input share one header, so the cache almost always hits.
func (c *compiled) planFor(header []string) *csvPlan {
	if p := c.plan.Load(); p != nil && sameHeader(p.header, header) {
		return p
	}
	p := &csvPlan{header: header, index: make(map[string]int, len(c.read)), targets: make([]*fastTarget, len(targets))}
	// Exact names first; a column another key names exactly is not also matched loosely.
	exact := map[int]bool{}
	var loose []string
	for _, k := range c.read {
		if i := slices.Index(header, k); i >= 0 {
			p.index[k] = i
			exact[i] = true
		} else {
			loose = append(loose, k)
		}
	}
	for _, k := range loose {
		n := normKey(k)
		p.index[k] = -1
		var cols []string
		for i, h := range header {
			if !exact[i] && normKey(h) == n {
				if len(cols) == 0 {
					p.index[k] = i
				}
				cols = append(cols, h)
			}
		}
		if len(cols) > 1 {
			p.index[k] = -1
			if p.err == nil {
				p.err = &AmbiguousError{Key: k, Columns: cols[:2]}
			}
		}
	}
	for i, e := range c.exprs {
		if e != nil {
			if ft := p.fast(e); ft != nil {
				ft.none = ft.rest == nil && !slices.ContainsFunc(ft.alts, func(a fastAlt) bool { return len(a.cols) > 0 })
				p.targets[i] = ft
			}
		}
	}
	c.plan.Store(p)
	return p
}

// jsonPlan is, for one set of JSON keys, which keys the mapping reads match a record key only
// as people write it; most inputs have none, and then lookups are exact and cost nothing more.
type jsonPlan struct {
	keys  []string
	loose map[string]string // mapping key -> record key
	err   *AmbiguousError
	skip  []bool // by target: none of the keys its value needs is in this shape
}

func (p *jsonPlan) resolve(k string) string { return p.loose[k] }

// jsonPlanFor returns the plan for a record's keys, cached while records keep one shape; a
// new shape costs one map look-up per record key.
func (c *compiled) jsonPlanFor(keys []string) *jsonPlan {
	if p := c.jplan.Load(); p != nil && (sameKeys(p.keys, keys) || slices.Equal(p.keys, keys)) {
		return p
	}
	p := &jsonPlan{keys: keys} // a record's keys are never changed
	var buf [64]byte
	for _, rk := range keys {
		if c.readSet[rk] {
			continue // read exactly: no other key matches it loosely
		}
		for _, k := range c.byNorm[string(normInto(buf[:0], rk))] {
			if slices.Contains(keys, k) {
				continue // the record has k as written
			}
			if prev, dup := p.loose[k]; dup {
				if p.err == nil {
					p.err = &AmbiguousError{Key: k, Columns: []string{prev, rk}}
				}
				continue
			}
			if p.loose == nil {
				p.loose = map[string]string{}
			}
			p.loose[k] = rk
		}
	}
	p.skip = make([]bool, len(targets))
	for i, need := range c.needs {
		p.skip[i] = need != nil && !slices.ContainsFunc(need, func(k string) bool {
			return slices.Contains(keys, k) || p.loose[k] != ""
		})
	}
	c.jplan.Store(p)
	return p
}

// valueNeeds adds to set the top-level keys e's value comes from and reports whether e is
// surely absent when none of them is present (conditions only ever take a value away).
func (e *expr) valueNeeds(set map[string]bool) bool {
	switch {
	case e.from != nil:
		for _, k := range e.from {
			if strings.HasPrefix(k, "join.") {
				return false // a joined row may supply it
			}
			head, _, _ := strings.Cut(k, ".")
			set[head] = true
		}
		return true
	case e.object != nil:
		for _, s := range e.object {
			if !s.valueNeeds(set) {
				return false
			}
		}
		return true
	case e.coalesce != nil:
		for _, s := range e.coalesce {
			if !s.valueNeeds(set) {
				return false
			}
		}
		return true
	case e.join != nil:
		any := false
		for _, s := range e.join {
			sub := map[string]bool{}
			if s.valueNeeds(sub) {
				any = true
				maps.Copy(set, sub)
			}
		}
		return any
	}
	for _, s := range []*expr{e.split, e.time, e.firstOf, e.lastOf, e.e164, e.future, e.digest} {
		if s != nil {
			return s.valueNeeds(set)
		}
	}
	return false // const, option, prefixed
}

// fast plans e for the shortcut, or returns nil when only the generic path can take it.
func (p *csvPlan) fast(e *expr) *fastTarget {
	if e.coalesce == nil {
		a, ok := p.alt(e)
		if !ok {
			return nil
		}
		return &fastTarget{alts: []fastAlt{a}}
	}
	if len(e.when) > 0 {
		return nil
	}
	ft := &fastTarget{}
	for i, part := range e.coalesce {
		a, ok := p.alt(part)
		if !ok {
			if i == 0 {
				return nil
			}
			ft.rest = &expr{coalesce: e.coalesce[i:]}
			break
		}
		ft.alts = append(ft.alts, a)
	}
	return ft
}

// alt plans a plain from (no dotted paths: they may reach into a JSON cell) with plain
// conditions.
func (p *csvPlan) alt(e *expr) (fastAlt, bool) {
	cols, ok := p.plainCols(e)
	if !ok {
		return fastAlt{}, false
	}
	a := fastAlt{cols: cols, fromList: e.fromList}
	for _, c := range e.when {
		if c.sameAs != nil || len(c.value.when) > 0 {
			return fastAlt{}, false
		}
		cc, ok := p.plainCols(c.value)
		if !ok {
			return fastAlt{}, false
		}
		a.cond = append(a.cond, fastCond{cols: cc, c: c})
	}
	return a, true
}

func (p *csvPlan) plainCols(e *expr) ([]int, bool) {
	if e.from == nil {
		return nil, false
	}
	cols := []int{}
	for _, k := range e.from {
		if strings.Contains(k, ".") {
			return nil, false
		}
		if col := p.index[k]; col >= 0 && !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
	}
	return cols, true
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

// cellsOf returns the present cells (not blank, not a declared NULL) of cols, in order, into buf.
func cellsOf(buf []string, cells []string, cols []int, rules *cellRules) []string {
	for _, c := range cols {
		if c < len(cells) {
			if s, ok := rules.clean(cells[c]); ok {
				buf = append(buf, s)
			}
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
		raw, encoded, err := metaText(vals[0])
		if err != nil || raw == nil {
			return err
		}
		t.meta(p, raw)
		if encoded {
			res.encoded.add(raw)
		}
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
