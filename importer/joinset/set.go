package joinset

import (
	"errors"
	"sync/atomic"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// Join is one declared join with its file's index.
type Join struct {
	Spec  mapping.JoinSpec
	File  string // as given, for the summary and messages
	Index *Index

	matched, noMatch, noKey atomic.Int64
}

// Set is a mapping's joins with their files: it attaches each record's rows before the
// record is mapped (importer.Config.Joins).
type Set struct {
	joins []*Join
}

// NewSet holds the given joins; the Set closes their indexes.
func NewSet(joins ...*Join) *Set { return &Set{joins: joins} }

// Wrap looks rec's key up in every join and attaches the rows found (mapping.WithJoins); a
// record that finds none comes back as it was. Only an I/O error of an index is an error.
func (s *Set) Wrap(rec mapping.Record) (mapping.Record, error) {
	var joined map[string]mapping.Record
	for _, j := range s.joins {
		key, ok, err := j.Spec.Key(rec)
		if err != nil || !ok {
			j.noKey.Add(1) // a key that does not evaluate is no key: the mapping reports the field
			continue
		}
		row, found, err := j.Index.Lookup(key)
		if err != nil {
			return rec, err
		}
		if !found {
			j.noMatch.Add(1)
			continue
		}
		j.matched.Add(1)
		if joined == nil {
			joined = make(map[string]mapping.Record, len(s.joins))
		}
		joined[j.Spec.Name] = row
	}
	if joined == nil {
		return rec, nil
	}
	return mapping.WithJoins(rec, joined), nil
}

// Counts is what each join gave, for the summary. complete: this session mapped every
// record of the input, so the rows no record matched can be told (else Unused is left out).
func (s *Set) Counts(complete bool) []runfolder.JoinCount {
	out := make([]runfolder.JoinCount, 0, len(s.joins))
	for _, j := range s.joins {
		st := j.Index.Stats
		c := runfolder.JoinCount{Name: j.Spec.Name, File: j.File, Rows: st.Rows, Indexed: st.Indexed,
			Filtered: st.Filtered, Duplicate: st.Duplicate, Unreadable: st.Unreadable,
			Matched: int(j.matched.Load()), NoMatch: int(j.noMatch.Load()), NoKey: int(j.noKey.Load())}
		if complete {
			u := j.Index.Unused()
			c.Unused = &u
		}
		out = append(out, c)
	}
	return out
}

// Close closes every join's index.
func (s *Set) Close() error {
	var errs []error
	for _, j := range s.joins {
		if j.Index != nil {
			errs = append(errs, j.Index.Close())
		}
	}
	return errors.Join(errs...)
}
