package runfolder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, stale, err := AcquireLock(dir)
	if err != nil || stale != 0 {
		t.Fatalf("first lock: %v stale=%d", err, stale)
	}
	if _, _, err := AcquireLock(dir); err == nil || !strings.Contains(err.Error(), "locked by process") {
		t.Fatalf("second lock: want locked, got %v", err)
	}
	must(t, l.Release())
	// A lock left by a process that is gone is taken over.
	os.WriteFile(filepath.Join(dir, LockFile), []byte("999999999\n"), 0o600)
	l, stale, err = AcquireLock(dir)
	if err != nil || stale != 999999999 {
		t.Fatalf("stale lock: %v stale=%d", err, stale)
	}
	l.Release()
}
