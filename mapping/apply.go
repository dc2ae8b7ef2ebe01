package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Mapping is a compiled mapping: how records become CreateUserParams. It is immutable, so
// one Mapping may serve many goroutines.
type Mapping struct {
	info           PresetInfo
	csvHeaders     [][]string // header-less CSV exports: the column names, one list per row width
	exprs          map[string]*expr
	read           map[string]bool // record keys (and path prefixes) the mapping reads
	readNorm       map[string]bool // the same, as normKey writes them
	prefixes       []string        // key prefixes read wholesale (Cognito's custom:)
	rules          *cellRules      // CSV cell conventions the preset declares
	skips          []skipRule
	joins          []JoinSpec
	flatten        []flattenRule
	reader         *ReaderOptions    // how its CSV input must be read
	options        map[string]string // bound PresetOptions
	optionsSummary map[string]any    // what Spec shows of them (the signer key only as a fingerprint)
	keepPassword   bool              // PresetOptions.NoSkipPasswordRequirement
	restriction    bool              // PresetOptions.RestrictionChecks
	comp           *compiled         // set by every constructor; Apply's per-row shortcuts
}

// finish works out what the mapping reads, once its parts are parsed.
func (m *Mapping) finish() {
	m.read = map[string]bool{}
	for _, e := range m.exprs {
		e.keys(m.read)
	}
	for _, s := range m.skips {
		for _, c := range s.when {
			c.value.keys(m.read)
			c.sameAs.keys(m.read)
		}
	}
	for _, j := range m.joins {
		j.key.keys(m.read)
	}
	for _, f := range m.flatten {
		m.read[f.From] = true
	}
	m.readNorm = map[string]bool{}
	m.prefixes = nil
	for k := range m.read {
		if p, ok := strings.CutPrefix(k, prefixMark); ok {
			m.prefixes = append(m.prefixes, p)
			delete(m.read, k)
			continue
		}
		m.readNorm[normKey(k)] = true
	}
	slices.Sort(m.prefixes)
	m.comp = compile(m.exprs, m.read)
}

// prefixMark marks a prefixed expression's prefix in a read set.
const prefixMark = "\x00prefix:"

// Info names and describes the mapping (empty fields for a mapping file that sets none).
func (m *Mapping) Info() PresetInfo { return m.info }

// CSVHeader is the column names for a CSV export that has no header line (Firebase), or nil
// when the file carries its own header. With several widths (CSVHeaders), the first.
func (m *Mapping) CSVHeader() []string {
	if len(m.csvHeaders) == 0 {
		return nil
	}
	return m.csvHeaders[0]
}

// CSVHeaders lists the column names of a header-less CSV export, one list per row width the
// source writes (Firebase: 53 fields since firebase-tools 15.19, 29 before); a reader picks by
// the first row's field count (CSVHeaderFor). Nil when the file carries its own header.
func (m *Mapping) CSVHeaders() [][]string { return m.csvHeaders }

// CSVHeaderFor is the header for rows of width fields, or nil when no declared width fits.
func (m *Mapping) CSVHeaderFor(width int) []string {
	for _, h := range m.csvHeaders {
		if len(h) == width {
			return h
		}
	}
	return nil
}

// Unread lists the keys the mapping never reads, in input order, so the caller can warn once.
// Keys match as Apply matches them (exactly, or as people write them); empty names (the
// empty field after Firebase's trailing comma) are never listed.
func (m *Mapping) Unread(keys []string) []string {
	var out []string
	for _, k := range keys {
		if !m.reads(k) {
			out = append(out, k)
		}
	}
	return out
}

// Reads tells whether the mapping reads top-level key (or column) k, exactly or as people
// write it: a database source leaves the columns it does not out of its query.
func (m *Mapping) Reads(k string) bool { return m.reads(k) }

// reads tells whether the mapping reads top-level key k.
func (m *Mapping) reads(k string) bool {
	if k == "" || m.read[k] {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	var buf [64]byte
	return m.readNorm[string(normInto(buf[:0], k))]
}

// Apply maps one record. It does not validate the result: call Validate next.
// Errors are *FieldError naming the API field, *SkipError for a record the mapping leaves
// out on purpose, or *AmbiguousError for a CSV header where two columns match one key.
func (m *Mapping) Apply(rec Record) (*CreateUserParams, error) { return m.applyEnc(rec, true, nil) }

// ApplyValid is Apply, then Validate when Apply succeeded (validErr): the importer's step.
// The metadata Apply encoded itself from decoded objects is valid and compact by
// construction, so it is not scanned again.
func (m *Mapping) ApplyValid(rec Record) (p *CreateUserParams, err, validErr error) {
	var enc encodedMeta
	if p, err = m.applyEnc(rec, true, &enc); err != nil {
		return p, err, nil
	}
	return p, nil, validate(p, &enc)
}

// apply is Apply; without shortcut every field takes the generic path (tests compare the two).
func (m *Mapping) apply(rec Record, shortcut bool) (*CreateUserParams, error) {
	return m.applyEnc(rec, shortcut, nil)
}

// encodedMeta holds the metadata values one Apply encoded itself (see ApplyValid), matched
// by identity: a value replaced since is checked in full.
type encodedMeta [3]json.RawMessage

func (e *encodedMeta) add(raw json.RawMessage) {
	for i := range e {
		if e[i] == nil {
			e[i] = raw
			return
		}
	}
}

func (e *encodedMeta) has(raw json.RawMessage) bool {
	if e == nil || len(raw) == 0 {
		return false
	}
	for _, x := range e {
		if len(x) == len(raw) && &x[0] == &raw[0] {
			return true
		}
	}
	return false
}

func (m *Mapping) applyEnc(rec Record, shortcut bool, enc *encodedMeta) (*CreateUserParams, error) {
	c := m.compiledFor()
	var join Joiner
	if jr, ok := rec.(*joinedRecord); ok {
		rec, join = jr.Record, jr
	} else if j, ok := rec.(Joiner); ok {
		join = j
	}
	var plan *csvPlan
	cr, isCSV := rec.(csvRecord)
	if isCSV {
		plan = c.planFor(cr.header)
		if plan.err != nil {
			return nil, plan.err
		}
		cr.plan, cr.rules = plan, m.rules
	}
	// The generic path's record, built on first need: most CSV rows never need it.
	var jplan *jsonPlan
	var room *RowScratch // a row's room, for its first Apply: its view and params live there
	if jr, ok := rec.(*jsonRecord); ok {
		if jplan = c.jsonPlanFor(jr.keys); jplan.err != nil {
			return nil, jplan.err
		}
		if jr.room != nil && !jr.room.applied {
			room = jr.room
			room.applied = true
		}
	}
	var gen *view
	generic := func() Record {
		if gen == nil {
			if room != nil {
				gen = &room.view
			} else {
				gen = &view{}
			}
			*gen = view{base: rec, join: join, flatten: m.flatten, jplan: jplan}
			if isCSV {
				gen.base = cr
			}
		}
		return gen
	}
	for _, s := range m.skips {
		if leave, err := allHold(s.when, generic(), m.options); err != nil {
			return nil, &FieldError{Field: "(skip)", Code: CodeInvalidValue, Message: err.Error()}
		} else if leave {
			return nil, &SkipError{Reason: s.reason}
		}
	}
	var p *CreateUserParams // not new and then replaced: the new one would be allocated anyway
	var res reserved
	if room != nil {
		p, res.texts, res.lists, res.flags = &room.params, room.texts[:], room.lists[:], &room.flags
	} else {
		p = &CreateUserParams{}
	}
	var buf [4]string
	for i, t := range targets {
		e := c.exprs[i]
		if e == nil {
			continue
		}
		if jplan != nil && shortcut && jplan.skip[i] && len(m.flatten) == 0 {
			continue // none of the keys it reads is in this record
		}
		var err error
		if ft := plan.target(i); ft != nil && shortcut {
			if ft.none {
				continue
			}
			vals, found := ft.values(buf[:0], cr.cells, m.rules)
			if found {
				err = t.assignText(p, vals, &res)
			} else if ft.rest != nil {
				err = m.evalAssign(t, ft.rest, generic(), p, &res)
			}
		} else {
			err = m.evalAssign(t, e, generic(), p, &res)
		}
		if err != nil {
			fe := &FieldError{Field: t.apiField(), Code: CodeInvalidValue, Message: err.Error()}
			var ce *codedError
			if errors.As(err, &ce) {
				fe.Code = ce.code
			}
			return nil, fe
		}
	}
	if err := mergeReserved(&p.EmailAddresses, &p.EmailAddressIdentificationStatus, res.emails, "email_address"); err != nil {
		return nil, err
	}
	if err := mergeReserved(&p.PhoneNumbers, &p.PhoneNumberIdentificationStatus, res.phones, "phone_number"); err != nil {
		return nil, err
	}
	m.defaults(p, res.flags)
	if enc != nil {
		*enc = res.encoded // copied out: a pointer kept in res would move enc to the heap
	}
	return p, nil
}

// CheckHeader reports an ambiguous header before any row is mapped: two columns (or a JSON
// record's keys) that both match a key the mapping reads only as people write it. The
// error is an *AmbiguousError naming both; the importer treats it as a usage error (exit 2).
func (m *Mapping) CheckHeader(header []string) error {
	if p := m.compiledFor().planFor(header); p.err != nil {
		return p.err
	}
	return nil
}

func (m *Mapping) evalAssign(t *target, e *expr, r Record, p *CreateUserParams, res *reserved) error {
	if t.kind == kindMeta {
		if raw, ok := e.rowMeta(r); ok { // a jsonb column: copied in canonical form, no map built
			if raw != nil {
				t.meta(p, raw)
				res.encoded.add(raw)
			}
			return nil
		}
	}
	var v any
	var err error
	if t.kind == kindList {
		v, err = e.eval(r, m.options)
	} else {
		v, err = e.evalOne(r, m.options) // the others take the first value
	}
	if err == nil && v != nil {
		err = t.assign(p, v, r.Textual(), res)
	}
	return err
}

func allHold(conds []*cond, r Record, opts map[string]string) (bool, error) {
	for _, c := range conds {
		if ok, err := c.holds(r, opts); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// defaults sets what every create sends unless the options say otherwise: a user with no
// password and no digest gets skip_password_requirement (an instance that uses passwords
// refuses them otherwise), and skip_restriction_checks (migrated users were admitted once;
// Clerk's CLI sends it too).
func (m *Mapping) defaults(p *CreateUserParams, flags *[2]bool) {
	noPassword := !m.keepPassword && p.Password == nil && p.PasswordDigest == nil && p.SkipPasswordRequirement == nil
	skipChecks := !m.restriction && p.SkipRestrictionChecks == nil
	if !noPassword && !skipChecks {
		return
	}
	if flags == nil {
		flags = new([2]bool) // one allocation for both
	}
	*flags = [2]bool{true, true}
	if noPassword {
		p.SkipPasswordRequirement = &flags[0]
	}
	if skipChecks {
		p.SkipRestrictionChecks = &flags[1]
	}
}

// reserved holds the pseudo-targets' lists until Apply merges them, and the text fields'
// values: one allocation for a row's several *string fields.
type reserved struct {
	emails, phones []string
	texts          []string
	lists          []string    // room for one-item lists (a row's emails, its phones), or nil
	flags          *[2]bool    // room for defaults' two flags, or nil
	encoded        encodedMeta // the metadata this Apply encoded itself (ApplyValid need not scan it)
}

// list is room for a list of one item (an append past it allocates), or nil.
func (r *reserved) list() []string {
	if len(r.lists) == 0 {
		return nil
	}
	l := r.lists[:0:1]
	r.lists = r.lists[1:]
	return l
}

// text returns a pointer to a copy of s.
func (r *reserved) text(s string) *string {
	if len(r.texts) == 0 {
		r.texts = make([]string, 8) // a row's text fields, most often in one allocation
	}
	p := &r.texts[0]
	*p, r.texts = s, r.texts[1:]
	return p
}

func (r *reserved) set(name string, l []string) {
	switch name {
	case reservedEmails:
		r.emails = l
	case reservedPhones:
		r.phones = l
	}
}

// mergeReserved appends reserved addresses after the verified ones and fills the parallel
// status array that tells Clerk which is which. An address listed both ways stays where it
// is (the primary stays first) and is reserved: a source that calls an address unverified
// anywhere is believed (Clerk's Dashboard lists an unverified primary under unverified).
func mergeReserved(list, status *[]string, reserved []string, field string) error {
	if len(reserved) == 0 {
		return nil
	}
	if *status != nil {
		return &FieldError{Field: field + "_identification_status", Code: CodeInvalidValue, Message: "set both directly and from reserved addresses"}
	}
	st := make([]string, 0, len(*list)+len(reserved))
	for _, a := range *list {
		if containsFold(reserved, a) {
			st = append(st, "reserved")
		} else {
			st = append(st, "verified")
		}
	}
	for _, r := range reserved {
		if !containsFold(*list, r) {
			*list = append(*list, r)
			st = append(st, "reserved")
		}
	}
	*status = st
	return nil
}

// putList stores a list field's values (identifiers deduplicated, case-folded); a reserved
// pseudo-field's go to res, to be appended after the verified ones.
func (t *target) putList(p *CreateUserParams, l []string, res *reserved) {
	if t.ident && len(l) > 1 {
		l = dedupeFold(l)
	}
	if len(l) == 0 {
		return
	}
	if t.list == nil {
		res.set(t.name, l)
		return
	}
	t.list(p, l)
}

func (t *target) assign(p *CreateUserParams, v any, textual bool, res *reserved) error {
	switch t.kind {
	case kindString:
		s, ok := text(first(v))
		if !ok {
			return invalid("want text, got %s", typeName(first(v)))
		}
		if !t.secret {
			s = strings.TrimSpace(s)
		}
		if strings.TrimSpace(s) == "" {
			return nil
		}
		t.str(p, res.text(s))
	case kindList:
		l, err := toList(res.list(), v, textual, t.secret)
		if err != nil {
			return err
		}
		t.putList(p, l, res)
	case kindBool:
		b, err := toBool(first(v))
		if err != nil {
			return invalid("%v", err)
		}
		t.boolf(p, b)
	case kindInt:
		s, ok := text(first(v))
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if !ok || err != nil {
			return invalid("want a whole number")
		}
		t.intf(p, n)
	case kindMeta:
		raw, encoded, err := toMeta(first(v))
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

// toList appends to out one value, a JSON array, a JSON-array-encoded string, or (CSV) a
// comma-separated cell. Items of an array (or of an explicit split) are never split again.
// Blank items are dropped.
func toList(out []string, v any, textual, secret bool) ([]string, error) {
	top := []any{v}
	if m, ok := v.(multi); ok {
		top = m
	}
	for _, x := range top {
		items, splitCommas := []any{x}, textual
		if arr, ok := x.([]any); ok {
			items, splitCommas = arr, false
		}
		for _, item := range items {
			var err error
			if out, err = appendItem(out, item, splitCommas, secret); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func appendItem(out []string, item any, splitCommas, secret bool) ([]string, error) {
	if item == nil {
		return out, nil
	}
	s, ok := text(item)
	if !ok {
		return nil, invalid("list item is %s, want text", typeName(item))
	}
	ts := strings.TrimSpace(s)
	switch {
	case ts == "":
		return out, nil
	case strings.HasPrefix(ts, "["):
		d, err := decodeJSON(ts)
		arr, isArr := d.([]any)
		if err != nil || !isArr {
			return nil, invalid("text starting with [ is not a JSON array")
		}
		for _, a := range arr {
			if _, nested := a.([]any); nested {
				return nil, invalid("list item is a list, want text")
			}
			if out, err = appendItem(out, a, false, secret); err != nil {
				return nil, err
			}
		}
		return out, nil
	case splitCommas:
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		return out, nil
	}
	if !secret {
		s = ts
	}
	return append(out, s), nil
}

func dedupeFold(l []string) []string {
	out := l[:0:0]
	for _, s := range l {
		if !containsFold(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func containsFold(l []string, s string) bool {
	for _, x := range l {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// toMeta reads a metadata object, or a string holding one. An empty object reads as absent.
// encoded is true when the bytes are this package's own encoding of a decoded object: valid
// and compact, so Validate need not scan them again.
func toMeta(v any) (raw json.RawMessage, encoded bool, err error) {
	if s, ok := v.(string); ok {
		return metaText(s)
	}
	raw, err = metaValue(v)
	return raw, err == nil, err
}

// metaText reads a metadata object from text. An object canonicalJSON can copy is written out
// directly; anything else is decoded and encoded again, which gives the same bytes.
func metaText(s string) (raw json.RawMessage, encoded bool, err error) {
	s = strings.TrimSpace(s)
	if raw, ok := canonicalJSON(s); ok {
		return raw, raw != nil, nil
	}
	d, err := decodeJSON(s)
	if err != nil {
		return nil, false, &codedError{code: CodeInvalidMetadata, msg: fmt.Sprintf("not valid JSON: %v", err)}
	}
	if d == nil {
		return nil, false, nil
	}
	raw, err = metaValue(d)
	return raw, err == nil, err
}

func metaValue(v any) (json.RawMessage, error) {
	o, ok := v.(map[string]any)
	if !ok {
		return nil, &codedError{code: CodeInvalidMetadata, msg: fmt.Sprintf("want a JSON object, got %s", typeName(v))}
	}
	if len(o) == 0 {
		return nil, nil
	}
	if raw, ok := encodeMetaFast(o); ok { // a database's jsonb: no reflection
		return raw, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		return nil, &codedError{code: CodeInvalidMetadata, msg: err.Error()}
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any, multi:
		return "a list"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "text"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
