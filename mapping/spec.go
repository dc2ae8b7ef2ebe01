package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
)

// expr is one value expression of a mapping file. Exactly one source is set.
type expr struct {
	from     []string // keys or dotted paths
	fromList bool     // written as a list: a list target takes them all, others the first present
	konst    any
	isConst  bool
	object   map[string]*expr
	split    *expr    // split a text value on sep into a list
	sep      string   // join
	seps     []string // split: any of these separates items
	time     *expr    // read a time per layout, write RFC 3339
	layout   string
	firstOf  *expr // the given name(s) of a full name
	lastOf   *expr // the family name of a full name
	e164     *expr // a phone number stripped of spaces, dashes, dots and parentheses, with a leading +
	join     []*expr
	option   string  // a PresetOptions value
	required bool    // option: absence is an error rather than an absent value
	coalesce []*expr // the first present of these
	future   *expr   // a time: true when after now, false when not
	prefixed string  // an object of every top-level key with this prefix (prefix dropped)
	digest   *expr   // a password digest, its kind detected
	kinds    []string
	part     string  // digest: "digest" (converted for Clerk) or "hasher"
	when     []*cond // all must hold

	refs atomic.Pointer[exprRefs] // the from keys' columns in the rows of the last query seen
}

// cond gates an expression: with equals, the value must equal it; without, it must be present.
type cond struct {
	value     *expr
	equals    any
	hasEquals bool
	sameAs    *expr // with same_as, the value must equal this one's (text, case-insensitively)
	not       bool
}

var timeLayouts = []string{"auto", "rfc3339", "unix", "unix_ms", "postgres"}

var sourceKeys = []string{"from", "const", "object", "split", "time", "first_of", "last_of", "e164", "join", "option",
	"coalesce", "future", "prefixed", "digest"}

// digestKinds are the digest forms the digest expression recognises.
var digestKinds = []string{"bcrypt", "argon2", "fbscrypt", "betterauth_scrypt"}

// parseExpr reads one expression; at names where it sits, for error messages.
func parseExpr(raw json.RawMessage, at string) (*expr, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if s == "" {
			return nil, fmt.Errorf("%s: empty key", at)
		}
		return &expr{from: []string{s}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%s: an expression is a JSON object such as {\"from\": \"column\"} or a column name", at)
	}
	return parseExprMap(m, at)
}

func parseExprMap(m map[string]json.RawMessage, at string) (*expr, error) {
	e := &expr{}
	var src []string
	for k := range m {
		switch {
		case slices.Contains(sourceKeys, k):
			src = append(src, k)
		case k == "when" || k == "required":
		default:
			return nil, fmt.Errorf("%s: unknown key %q%s (want one of %s, and optionally when)", at, k,
				didYouMean(k, append(slices.Clip(sourceKeys), "when", "required")), strings.Join(sourceKeys, ", "))
		}
	}
	sort.Strings(src)
	if len(src) != 1 {
		if len(src) == 0 {
			return nil, fmt.Errorf("%s: expression needs one of %s", at, strings.Join(sourceKeys, ", "))
		}
		return nil, fmt.Errorf("%s: expression has both %q and %q; use one", at, src[0], src[1])
	}
	k := src[0]
	v := m[k]
	sub := at + "." + k
	var err error
	switch k {
	case "from":
		e.from, e.fromList, err = parseKeys(v, sub)
	case "const":
		e.isConst = true
		e.konst, err = decodeJSON(string(v))
		if err != nil {
			err = fmt.Errorf("%s: %w", sub, err)
		}
	case "object":
		var om map[string]json.RawMessage
		if json.Unmarshal(v, &om) != nil || om == nil {
			return nil, fmt.Errorf("%s: want an object of name: expression", sub)
		}
		e.object = make(map[string]*expr, len(om))
		for name, sv := range om {
			if e.object[name], err = parseExpr(sv, sub+"."+name); err != nil {
				return nil, err
			}
		}
	case "split":
		e.split, e.seps, err = parseSplit(v, sub)
	case "time":
		e.time, e.layout, err = parseWithParam(v, sub, "layout")
		if err == nil {
			if e.layout == "" {
				e.layout = "auto"
			}
			if !slices.Contains(timeLayouts, e.layout) {
				err = fmt.Errorf("%s: unknown layout %q (want one of %s)", sub, e.layout, strings.Join(timeLayouts, ", "))
			}
		}
	case "first_of":
		e.firstOf, err = parseExpr(v, sub)
	case "last_of":
		e.lastOf, err = parseExpr(v, sub)
	case "e164":
		e.e164, err = parseExpr(v, sub)
	case "join":
		var jm struct {
			Parts []json.RawMessage `json:"parts"`
			Sep   *string           `json:"sep"`
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if dec.Decode(&jm) != nil || len(jm.Parts) == 0 || jm.Sep == nil {
			return nil, fmt.Errorf("%s: want {\"parts\": [expression, ...], \"sep\": \"...\"}", sub)
		}
		e.sep = *jm.Sep
		for i, p := range jm.Parts {
			pe, err := parseExpr(p, fmt.Sprintf("%s.parts.%d", sub, i))
			if err != nil {
				return nil, err
			}
			e.join = append(e.join, pe)
		}
	case "option":
		if json.Unmarshal(v, &e.option) != nil || !slices.Contains(optionNames, e.option) {
			return nil, fmt.Errorf("%s: want one of %s", sub, strings.Join(optionNames, ", "))
		}
	case "coalesce":
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil || len(list) == 0 {
			return nil, fmt.Errorf("%s: want a non-empty list of expressions", sub)
		}
		for i, le := range list {
			ce, err := parseExpr(le, fmt.Sprintf("%s.%d", sub, i))
			if err != nil {
				return nil, err
			}
			e.coalesce = append(e.coalesce, ce)
		}
	case "future":
		e.future, err = parseExpr(v, sub)
	case "prefixed":
		if json.Unmarshal(v, &e.prefixed) != nil || e.prefixed == "" {
			return nil, fmt.Errorf("%s: want a non-empty key prefix", sub)
		}
	case "digest":
		e.digest, e.kinds, e.part, err = parseDigest(v, sub)
	}
	if err != nil {
		return nil, err
	}
	if r, ok := m["required"]; ok {
		if k != "option" || json.Unmarshal(r, &e.required) != nil {
			return nil, fmt.Errorf("%s.required: only an option takes required: true|false", at)
		}
	}
	if w, ok := m["when"]; ok {
		var list []json.RawMessage
		if json.Unmarshal(w, &list) != nil {
			list = []json.RawMessage{w}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s.when: want a condition or a non-empty list of them", at)
		}
		for i, cw := range list {
			cat := at + ".when"
			if len(list) > 1 {
				cat = fmt.Sprintf("%s.when.%d", at, i)
			}
			c, err := parseCond(cw, cat)
			if err != nil {
				return nil, err
			}
			e.when = append(e.when, c)
		}
	}
	return e, nil
}

// parseSplit reads {expression, "sep": "," or [",", "|"]}: any of the separators splits.
func parseSplit(v json.RawMessage, at string) (*expr, []string, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || m == nil {
		return nil, nil, fmt.Errorf("%s: want an object: an expression plus \"sep\"", at)
	}
	var seps []string
	var one string
	if json.Unmarshal(m["sep"], &one) == nil {
		seps = []string{one}
	} else if json.Unmarshal(m["sep"], &seps) != nil {
		seps = nil
	}
	if len(seps) == 0 || slices.Contains(seps, "") {
		return nil, nil, fmt.Errorf("%s: needs a non-empty \"sep\" (a string, or a list of them)", at)
	}
	delete(m, "sep")
	e, err := parseExprMap(m, at)
	return e, seps, err
}

// parseDigest reads {expression, "kinds": [...], "part": "digest"|"hasher"}.
func parseDigest(v json.RawMessage, at string) (*expr, []string, string, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || m == nil {
		return nil, nil, "", fmt.Errorf("%s: want an object: an expression plus \"kinds\" and \"part\"", at)
	}
	var kinds []string
	var part string
	if json.Unmarshal(m["kinds"], &kinds) != nil || len(kinds) == 0 {
		return nil, nil, "", fmt.Errorf("%s.kinds: want a list of %s", at, strings.Join(digestKinds, ", "))
	}
	for _, k := range kinds {
		if !slices.Contains(digestKinds, k) {
			return nil, nil, "", fmt.Errorf("%s.kinds: unknown kind %q (want %s)", at, k, strings.Join(digestKinds, ", "))
		}
	}
	if json.Unmarshal(m["part"], &part) != nil || part != "digest" && part != "hasher" {
		return nil, nil, "", fmt.Errorf("%s.part: want \"digest\" or \"hasher\"", at)
	}
	delete(m, "kinds")
	delete(m, "part")
	e, err := parseExprMap(m, at)
	return e, kinds, part, err
}

func parseKeys(v json.RawMessage, at string) ([]string, bool, error) {
	var one string
	if json.Unmarshal(v, &one) == nil {
		if one == "" {
			return nil, false, fmt.Errorf("%s: empty key", at)
		}
		return []string{one}, false, nil
	}
	var many []string
	if json.Unmarshal(v, &many) != nil || len(many) == 0 || slices.Contains(many, "") {
		return nil, false, fmt.Errorf("%s: want a key or a non-empty list of keys", at)
	}
	return many, true, nil
}

// parseWithParam reads {"<param>": "...", ...expression} as used by split and time.
func parseWithParam(v json.RawMessage, at, param string) (*expr, string, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || m == nil {
		return nil, "", fmt.Errorf("%s: want an object: an expression plus %q", at, param)
	}
	var p string
	if pv, ok := m[param]; ok {
		if json.Unmarshal(pv, &p) != nil {
			return nil, "", fmt.Errorf("%s.%s: want a string", at, param)
		}
		delete(m, param)
	}
	e, err := parseExprMap(m, at)
	return e, p, err
}

func parseCond(v json.RawMessage, at string) (*cond, error) {
	var key string
	if json.Unmarshal(v, &key) == nil && key != "" {
		return &cond{value: &expr{from: []string{key}}}, nil // "when": "column": it is present
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || m == nil {
		return nil, fmt.Errorf("%s: want an object such as {\"from\": \"verified\", \"equals\": true}", at)
	}
	c := &cond{}
	if ev, ok := m["equals"]; ok {
		var err error
		if c.equals, err = decodeJSON(string(ev)); err != nil {
			return nil, fmt.Errorf("%s.equals: %w", at, err)
		}
		c.hasEquals = true
		delete(m, "equals")
	}
	if nv, ok := m["not"]; ok {
		if json.Unmarshal(nv, &c.not) != nil {
			return nil, fmt.Errorf("%s.not: want true or false", at)
		}
		delete(m, "not")
	}
	if sv, ok := m["same_as"]; ok {
		if c.hasEquals {
			return nil, fmt.Errorf("%s: give equals or same_as, not both", at)
		}
		var err error
		if c.sameAs, err = parseExpr(sv, at+".same_as"); err != nil {
			return nil, err
		}
		delete(m, "same_as")
	}
	var err error
	c.value, err = parseExprMap(m, at)
	return c, err
}

// render is the canonical JSON form of e (maps marshal with sorted keys).
func (e *expr) render() map[string]any {
	m := map[string]any{}
	switch {
	case e.from != nil:
		if e.fromList {
			m["from"] = e.from
		} else {
			m["from"] = e.from[0]
		}
	case e.isConst:
		m["const"] = e.konst
	case e.object != nil:
		o := map[string]any{}
		for k, v := range e.object {
			o[k] = v.render()
		}
		m["object"] = o
	case e.split != nil:
		s := e.split.render()
		if len(e.seps) == 1 {
			s["sep"] = e.seps[0]
		} else {
			s["sep"] = e.seps
		}
		m["split"] = s
	case e.time != nil:
		t := e.time.render()
		t["layout"] = e.layout
		m["time"] = t
	case e.firstOf != nil:
		m["first_of"] = e.firstOf.render()
	case e.lastOf != nil:
		m["last_of"] = e.lastOf.render()
	case e.e164 != nil:
		m["e164"] = e.e164.render()
	case e.join != nil:
		parts := make([]any, len(e.join))
		for i, p := range e.join {
			parts[i] = p.render()
		}
		m["join"] = map[string]any{"parts": parts, "sep": e.sep}
	case e.option != "":
		m["option"] = e.option
		if e.required {
			m["required"] = true
		}
	case e.coalesce != nil:
		l := make([]any, len(e.coalesce))
		for i, c := range e.coalesce {
			l[i] = c.render()
		}
		m["coalesce"] = l
	case e.future != nil:
		m["future"] = e.future.render()
	case e.prefixed != "":
		m["prefixed"] = e.prefixed
	case e.digest != nil:
		d := e.digest.render()
		d["kinds"], d["part"] = e.kinds, e.part
		m["digest"] = d
	}
	if len(e.when) > 0 {
		ws := make([]any, len(e.when))
		for i, c := range e.when {
			w := c.value.render()
			if c.hasEquals {
				w["equals"] = c.equals
			}
			if c.sameAs != nil {
				w["same_as"] = c.sameAs.render()
			}
			if c.not {
				w["not"] = true
			}
			ws[i] = w
		}
		if len(ws) == 1 {
			m["when"] = ws[0]
		} else {
			m["when"] = ws
		}
	}
	return m
}

// keys adds every record key e may read to set, with each dotted prefix of a path.
func (e *expr) keys(set map[string]bool) {
	if e == nil {
		return
	}
	for _, k := range e.from {
		parts := strings.Split(k, ".")
		for i := 1; i <= len(parts); i++ {
			set[strings.Join(parts[:i], ".")] = true
		}
	}
	for _, s := range e.object {
		s.keys(set)
	}
	for _, s := range e.join {
		s.keys(set)
	}
	if e.prefixed != "" {
		set[prefixMark+e.prefixed] = true
	}
	for _, s := range e.coalesce {
		s.keys(set)
	}
	for _, s := range []*expr{e.split, e.time, e.firstOf, e.lastOf, e.e164, e.future, e.digest} {
		s.keys(set)
	}
	for _, c := range e.when {
		c.value.keys(set)
		c.sameAs.keys(set)
	}
}

// file is a mapping file's top level.
type file struct {
	Name        string                     `json:"name,omitempty"`
	Description string                     `json:"description,omitempty"`
	Export      string                     `json:"export,omitempty"`
	Carries     string                     `json:"carries,omitempty"`
	Formats     []string                   `json:"formats,omitempty"`
	CSVHeader   []string                   `json:"csv_header,omitempty"`
	CSVHeaders  [][]string                 `json:"csv_headers,omitempty"`
	Fields      map[string]json.RawMessage `json:"fields"`
	presetRules
	// Options is what Spec shows of bound options; Parse ignores it (bind with Bind).
	Options map[string]any `json:"options,omitempty"`
}

// Parse compiles a JSON mapping file: {"fields": {"<API field>": expression, ...}}.
// Errors name the field and the offending key. An "options" object (as Spec writes it) is
// ignored: option values are bound with Bind.
func Parse(spec []byte) (*Mapping, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("mapping: %w", decodeError(spec, err))
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("mapping: data after the mapping object")
	}
	if len(f.Fields) == 0 {
		return nil, errors.New("mapping: \"fields\" is missing or empty: " + fieldsShape)
	}
	m := &Mapping{info: PresetInfo{Name: f.Name, Description: f.Description, Formats: f.Formats, Export: f.Export, Carries: f.Carries},
		exprs: map[string]*expr{}}
	switch {
	case f.CSVHeader != nil && f.CSVHeaders != nil:
		return nil, errors.New("mapping: give csv_header or csv_headers, not both")
	case f.CSVHeader != nil:
		m.csvHeaders = [][]string{f.CSVHeader}
	case f.CSVHeaders != nil:
		for i, h := range f.CSVHeaders {
			if len(h) == 0 || slices.ContainsFunc(f.CSVHeaders[:i], func(o []string) bool { return len(o) == len(h) }) {
				return nil, fmt.Errorf("mapping: csv_headers.%d: empty, or a width given twice", i)
			}
		}
		m.csvHeaders = f.CSVHeaders
	}
	if err := m.parseRules(&f); err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	for name, raw := range f.Fields {
		if _, ok := targetByName[name]; !ok {
			return nil, fmt.Errorf("mapping: fields.%s: not a field of POST /v1/users%s", name, didYouMean(name, targetNames()))
		}
		e, err := parseExpr(raw, "fields."+name)
		if err != nil {
			return nil, fmt.Errorf("mapping: %w", err)
		}
		m.exprs[name] = e
	}
	m.finish()
	return m, nil
}

// Spec is the mapping's canonical JSON (indented, keys sorted, no trailing newline): stable
// for equal mappings, so it can be hashed, and a valid mapping file.
func (m *Mapping) Spec() []byte {
	fields := map[string]any{}
	for name, e := range m.exprs {
		fields[name] = e.render()
	}
	out := map[string]any{"fields": fields}
	if m.info.Name != "" {
		out["name"] = m.info.Name
	}
	if m.info.Description != "" {
		out["description"] = m.info.Description
	}
	if m.info.Export != "" {
		out["export"] = m.info.Export
	}
	if m.info.Carries != "" {
		out["carries"] = m.info.Carries
	}
	if len(m.info.Formats) > 0 {
		out["formats"] = m.info.Formats
	}
	switch len(m.csvHeaders) {
	case 0:
	case 1:
		out["csv_header"] = m.csvHeaders[0]
	default:
		out["csv_headers"] = m.csvHeaders
	}
	m.renderRules(out)
	if len(m.optionsSummary) > 0 {
		out["options"] = m.optionsSummary
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		panic(fmt.Sprintf("mapping: rendering spec: %v", err)) // only JSON values are stored
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
