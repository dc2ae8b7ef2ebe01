package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/userimport/userimport/mapping"
)

func TestOpenInputHashesAndCountsInOnePass(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	content := "email_address\na@x.io\nb@x.io,extra\nc@x.io\n"
	os.WriteFile(path, []byte(content), 0o600)
	in, err := openInput(path, nil, &inputFlags{maxRecordSize: 1 << 20}, mapping.Native(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sum := sha256.Sum256([]byte(content))
	if in.rows != 3 || in.size != int64(len(content)) || in.sha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("rows %d size %d sha %s: want 3 rows (an unreadable row is still a row), %d bytes, the content's hash",
			in.rows, in.size, in.sha256, len(content))
	}
	// The import then reads the file from its start.
	rec, err := in.reader.Next(context.Background())
	if err != nil || len(rec.Cells) != 1 || rec.Cells[0] != "a@x.io" {
		t.Fatalf("first record after the count: %+v, %v", rec, err)
	}
	// validate neither hashes nor counts.
	v, err := openInput(path, nil, &inputFlags{maxRecordSize: 1 << 20}, mapping.Native(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.rows != 0 || v.sha256 != "" {
		t.Errorf("validate's open counted %d rows, hash %q", v.rows, v.sha256)
	}
}
