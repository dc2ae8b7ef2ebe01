package mapping

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/userimport/userimport/internal/inplace"
)

// objIndex lists the top-level members of s, a JSON object's text, in one scan, appending them
// to members in text order. ok is false for what it leaves to the decoder: escapes, invalid
// UTF-8, malformed text. sep reports U+2028 or U+2029, which the encoder escapes.
func objIndex(s string, members []kvSpan) (_ []kvSpan, ok, sep bool) {
	// One pass for what the scan leaves to the decoder. Text with no control character at all
	// (a jsonb column's) lets strings end at the next quote unchecked.
	plain, ascii := true, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			return members, false, false
		case c < 0x20:
			plain = false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii {
		if !utf8.ValidString(s) {
			return members, false, false
		}
		sep = strings.Contains(s, "\u2028") || strings.Contains(s, "\u2029")
	}
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return members, false, false
	}
	if i = skipWS(s, i+1); i < len(s) && s[i] == '}' {
		return members, skipWS(s, i+1) == len(s), sep
	}
	for {
		k, j, ok := scanStr(s, i, plain)
		if !ok {
			return members, false, false
		}
		if i = skipWS(s, j); i >= len(s) || s[i] != ':' {
			return members, false, false
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == '"' { // the common value: text
			_, j, ok = scanStr(s, i, plain)
		} else {
			j, ok = valueEnd(s, i, 0)
		}
		if !ok {
			return members, false, false
		}
		members = append(members, kvSpan{k, s[i:j]})
		if i = skipWS(s, j); i >= len(s) {
			return members, false, false
		}
		if s[i] == '}' {
			return members, skipWS(s, i+1) == len(s), sep
		}
		if s[i] != ',' {
			return members, false, false
		}
		i = skipWS(s, i+1)
	}
}

// scanStr is scanString, without its look for control characters in text known to have none.
func scanStr(s string, i int, plain bool) (body string, end int, ok bool) {
	if !plain {
		return scanString(s, i)
	}
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	e := strings.IndexByte(s[i+1:], '"')
	if e < 0 {
		return "", 0, false
	}
	return s[i+1 : i+1+e], i + 2 + e, true
}

// textPath is walkPath(decoded, p, true) for s, the text of a JSON object, found by scanning
// the text instead of decoding it. decided is false for what the scan leaves to the decoder:
// what objIndex declines, or a value that is itself an object or array.
func textPath(s, p string) (v any, found, decided bool) {
	var buf [maxSortKeys]kvSpan
	members, ok, _ := objIndex(s, buf[:0])
	if !ok {
		return nil, false, false
	}
	return pathIn(members, p, nil)
}

// pathIn is textPath over an object's members: a database row's metadata column is read by
// several rules ("raw_user_meta_data.first_name", ".full_name", …), and most rows need no map
// of it at all.
func pathIn(members []kvSpan, p string, box *inplace.Strings) (v any, found, decided bool) {
	// The members whose key is p or a dotted prefix of it; the last of a repeated key wins,
	// as it does in a decoded map.
	var exact string
	hasExact := false
	var pb [4]kvSpan
	prefixes := pb[:0]
	for _, m := range members {
		switch k := m.k; {
		case k == p:
			exact, hasExact = m.v, true
		case len(k) < len(p) && p[len(k)] == '.' && p[:len(k)] == k:
			at := len(prefixes)
			for x := range prefixes {
				if prefixes[x].k == k {
					at = x
				}
			}
			if at == len(prefixes) {
				prefixes = append(prefixes, kvSpan{})
			}
			prefixes[at] = m
		}
	}
	// The key itself first, then its prefixes longest first: walkPath's order.
	if hasExact {
		switch c := exact[0]; {
		case c == '{' || c == '[':
			return nil, false, false
		case c == '"':
			if body := exact[1 : len(exact)-1]; strings.TrimSpace(body) != "" {
				return box.Box(body), true, true
			}
		case c == 't' || c == 'f':
			return c == 't', true, true
		case c == 'n': // null: absent
		default:
			return json.Number(exact), true, true
		}
	}
	for a := 1; a < len(prefixes); a++ {
		for b := a; b > 0 && len(prefixes[b].k) > len(prefixes[b-1].k); b-- {
			prefixes[b], prefixes[b-1] = prefixes[b-1], prefixes[b]
		}
	}
	for _, e := range prefixes {
		switch e.v[0] {
		case '{':
			x, found, decided := textPath(e.v, p[len(e.k)+1:])
			if !decided || found {
				return x, found, decided
			}
		case '[':
			return nil, false, false
		case '"': // text: walkPath enters it only when it holds JSON
			if t := strings.TrimSpace(e.v[1 : len(e.v)-1]); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				return nil, false, false
			}
		}
	}
	return nil, false, true
}

// textIndex holds a row record's JSON object columns as objIndex read them, so that the
// several rules reading one column scan it once. One allocation a row: two columns and six
// members fit in it.
type textIndex struct {
	cols     []textCol // on colsRoom while two fit
	colsRoom [2]textCol
	back     [6]kvSpan // the members of the first columns
	spent    int
}

type textCol struct {
	col     int
	members []kvSpan
	ok, sep bool
}

// members is column col's JSON object (its text s) as objIndex reads it, scanned on first need.
func (r *jsonRecord) members(col int, s string) (members []kvSpan, ok, sep bool) {
	if r.tidx == nil {
		r.tidx = &textIndex{}
	}
	x := r.tidx
	for _, c := range x.cols {
		if c.col == col {
			return c.members, c.ok, c.sep
		}
	}
	members, ok, sep = objIndex(s, x.back[x.spent:x.spent:len(x.back)])
	if len(members) > 0 && x.spent < len(x.back) && &members[0] == &x.back[x.spent] {
		x.spent += len(members)
	}
	if x.cols == nil {
		x.cols = x.colsRoom[:0]
	}
	x.cols = append(x.cols, textCol{col, members, ok, sep})
	return members, ok, sep
}
