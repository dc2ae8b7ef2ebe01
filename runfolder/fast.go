package runfolder

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
)

// statuses interns the row statuses, so the fast path allocates no status string.
var statuses = map[string]Status{}

func init() {
	for _, s := range []Status{StatusPending, StatusCreated, StatusExists, StatusFailed, StatusInvalid,
		StatusDuplicate, StatusSkipped, StatusDeleted} {
		statuses[string(s)] = s
	}
}

// fastEvent reads the common line, a row event without an error as the Writer writes it, by
// hand: a full decode of every line is most of the time a million-row report takes. It takes
// a flat, compact object whose keys are the row event's own, spelled exactly (encoding/json
// would also take "Status"), with a known status and an RFC 3339 time; the last of a repeated
// key wins, as in encoding/json. It gives up (false) on anything else, leaving e partly set.
// Without strs it leaves the string fields empty.
func fastEvent(b []byte, e *Event, strs bool) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	var at []byte
	haveRow, haveStatus := false, false
	for i := 1; ; {
		key, next, plain := jsonString(b, i)
		if !plain || next >= len(b) || b[next] != ':' {
			return false
		}
		i = next + 1
		var val []byte
		isStr := i < len(b) && b[i] == '"'
		if isStr {
			if val, next, plain = jsonString(b, i); next < 0 {
				return false
			}
		} else {
			next = i
			for next < len(b) && b[next] != ',' && b[next] != '}' {
				next++
			}
			if val = b[i:next]; !isInt(val) {
				return false // null, floats, objects, arrays, spaces: encoding/json's call
			}
		}
		i = next
		if isStr && !plain {
			return false // escapes: encoding/json's job
		}
		var n int
		if !isStr {
			n, _ = strconv.Atoi(string(val)) // isInt bounds it to 18 digits
		}
		switch string(key) {
		case "row", "line", "attempts", "duplicate_of_line":
			if isStr {
				return false
			}
			switch string(key) {
			case "row":
				e.Row, haveRow = n, true
			case "line":
				e.Line = n
			case "attempts":
				e.Attempts = n
			default:
				e.DupOfLine = n
			}
		case "status":
			st, known := statuses[string(val)]
			if !isStr || !known {
				return false
			}
			e.Status, haveStatus = st, true
		case "at":
			if !isStr {
				return false
			}
			at = val
		case "external_id", "user_id", "settled", "key":
			if !isStr || !plainText(val) {
				return false
			}
			if !strs {
				break
			}
			switch string(key) {
			case "external_id":
				e.ExternalID = string(val)
			case "user_id":
				e.UserID = string(val)
			case "key":
				e.Key = string(val)
			default:
				e.Settled = string(val)
			}
		default:
			return false // event lines, errors, headers, and keys only encoding/json would match
		}
		if b[i] == '}' {
			if i != len(b)-1 {
				return false
			}
			break
		}
		i++ // the comma
	}
	if !haveRow || !haveStatus || at == nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, string(at))
	if err != nil {
		return false
	}
	e.At = t
	return true
}

// jsonString returns the contents of the string starting at b[i] (a quote) and the index after
// it; next < 0 when there is none. plain: it holds no escape, so its contents are its value.
func jsonString(b []byte, i int) (s []byte, next int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1, false
	}
	plain = true
	for j := i + 1; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return nil, -1, false
		}
		e := bytes.IndexByte(b[j:j+q], '\\')
		if e < 0 {
			return b[i+1 : j+q], j + q + 1, plain
		}
		plain, j = false, j+e+2 // an escape: skip the escaped byte
	}
	return nil, -1, false
}

// isInt tells whether v is a JSON integer.
func isInt(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 18 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainText reports whether a string's raw bytes are its decoded value: valid UTF-8 without
// control characters (encoding/json refuses those, and replaces invalid UTF-8).
func plainText(v []byte) bool {
	for _, c := range v {
		if c < 0x20 {
			return false
		}
	}
	return utf8.Valid(v)
}
