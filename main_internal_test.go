package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/mapping"
)

func TestDevInstanceCap(t *testing.T) {
	if !isDevInstance("https://api.clerk.com/v1", "sk_test_abc") {
		t.Error("a test key against Clerk is a development instance")
	}
	if isDevInstance("https://api.clerk.com/v1", "sk_live_abc") || isDevInstance("http://127.0.0.1:9/v1", "sk_test_abc") {
		t.Error("live keys and other URLs are not held to the development cap")
	}
	if err := devCapCheck(40, 60, 0); err != nil {
		t.Errorf("40 users + 60 rows fit: %v", err)
	}
	err := devCapCheck(41, 60, 0)
	if err == nil || !strings.Contains(err.Error(), "at most 100 users: it has 41 and the input 60 more") {
		t.Errorf("41 + 60 must be refused, got %v", err)
	}
	if err := devCapCheck(90, 60, 50); err != nil {
		t.Errorf("rows done by an earlier run are already among the users: %v", err)
	}
}

func TestOpenInputHashesAndCountsInOnePass(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	content := "email_address\na@x.io\nb@x.io,extra\nc@x.io\n"
	os.WriteFile(path, []byte(content), 0o600)
	in, err := openInput(path, nil, "", 1<<20, mapping.Native(), true)
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
	v, err := openInput(path, nil, "", 1<<20, mapping.Native(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.rows != 0 || v.sha256 != "" {
		t.Errorf("validate's open counted %d rows, hash %q", v.rows, v.sha256)
	}
}

func TestClipList(t *testing.T) {
	if got := clipList([]string{"a", "b"}, 3); got != "a, b" {
		t.Errorf("short list: %q", got)
	}
	if got := clipList([]string{"a", "b", "c", "d"}, 2); got != "a, b … and 2 more" {
		t.Errorf("long list: %q", got)
	}
}
