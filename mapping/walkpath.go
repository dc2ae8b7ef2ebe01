package mapping

import (
	"strconv"
	"strings"
)

// walkPath is walk(v, strings.Split(p, ".")) when more, walk(v, nil) when not, without
// splitting or joining the path: a database row's dotted lookups ("raw_user_meta_data.name")
// run for every rule of every row.
func walkPath(v any, p string, more bool) (any, bool) {
	if !more {
		return present(v)
	}
	switch t := v.(type) {
	case map[string]any:
		// The longest prefix first, as walk joins parts[:i] for i from len(parts) down.
		if c, ok := t[p]; ok {
			if r, ok := walkPath(c, "", false); ok {
				return r, true
			}
		}
		for d := strings.LastIndexByte(p, '.'); d >= 0; d = strings.LastIndexByte(p[:d], '.') {
			if c, ok := t[p[:d]]; ok {
				if r, ok := walkPath(c, p[d+1:], true); ok {
					return r, true
				}
			}
		}
	case []any:
		first, rest, more := strings.Cut(p, ".")
		if first == "*" {
			var out []any
			for _, it := range t {
				if v, ok := walkPath(it, rest, more); ok {
					out = append(out, v)
				}
			}
			return out, len(out) > 0
		}
		i, err := strconv.Atoi(first)
		if err == nil && i >= 0 && i < len(t) {
			return walkPath(t[i], rest, more)
		}
	case string:
		s := strings.TrimSpace(t)
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			if d, err := decodeJSON(s); err == nil {
				return walkPath(d, p, true)
			}
		}
	}
	return nil, false
}
