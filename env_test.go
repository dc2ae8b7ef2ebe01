package main

import (
	"os"
	"testing"
)

func TestClipList(t *testing.T) {
	if got := clipList([]string{"a", "b"}, 3); got != "a, b" {
		t.Errorf("short list: %q", got)
	}
	if got := clipList([]string{"a", "b", "c", "d"}, 2); got != "a, b … and 2 more" {
		t.Errorf("long list: %q", got)
	}
}

// A database password is the file's first line as written, spaces kept; an empty file or a
// folder is refused.
func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pw, err := readPasswordFile(write("a", " p@ss w0rd \r\n")); err != nil || pw != " p@ss w0rd " {
		t.Errorf("got %q, %v: want the line as written, spaces kept", pw, err)
	}
	if _, err := readPasswordFile(write("b", "\n")); err == nil {
		t.Error("empty password file: want an error")
	}
	if _, err := readPasswordFile(dir); err == nil {
		t.Error("a folder: want an error")
	}
}
