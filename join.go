package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/joinset"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

// joinArg is one --join: the declared join it feeds and its file.
type joinArg struct {
	spec mapping.JoinSpec
	path string
}

// resolveJoins pairs each --join value (FILE, or NAME=FILE when the mapping declares several
// joins) with the mapping's declared join, before anything is opened or written.
func resolveJoins(values []string, m *mapping.Mapping) ([]joinArg, error) {
	if len(values) == 0 {
		return nil, nil
	}
	specs := m.Joins()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	if len(specs) == 0 {
		return nil, &usageError{flag: "--join", msg: "given, but the mapping declares no join: the auth0, betterauth and authjs presets do, and a --mapping file declares them under \"joins\""}
	}
	var out []joinArg
	for _, v := range values {
		name, path, named := strings.Cut(v, "=")
		if named && !slices.Contains(names, name) {
			if _, err := os.Stat(v); err != nil { // a file name may hold '=' too
				return nil, &usageError{flag: "--join", msg: fmt.Sprintf("%q: %q names no join of the mapping (it declares %s)", v, name, strings.Join(names, ", "))}
			}
			named = false
		}
		if !named {
			name, path = "", v
		}
		if name == "" {
			if len(specs) > 1 {
				return nil, &usageError{flag: "--join", msg: fmt.Sprintf("%q: the mapping declares several joins (%s): give NAME=FILE", v, strings.Join(names, ", "))}
			}
			name = names[0]
		}
		if path == "" || path == "-" {
			return nil, &usageError{flag: "--join", msg: fmt.Sprintf("%q: give a file (a join file cannot be stdin)", v)}
		}
		i := slices.Index(names, name)
		if slices.ContainsFunc(out, func(a joinArg) bool { return a.spec.Name == name }) {
			return nil, &usageError{flag: "--join", msg: fmt.Sprintf("given twice for the join %s: give one file for it", name)}
		}
		out = append(out, joinArg{spec: specs[i], path: path})
	}
	return out, nil
}

// checkJoins refuses --join values the mapping cannot take, before any input is opened.
func checkJoins(m *mapping.Mapping, preset string, f *inputFlags) (*mapping.Mapping, string, error) {
	if _, err := resolveJoins(f.joins, m); err != nil {
		return nil, "", err
	}
	return m, preset, nil
}

// openJoins indexes each --join file (any format, sniffed like the input) in dir: the run
// folder, or "" (validate) for the system's temp directory; the index files are unlinked at
// once either way. joins is nil when there are none; done closes the indexes.
func openJoins(ctx context.Context, fl *inputFlags, m *mapping.Mapping, dir string) (joins importer.Joiner, done func(), err error) {
	args, err := resolveJoins(fl.joins, m)
	if err != nil || len(args) == 0 {
		return nil, func() {}, err
	}
	var built []*joinset.Join
	closeAll := func() {
		for _, j := range built {
			j.Index.Close()
		}
	}
	for _, a := range args {
		ix, err := buildJoin(ctx, a, fl, dir)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("--join %s: %w", a.path, err)
		}
		built = append(built, &joinset.Join{Spec: a.spec, File: a.path, Index: ix})
	}
	set := joinset.NewSet(built...)
	return set, func() { set.Close() }, nil
}

func buildJoin(ctx context.Context, a joinArg, fl *inputFlags, dir string) (*joinset.Index, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The input's encoding and record limit apply; the format and CSV delimiter are the join
	// file's own, read from its content (it may be NDJSON beside a CSV input).
	opts := source.Options{MaxRecordSize: fl.maxRecordSize, Encoding: fl.encoding, LazyQuotes: fl.lazyQuotes}
	opts.Hint, _, _ = source.Detect(a.path)
	r, err := source.Open(f, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return joinset.Build(ctx, &a.spec, r, dir)
}

// warnJoins says, after a run, what the joins did not do: records that found no row, rows
// no record found, rows that could not be read. Counts only: keys can be emails.
func warnJoins(w io.Writer, joins []runfolder.JoinCount) {
	for _, j := range joins {
		at := fmt.Sprintf("--join %s (%s)", j.Name, j.File)
		if j.NoMatch+j.NoKey > 0 { // often expected (users with no password): said, not warned
			fmt.Fprintf(w, "%s: %s found their row; %d found none, and have none of its fields\n", at, records(j.Matched), j.NoMatch+j.NoKey)
		}
		if j.Unused != nil && *j.Unused > 0 {
			fmt.Fprintf(w, "warning: %s: %d of its %d rows matched no record of the input\n", at, *j.Unused, j.Indexed)
		}
		if j.Unreadable > 0 {
			fmt.Fprintf(w, "warning: %s: %d rows could not be read\n", at, j.Unreadable)
		}
		if j.Duplicate > 0 {
			fmt.Fprintf(w, "note: %s: %d rows repeat an earlier row's key: the first row of a key is joined\n", at, j.Duplicate)
		}
	}
}

func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}
