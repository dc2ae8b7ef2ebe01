package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SkipError is Apply's answer for a record the mapping deliberately leaves out (a
// soft-deleted or anonymous user): not invalid, not to be retried, journaled as skipped.
// Detect it with errors.As(err, new(*mapping.SkipError)).
type SkipError struct {
	Reason string // for people, e.g. "soft-deleted in Supabase (deleted_at is set)"
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// skipRule leaves a record out when all its conditions hold.
type skipRule struct {
	reason string
	when   []*cond
}

// Joiner is a record that carries the rows of other files joined to it: Join returns the
// row joined under name (a JoinSpec's Name), if any. The mapping reads its fields as
// join.<name>.<field>.
type Joiner interface {
	Join(name string) (Record, bool)
}

type joinedRecord struct {
	Record
	joined map[string]Record
}

func (j *joinedRecord) Join(name string) (Record, bool) {
	r, ok := j.joined[name]
	return r, ok && r != nil
}

// WithJoins attaches the rows joined to rec, by join name; Apply reads them as
// join.<name>.<field> and still takes its CSV shortcut for rec itself.
func WithJoins(rec Record, joined map[string]Record) Record {
	return &joinedRecord{Record: rec, joined: joined}
}

// JoinSpec is a join a mapping declares: rows of a second file, indexed by OtherKey, are
// attached to the records whose Key equals theirs.
type JoinSpec struct {
	Name        string // as in join.<name>.<field>
	Description string // which file to give, for people
	key         *expr
	otherKey    *expr
	where       []*cond
	rules       *cellRules // the main input's cell rules: its key is read as Apply reads it
}

// Key is the join key of a record of the main input; false when it has none.
func (j *JoinSpec) Key(rec Record) (string, bool, error) {
	if cr, ok := rec.(csvRecord); ok {
		cr.rules = j.rules
		rec = cr
	}
	return keyOf(j.key, rec)
}

// OtherKey is the join key of a row of the joined file; false when it has none or the
// declaration's filter leaves the row out (Better Auth's non-credential accounts).
func (j *JoinSpec) OtherKey(rec Record) (string, bool, error) {
	for _, c := range j.where {
		ok, err := c.holds(rec, nil)
		if err != nil || !ok {
			return "", false, err
		}
	}
	return keyOf(j.otherKey, rec)
}

func keyOf(e *expr, rec Record) (string, bool, error) {
	v, err := e.eval(rec, nil)
	if err != nil || v == nil {
		return "", false, err
	}
	s, ok := text(first(v))
	if !ok || strings.TrimSpace(s) == "" {
		return "", false, nil
	}
	return strings.TrimSpace(s), true, nil
}

// Joins lists the joins the mapping declares, in declaration order.
func (m *Mapping) Joins() []JoinSpec { return slices.Clone(m.joins) }

// flattenRule lifts a list of name/value pairs (Cognito's Attributes) to top-level keys.
type flattenRule struct {
	From  string `json:"from"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// view is the record the generic path evaluates: the input record with its joins and its
// flattened pairs.
type view struct {
	base     Record
	jplan    *jsonPlan // set for a *jsonRecord base: its loose key matches
	join     Joiner
	flatten  []flattenRule
	flat     map[string]any
	flatKeys []string
	built    bool
}

func (v *view) Textual() bool { return v.base.Textual() }

func (v *view) Lookup(key string) (any, bool) {
	if rest, ok := strings.CutPrefix(key, "join."); ok {
		name, field, ok := strings.Cut(rest, ".")
		if !ok || v.join == nil {
			return nil, false
		}
		jr, ok := v.join.Join(name)
		if !ok {
			return nil, false
		}
		return jr.Lookup(field)
	}
	if jr, ok := v.base.(*jsonRecord); ok && v.jplan != nil {
		if x, ok := jr.lookup(key, v.jplan.resolve); ok {
			return x, true
		}
	} else if x, ok := v.base.Lookup(key); ok {
		return x, true
	}
	if len(v.flatten) == 0 {
		return nil, false
	}
	v.build()
	if x, ok := v.flat[key]; ok {
		return present(x)
	}
	head, rest, dotted := strings.Cut(key, ".")
	if x, ok := v.flat[head]; ok && dotted {
		return walk(x, strings.Split(rest, "."))
	}
	return nil, false
}

// Keys are the record's keys, a flattened list's pair names in place of the list.
func (v *view) Keys() []string {
	if len(v.flatten) == 0 {
		return v.base.Keys()
	}
	v.build()
	var out []string
	for _, k := range v.base.Keys() {
		if !slices.ContainsFunc(v.flatten, func(f flattenRule) bool { return f.From == k }) {
			out = append(out, k)
		}
	}
	return append(out, v.flatKeys...)
}

func (v *view) build() {
	if v.built {
		return
	}
	v.built = true
	v.flat = map[string]any{}
	for _, f := range v.flatten {
		list, ok := v.base.Lookup(f.From)
		if !ok {
			continue
		}
		if s, isText := list.(string); isText { // a CSV cell holding the JSON list
			if d, err := decodeJSON(strings.TrimSpace(s)); err == nil {
				list = d
			}
		}
		items, _ := list.([]any)
		for _, it := range items {
			o, _ := it.(map[string]any)
			name, ok := o[f.Name].(string)
			if !ok || name == "" {
				continue
			}
			if _, dup := v.flat[name]; !dup {
				v.flatKeys = append(v.flatKeys, name)
			}
			v.flat[name] = o[f.Value]
		}
	}
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)
var hexKey = regexp.MustCompile(`^[0-9a-f]{16,}$`)

// detectDigest names the hasher of digest s among kinds and converts it to the form Clerk
// takes; "" when it is none of them (the user then imports without a password).
func detectDigest(s string, kinds []string) (hasher, digest string) {
	for _, k := range kinds {
		switch k {
		case "bcrypt":
			if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
				return "bcrypt", s
			}
		case "argon2":
			switch {
			case strings.HasPrefix(s, "$argon2id$"):
				return "argon2id", s
			case strings.HasPrefix(s, "$argon2i$"):
				return "argon2i", s
			}
		case "fbscrypt":
			if d, ok := fbscrypt(s); ok {
				return "scrypt_firebase", d
			}
		case "betterauth_scrypt":
			// Better Auth: scrypt N=16384 r=16 p=1 over NFKC(password), stored <salt>:<key hex>
			// with the 32-hex salt string itself as the salt: werkzeug's form says the same.
			salt, key, ok := strings.Cut(s, ":")
			if ok && hex32.MatchString(salt) && hexKey.MatchString(key) {
				return "scrypt_werkzeug", "scrypt:16384:16:1$" + salt + "$" + key
			}
		}
	}
	return "", ""
}

// fbscrypt converts Supabase's $fbscrypt$v=1,n=<mem cost>,r=<rounds>,p=1,ss=<salt
// separator>,sk=<signer key>$<salt>$<hash> into Clerk's scrypt_firebase
// <hash>$<salt>$<signer key>$<salt separator>$<rounds>$<mem cost>.
func fbscrypt(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "$fbscrypt$")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return "", false
	}
	params := map[string]string{"ss": "Bw=="}
	for _, kv := range strings.Split(parts[0], ",") {
		k, v, _ := strings.Cut(kv, "=")
		params[k] = v
	}
	n, r, sk := params["n"], params["r"], params["sk"]
	if !intRe.MatchString(n) || !intRe.MatchString(r) || sk == "" || params["ss"] == "" {
		return "", false
	}
	return strings.Join([]string{parts[2], parts[1], sk, params["ss"], r, n}, "$"), true
}

// presetRules is the part of a mapping file beside its fields: how cells are written, which
// records to leave out, which files to join, which lists to flatten.
type presetRules struct {
	Values  *cellRules        `json:"values,omitempty"`
	Skip    []json.RawMessage `json:"skip,omitempty"`
	Joins   []json.RawMessage `json:"joins,omitempty"`
	Flatten []flattenRule     `json:"flatten,omitempty"`
	Reader  *ReaderOptions    `json:"reader,omitempty"`
}

// ReaderOptions say how a preset's CSV export must be read beyond what the reader finds out
// itself (delimiter, encoding, header): quirks of the tool that writes it.
type ReaderOptions struct {
	// LazyQuotes: bare quotes inside fields are data (firebase-tools before 15.19 leaves the
	// quotes in a display name undoubled, Cognito's import CSV quotes no value; a properly
	// quoted CSV reads the same).
	LazyQuotes bool `json:"lazy_quotes,omitempty"`
	// BackslashEscapes: \<delimiter> in an unquoted field is a literal delimiter (Cognito's
	// import CSV writes a comma in a value as \,).
	BackslashEscapes bool `json:"backslash_escapes,omitempty"`
}

// Reader is how the mapping's CSV input must be read (zero for a mapping that declares nothing).
func (m *Mapping) Reader() ReaderOptions {
	if m.reader == nil {
		return ReaderOptions{}
	}
	return *m.reader
}

func (m *Mapping) parseRules(f *file) error {
	if f.Values != nil {
		if len(f.Values.Null) == 0 && len(f.Values.StripPrefix) == 0 {
			return fmt.Errorf("values: give null spellings or strip_prefix, or leave values out")
		}
		if slices.Contains(f.Values.StripPrefix, "") {
			return fmt.Errorf("values.strip_prefix: empty prefix")
		}
		m.rules = f.Values
	}
	for i, raw := range f.Skip {
		var s struct {
			Reason string          `json:"reason"`
			When   json.RawMessage `json:"when"`
		}
		at := fmt.Sprintf("skip.%d", i)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(&s) != nil || s.Reason == "" || s.When == nil {
			return fmt.Errorf("%s: want {\"reason\": \"...\", \"when\": condition}", at)
		}
		e, err := parseExprMap(map[string]json.RawMessage{"const": json.RawMessage("true"), "when": s.When}, at)
		if err != nil {
			return err
		}
		m.skips = append(m.skips, skipRule{reason: s.Reason, when: e.when})
	}
	for i, raw := range f.Joins {
		var j struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Key         json.RawMessage `json:"key"`
			OtherKey    json.RawMessage `json:"other_key"`
			Where       json.RawMessage `json:"where"`
		}
		at := fmt.Sprintf("joins.%d", i)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if dec.Decode(&j) != nil || j.Name == "" || strings.Contains(j.Name, ".") || j.Key == nil || j.OtherKey == nil {
			return fmt.Errorf("%s: want {\"name\": \"...\", \"key\": expression, \"other_key\": expression, \"where\": condition (optional)}", at)
		}
		if slices.ContainsFunc(m.joins, func(o JoinSpec) bool { return o.Name == j.Name }) {
			return fmt.Errorf("%s: join %q declared twice", at, j.Name)
		}
		js := JoinSpec{Name: j.Name, Description: j.Description, rules: m.rules}
		var err error
		if js.key, err = parseExpr(j.Key, at+".key"); err != nil {
			return err
		}
		if js.otherKey, err = parseExpr(j.OtherKey, at+".other_key"); err != nil {
			return err
		}
		if j.Where != nil {
			e, err := parseExprMap(map[string]json.RawMessage{"const": json.RawMessage("true"), "when": j.Where}, at+".where")
			if err != nil {
				return err
			}
			js.where = e.when
		}
		m.joins = append(m.joins, js)
	}
	for i, fl := range f.Flatten {
		if fl.From == "" || fl.Name == "" || fl.Value == "" {
			return fmt.Errorf("flatten.%d: want {\"from\": list key, \"name\": pair's name key, \"value\": pair's value key}", i)
		}
	}
	m.flatten = f.Flatten
	if f.Reader != nil && *f.Reader == (ReaderOptions{}) {
		return fmt.Errorf("reader: give lazy_quotes or backslash_escapes true, or leave reader out")
	}
	m.reader = f.Reader
	return nil
}

// renderRules adds the rules to a Spec's top level.
func (m *Mapping) renderRules(out map[string]any) {
	if m.rules != nil {
		out["values"] = m.rules
	}
	if len(m.skips) > 0 {
		l := make([]any, len(m.skips))
		for i, s := range m.skips {
			l[i] = map[string]any{"reason": s.reason, "when": (&expr{isConst: true, konst: true, when: s.when}).render()["when"]}
		}
		out["skip"] = l
	}
	if len(m.joins) > 0 {
		l := make([]any, len(m.joins))
		for i, j := range m.joins {
			jm := map[string]any{"name": j.Name, "key": j.key.render(), "other_key": j.otherKey.render()}
			if j.Description != "" {
				jm["description"] = j.Description
			}
			if len(j.where) > 0 {
				jm["where"] = (&expr{isConst: true, konst: true, when: j.where}).render()["when"]
			}
			l[i] = jm
		}
		out["joins"] = l
	}
	if len(m.flatten) > 0 {
		out["flatten"] = m.flatten
	}
	if m.reader != nil {
		out["reader"] = m.reader
	}
}
