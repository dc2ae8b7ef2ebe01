package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// multi holds the present values of a from-list; list targets take all, others the first.
type multi []any

// codedError carries a FieldError code up to Apply, which adds the field name.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

func invalid(format string, a ...any) error {
	return &codedError{code: CodeInvalidValue, msg: fmt.Sprintf(format, a...)}
}

// eval returns the expression's value for r, or nil when absent.
func (e *expr) eval(r Record, opts map[string]string) (any, error) {
	if ok, err := allHold(e.when, r, opts); err != nil || !ok {
		return nil, err
	}
	switch {
	case e.from != nil:
		var vals multi
		var seen []int
		for i, k := range e.from {
			if v, ok := e.lookupFrom(r, i); ok {
				if !e.fromList {
					return v, nil
				}
				if len(e.from) > 1 {
					// Two keys of one list may match one column as people write it ("Email
					// Address" is email_address and emailAddress): read it once.
					if col, ok := colOf(r, k); ok {
						if slices.Contains(seen, col) {
							continue
						}
						seen = append(seen, col)
					}
				}
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			return nil, nil
		}
		return vals, nil
	case e.isConst:
		return e.konst, nil
	case e.object != nil:
		o := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(e.object)) { // sorted: the first error is stable
			v, err := e.object[k].evalOne(r, opts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if v = first(v); v != nil {
				o[k] = v
			}
		}
		if len(o) == 0 {
			return nil, nil
		}
		return o, nil
	case e.split != nil:
		v, err := e.split.eval(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		var out []any
		for _, item := range flatten(v) {
			s, ok := text(item)
			if !ok {
				return nil, invalid("split: value is not text")
			}
			for _, part := range splitAny(s, e.seps) {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case e.time != nil:
		v, err := e.time.evalOne(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		s, ok := text(first(v))
		if !ok {
			return nil, invalid("time: value is not text or a number")
		}
		s = strings.TrimSpace(s)
		if e.layout == "auto" || e.layout == "rfc3339" {
			room := roomFor(r)
			if b, ok := appendUTCMillis(room.take(24), s); ok {
				return room.boxes().Box(unsafe.String(&b[0], len(b))), nil // b is never written again
			}
		}
		t, err := parseTime(s, e.layout)
		if err != nil {
			return nil, &codedError{code: CodeInvalidTime, msg: fmt.Sprintf("cannot read %q as a time (layout %s)", clip(s), e.layout)}
		}
		return t.UTC().Format(rfc3339Millis), nil
	case e.firstOf != nil || e.lastOf != nil:
		sub, last := e.firstOf, false
		if sub == nil {
			sub, last = e.lastOf, true
		}
		v, err := sub.evalOne(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		s, ok := text(first(v))
		if !ok {
			return nil, invalid("name is not text")
		}
		if w := nameWords(familyFirst(s), last); w != "" {
			return boxIn(r, w), nil
		}
		return nil, nil
	case e.e164 != nil:
		v, err := e.e164.evalOne(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		s, ok := text(first(v))
		if !ok {
			return nil, invalid("phone number is not text")
		}
		s = strings.Map(func(r rune) rune {
			if strings.ContainsRune(" -.()\t", r) {
				return -1
			}
			return r
		}, s)
		if s == "" {
			return nil, nil
		}
		if !strings.HasPrefix(s, "+") {
			s = "+" + s
		}
		return s, nil
	case e.join != nil:
		parts := make([]string, 0, len(e.join))
		for _, p := range e.join {
			v, err := p.evalOne(r, opts)
			if err != nil || v == nil {
				return nil, err // one part absent: the whole is absent
			}
			s, ok := text(first(v))
			if !ok {
				return nil, invalid("join: a part is not text")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, e.sep), nil
	case e.option != "":
		if v := opts[e.option]; v != "" {
			return v, nil
		}
		if e.required {
			return nil, &codedError{code: CodeMissingOption, msg: fmt.Sprintf("preset option %s is required for this row", e.option)}
		}
		return nil, nil
	case e.coalesce != nil:
		for _, c := range e.coalesce {
			v, err := c.eval(r, opts)
			if err != nil || v != nil {
				return v, err
			}
		}
		return nil, nil
	case e.future != nil:
		v, err := e.future.evalOne(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		s, ok := text(first(v))
		if !ok {
			return nil, invalid("future: value is not a time")
		}
		t, err := parseTime(strings.TrimSpace(s), "auto")
		if err != nil {
			return nil, &codedError{code: CodeInvalidTime, msg: fmt.Sprintf("cannot read %q as a time", clip(s))}
		}
		return t.After(now()), nil
	case e.prefixed != "":
		o := map[string]any{}
		for _, k := range r.Keys() {
			if name, ok := strings.CutPrefix(k, e.prefixed); ok && name != "" {
				if v, ok := r.Lookup(k); ok {
					o[name] = v
				}
			}
		}
		if len(o) == 0 {
			return nil, nil
		}
		return o, nil
	case e.digest != nil:
		v, err := e.digest.evalOne(r, opts)
		if err != nil || v == nil {
			return nil, err
		}
		s, ok := text(first(v))
		if !ok {
			return nil, invalid("digest: value is not text")
		}
		hasher, digest := detectDigest(strings.TrimSpace(s), e.kinds)
		if hasher == "" {
			return nil, nil // not a digest Clerk can take: the user imports without a password
		}
		if e.part == "hasher" {
			return boxIn(r, hasher), nil
		}
		return boxIn(r, digest), nil
	}
	return nil, errors.New("empty expression")
}

// nameWords is the family name (last: the last word, when there are two or more) or the given
// names (every word but the last, one space apart; a single word is a given name) of a full
// name; "" when there is none. Words are strings.Fields'.
func nameWords(s string, last bool) string {
	for i := 0; i < len(s); i++ { // words one ASCII space apart: the answer is a substring
		if c := s[i]; c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') || c != ' ' && (c <= ' ' || c >= 0x7f) {
			return nameWordsSlow(s, last)
		}
	}
	i := strings.LastIndexByte(s, ' ')
	switch {
	case last && i < 0:
		return ""
	case last:
		return s[i+1:]
	case i < 0:
		return s
	}
	return s[:i]
}

func nameWordsSlow(s string, last bool) string {
	words := strings.Fields(s)
	switch {
	case len(words) == 0, last && len(words) < 2:
		return ""
	case last:
		return words[len(words)-1]
	}
	return strings.Join(words[:max(len(words)-1, 1)], " ")
}

// evalOne is first(e.eval(r, opts)): what a rule that takes one value reads. A from-list
// stops at its first present key instead of gathering them all.
func (e *expr) evalOne(r Record, opts map[string]string) (any, error) {
	if e.from == nil || !e.fromList {
		v, err := e.eval(r, opts)
		return first(v), err
	}
	if ok, err := allHold(e.when, r, opts); err != nil || !ok {
		return nil, err
	}
	for i := range e.from {
		if v, ok := e.lookupFrom(r, i); ok {
			return v, nil
		}
	}
	return nil, nil
}

// familyFirst turns "Family, Given" (one comma, as directories write names) into "Given
// Family"; "Given Family, Jr." and other suffixes after the comma are left as written.
func familyFirst(s string) string {
	family, given, ok := strings.Cut(s, ",")
	given, family = strings.TrimSpace(given), strings.TrimSpace(family)
	if !ok || strings.Contains(given, ",") || given == "" || family == "" || nameSuffixes[strings.ToLower(strings.TrimSuffix(given, "."))] {
		return s
	}
	return given + " " + family
}

var nameSuffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true, "phd": true, "md": true, "esq": true}

// now is the clock future compares with; tests pin it.
var now = time.Now

// splitAny splits s at every occurrence of any of seps.
func splitAny(s string, seps []string) []string {
	if len(seps) == 1 {
		return strings.Split(s, seps[0])
	}
	var out []string
	for {
		at, n := -1, 0
		for _, sep := range seps {
			if i := strings.Index(s, sep); i >= 0 && (at < 0 || i < at) {
				at, n = i, len(sep)
			}
		}
		if at < 0 {
			return append(out, s)
		}
		out = append(out, s[:at])
		s = s[at+n:]
	}
}

// colOf names the column or key k resolves to, for records that can tell.
func colOf(r Record, k string) (int, bool) {
	switch t := r.(type) {
	case csvRecord:
		if strings.Contains(k, ".") {
			return 0, false
		}
		i := t.col(k)
		return i, i >= 0
	case *jsonRecord:
		if _, ok := t.get(k); !ok {
			if k = t.resolve(k); k == "" {
				return 0, false
			}
		}
		i := slices.Index(t.keys, k)
		return i, i >= 0
	case *view:
		if jr, ok := t.base.(*jsonRecord); ok && t.jplan != nil {
			if _, ok := jr.get(k); !ok {
				if k = t.jplan.loose[k]; k == "" {
					return 0, false
				}
			}
			i := slices.Index(jr.keys, k)
			return i, i >= 0
		}
		return colOf(t.base, k)
	}
	return 0, false
}

func (c *cond) holds(r Record, opts map[string]string) (bool, error) {
	if !c.hasEquals && c.sameAs == nil {
		if ok, known := c.value.rowPresent(r); known { // a time column is not formatted to be seen
			return ok != c.not, nil
		}
	}
	v, err := c.value.evalOne(r, opts)
	if err != nil {
		return false, fmt.Errorf("when: %w", err)
	}
	v = first(v)
	ok := v != nil
	switch {
	case c.hasEquals:
		ok = looseEqual(v, c.equals)
	case c.sameAs != nil:
		o, err := c.sameAs.evalOne(r, opts)
		if err != nil {
			return false, fmt.Errorf("when: %w", err)
		}
		a, aok := text(v)
		b, bok := text(first(o))
		ok = aok && bok && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return ok != c.not, nil
}

// looseEqual compares a record value with a mapping constant, reading CSV text as the
// constant's type ("TRUE" equals true, "1.0" equals 1).
func looseEqual(v, want any) bool {
	if v == nil || want == nil {
		return v == nil && want == nil
	}
	switch w := want.(type) {
	case bool:
		b, err := toBool(v)
		return err == nil && b == w
	case json.Number:
		s, ok := text(v)
		if !ok {
			return false
		}
		a, err1 := strconv.ParseFloat(strings.TrimSpace(s), 64)
		b, err2 := w.Float64()
		return err1 == nil && err2 == nil && a == b
	case string:
		s, ok := text(v)
		return ok && strings.TrimSpace(s) == w
	}
	return false
}

func first(v any) any {
	if m, ok := v.(multi); ok {
		if len(m) == 0 {
			return nil
		}
		return m[0]
	}
	return v
}

func flatten(v any) []any {
	switch t := v.(type) {
	case multi:
		var out []any
		for _, x := range t {
			out = append(out, flatten(x)...)
		}
		return out
	case []any:
		return t
	}
	return []any{v}
}

// text renders scalars as text; objects and arrays are not text.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case float64: // not produced by our decoders; tolerated for hand-built records
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

func toBool(v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case json.Number:
		switch t.String() {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
	case string:
		if b, ok := textBool(t); ok {
			return b, nil
		}
	}
	return false, errBool
}

var errBool = errors.New("want true/false, 1/0 or yes/no")

// textBool reads the spellings of a boolean a CSV cell may hold.
func textBool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y", "t", "on":
		return true, true
	case "false", "0", "no", "n", "f", "off":
		return false, true
	}
	return false, false
}

const rfc3339Millis = "2006-01-02T15:04:05.000Z07:00"

// appendUTCMillis appends (24 bytes) what parseTime then Format(rfc3339Millis) give for the
// shape a database source and most exports write, YYYY-MM-DDTHH:MM:SS[.fraction]Z, done on
// the text: the same result without the parse and the format. ok is false for anything else
// (parseTime decides).
func appendUTCMillis(b []byte, s string) ([]byte, bool) {
	frac, ok := parseUTC(s)
	if !ok {
		return b, false
	}
	b = append(b, s[:19]...)
	b = append(b, '.')
	for i := range 3 {
		c := byte('0')
		if 1+i < len(frac) {
			c = frac[1+i] // truncated, as Format truncates
		}
		b = append(b, c)
	}
	return append(b, 'Z'), true
}

// parseUTC checks s is an RFC 3339 time in UTC (Z) with at most nine fractional digits, and
// returns its fraction ("" or "." and the digits). What it accepts time.Parse(time.RFC3339)
// accepts too; false says only that the caller must ask time.Parse.
func parseUTC(s string) (frac string, ok bool) {
	n := len(s)
	if n < 20 || n > 30 || s[n-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return "", false
	}
	num := func(i, j int) (int, bool) {
		v := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return "", false
	}
	frac = s[19 : n-1]
	if frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return "", false
		}
		if _, ok := num(20, n-1); !ok {
			return "", false
		}
	}
	return frac, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var textLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999-07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func parseTime(s, layout string) (time.Time, error) {
	switch layout {
	case "unix", "unix_ms":
		return parseUnix(s, layout == "unix_ms")
	case "rfc3339":
		return time.Parse(time.RFC3339Nano, s)
	case "postgres":
		for _, l := range textLayouts[1:4] {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, errors.New("not a postgres timestamp")
	}
	if isNumber(s) {
		// Seconds until the year 5138; anything longer is milliseconds (Firebase, JS Date).
		digits := strings.TrimPrefix(strings.SplitN(s, ".", 2)[0], "-")
		return parseUnix(s, len(digits) > 11)
	}
	for _, l := range textLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("unrecognised time")
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && s != "" && !strings.ContainsAny(s, "eEnNiI")
}

func parseUnix(s string, ms bool) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, errors.New("not a number")
	}
	if !ms {
		f *= 1000
	}
	if math.Abs(f) > 1e15 { // beyond year 33658: surely a wrong layout
		return time.Time{}, errors.New("out of range")
	}
	return time.UnixMilli(int64(math.Round(f))), nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:61]) + "..."
	}
	return s
}
