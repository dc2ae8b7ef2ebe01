package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/importer/source"
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

func TestCountRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	os.WriteFile(path, []byte("email_address\na@x.io\nb@x.io,extra\nc@x.io\n"), 0o600)
	n, err := countRows(path, source.CSV, 1<<20, mapping.Native())
	if err != nil || n != 3 {
		t.Fatalf("countRows = %d, %v; want 3 (an unreadable row is still a row)", n, err)
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
