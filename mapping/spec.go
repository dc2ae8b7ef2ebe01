package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// expr is one value expression of a mapping file. Exactly one source is set.
type expr struct {
	from     []string // keys or dotted paths
	fromList bool     // written as a list: a list target takes them all, others the first present
	konst    any
	isConst  bool
	object   map[string]*expr
	split    *expr // split a text value on sep into a list
	sep      string
	time     *expr // read a time per layout, write RFC 3339
	layout   string
	firstOf  *expr // the given name(s) of a full name
	lastOf   *expr // the family name of a full name
	e164     *expr // a phone number stripped of spaces, dashes, dots and parentheses, with a leading +
	join     []*expr
	option   string // a PresetOptions value
	required bool   // option: absence is an error rather than an absent value
	when     *cond
}

// cond gates an expression: with equals, the value must equal it; without, it must be present.
type cond struct {
	value     *expr
	equals    any
	hasEquals bool
	not       bool
}

var timeLayouts = []string{"auto", "rfc3339", "unix", "unix_ms", "postgres"}

var sourceKeys = []string{"from", "const", "object", "split", "time", "first_of", "last_of", "e164", "join", "option"}

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
			return nil, fmt.Errorf("%s: unknown key %q (want one of %s, and optionally when)", at, k, strings.Join(sourceKeys, ", "))
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
		e.split, e.sep, err = parseWithParam(v, sub, "sep")
		if err == nil && e.sep == "" {
			err = fmt.Errorf("%s: needs a non-empty \"sep\"", sub)
		}
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
		if e.when, err = parseCond(w, at+".when"); err != nil {
			return nil, err
		}
	}
	return e, nil
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
		s["sep"] = e.sep
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
	}
	if e.when != nil {
		w := e.when.value.render()
		if e.when.hasEquals {
			w["equals"] = e.when.equals
		}
		if e.when.not {
			w["not"] = true
		}
		m["when"] = w
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
	e.split.keys(set)
	e.time.keys(set)
	e.firstOf.keys(set)
	e.lastOf.keys(set)
	e.e164.keys(set)
	if e.when != nil {
		e.when.value.keys(set)
	}
}

// file is a mapping file's top level.
type file struct {
	Name        string                     `json:"name,omitempty"`
	Description string                     `json:"description,omitempty"`
	Formats     []string                   `json:"formats,omitempty"`
	CSVHeader   []string                   `json:"csv_header,omitempty"`
	Fields      map[string]json.RawMessage `json:"fields"`
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
		return nil, fmt.Errorf("mapping: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("mapping: data after the mapping object")
	}
	if len(f.Fields) == 0 {
		return nil, errors.New("mapping: \"fields\" is missing or empty")
	}
	m := &Mapping{info: PresetInfo{Name: f.Name, Description: f.Description, Formats: f.Formats},
		csvHeader: f.CSVHeader, exprs: map[string]*expr{}}
	for name, raw := range f.Fields {
		if _, ok := targetByName[name]; !ok {
			return nil, fmt.Errorf("mapping: fields.%s: not a field of POST /v1/users", name)
		}
		e, err := parseExpr(raw, "fields."+name)
		if err != nil {
			return nil, fmt.Errorf("mapping: %w", err)
		}
		m.exprs[name] = e
	}
	m.read = map[string]bool{}
	for _, e := range m.exprs {
		e.keys(m.read)
	}
	m.comp = compile(m.exprs)
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
	if len(m.info.Formats) > 0 {
		out["formats"] = m.info.Formats
	}
	if len(m.csvHeader) > 0 {
		out["csv_header"] = m.csvHeader
	}
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
