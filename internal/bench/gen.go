package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/userimport/userimport/mapping"
)

// row i's fields; the CSV and the baseline's bodies are both built from these.
func rowExternalID(i int) string { return fmt.Sprintf("bench-%08d", i) }
func rowEmail(i int) string      { return fmt.Sprintf("user%08d@example.com", i) }
func rowFirst(i int) string      { return "First" + strconv.Itoa(i) }
func rowLast(i int) string       { return "Last" + strconv.Itoa(i) }
func rowMeta(i int) string       { return `{"n":` + strconv.Itoa(i) + `,"plan":"pro"}` }

// writeCSV writes a native CSV of n users to tmp/name.csv and returns its path.
func writeCSV(tmp, name string, n int) (string, error) {
	path := filepath.Join(tmp, name+".csv")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.WriteString("external_id,email_address,first_name,last_name,public_metadata\n")
	for i := range n {
		// The metadata cell is JSON with its quotes doubled, as CSV wants; its keys are in the
		// order userimport re-encodes them, so the baseline's bodies are byte for byte the same.
		fmt.Fprintf(w, "%s,%s,%s,%s,\"%s\"\n", rowExternalID(i), rowEmail(i), rowFirst(i), rowLast(i),
			strings.ReplaceAll(rowMeta(i), `"`, `""`))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// body is the POST /v1/users body userimport's native mapping makes of row i.
func body(i int) ([]byte, error) {
	ext, email, first, last := rowExternalID(i), rowEmail(i), rowFirst(i), rowLast(i)
	p := mapping.CreateUserParams{
		ExternalID: &ext, EmailAddresses: []string{email}, FirstName: &first, LastName: &last,
		PublicMetadata: json.RawMessage(rowMeta(i)),
	}
	return json.Marshal(&p)
}
