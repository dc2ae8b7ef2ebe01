package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/userimport/userimport/mapping"
)

func TestOpenInputHashesAndCountsInOnePass(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	content := "email_address\na@x.io\nb@x.io,extra\nc@x.io\n"
	os.WriteFile(path, []byte(content), 0o600)
	in, err := openInput(path, nil, nil, &inputFlags{maxRecordSize: 1 << 20}, mapping.Native(), true)
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
	v, err := openInput(path, nil, nil, &inputFlags{maxRecordSize: 1 << 20}, mapping.Native(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.rows != 0 || v.sha256 != "" {
		t.Errorf("validate's open counted %d rows, hash %q", v.rows, v.sha256)
	}
}

// A pipe given by name — `userimport import <(gunzip -c users.csv.gz)`, a FIFO — is read once,
// as stdin is (it cannot be hashed, counted or sought: that was "illegal seek"): its rows
// import, and the same bytes fed again settle as done, none failed.
func TestNamedPipeIsReadLikeStdin(t *testing.T) {
	c := newCLI(t, testKey)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "users.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	const rows = "external_id,email_address\np1,p1@example.com\np2,p2@example.com\n"
	feed := func() {
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the import opens it
			if err != nil {
				return
			}
			defer f.Close()
			io.WriteString(f, rows)
		}()
	}
	out := filepath.Join(dir, "run")
	for i, want := range []string{"2 created, 0 exists, 0 failed", "0 created, 0 exists, 0 failed"} {
		feed()
		r := c.run(nil, "import", "--rate", "500", "--no-progress", "--out", out, fifo)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("run %d: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", i+1, r.code, want, r.stdout, r.stderr)
		}
	}
	if n := c.sb.Stats().Creates; n != 2 {
		t.Errorf("%d creates, want 2", n)
	}
	feed()
	if r := c.run(nil, "validate", fifo); r.code != 0 || !strings.Contains(r.stdout, "2 already in the instance") {
		t.Errorf("validate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A file's first pass (hash and count) ends on the first signal: a big export does not keep the
// command reading after a stop (it said nothing until the pass was done).
func TestFirstPassEndsOnStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	os.WriteFile(path, []byte("email_address\na@x.io\n"), 0o600)
	stop := make(chan struct{})
	close(stop)
	if _, err := openInput(path, nil, stop, &inputFlags{maxRecordSize: 1 << 20}, mapping.Native(), true); !errors.Is(err, errStdinStopped) {
		t.Fatalf("openInput after a stop: %v, want errStdinStopped", err)
	}
}
