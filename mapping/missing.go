package mapping

import (
	"slices"
	"strings"

	"github.com/userimport/userimport/internal/nearest"
)

// MissingKey is a record key a mapping reads that no record held, with the nearest key the
// records did hold ("" when none is close): most often a typo in a mapping file.
type MissingKey struct {
	Key, Nearest string
}

// Missing lists the top-level keys the mapping's fields read that no record observed so far
// held (a CSV's header, or a JSON input's keys: after the last row for a full answer).
func (t *KeyTracker) Missing() []MissingKey {
	var seen []string
	t.known.Range(func(k, _ any) bool {
		seen = append(seen, k.(string))
		return true
	})
	if len(seen) == 0 || t.knownN.Load() >= maxKnown { // nothing seen, or too many to be sure
		return nil
	}
	set := map[string]bool{}
	for _, e := range t.m.exprs {
		e.keys(set)
	}
	var out []MissingKey
	for k := range set {
		if strings.HasPrefix(k, prefixMark) || strings.Contains(k, ".") || slices.Contains(seen, k) {
			continue // only whole top-level keys: a path's first part is checked as itself
		}
		out = append(out, MissingKey{Key: k, Nearest: nearest.Name(k, seen)})
	}
	slices.SortFunc(out, func(a, b MissingKey) int { return strings.Compare(a.Key, b.Key) })
	return out
}
