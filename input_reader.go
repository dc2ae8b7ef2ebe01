package main

import (
	"fmt"

	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// readerOptions adds what the mapping says about its source's CSV to opts: the column names
// of a header-less export, one list per width it writes (Firebase: 53 or 29), and the
// writer's quirks (Firebase's bare quotes, Cognito's \, escapes). Flags only add to them.
func readerOptions(opts *source.Options, m *mapping.Mapping) {
	if opts.Format == "" || opts.Format == source.CSV {
		opts.Headers = m.CSVHeaders() // the first row's width picks one; the rest reads as data
	}
	ro := m.Reader()
	opts.LazyQuotes = opts.LazyQuotes || ro.LazyQuotes
	opts.BackslashEscapes = opts.BackslashEscapes || ro.BackslashEscapes
}

// checkHeader refuses, before any run folder is written, a CSV header with two columns that
// both match one key the mapping reads (a JSON input's first record is checked by the
// importer): a usage-style error naming both, exit 2.
func checkHeader(in *input, m *mapping.Mapping) error {
	if in.format != source.CSV {
		return nil
	}
	if err := importer.CheckHeader(m, in.reader.Header()); err != nil {
		return fmt.Errorf("%s: %w", in.path, err)
	}
	return nil
}
