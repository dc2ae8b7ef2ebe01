package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Files in a run folder (DESIGN.md §1).
const (
	JournalFile = "results.jsonl"
	SummaryFile = "summary.json"
	LogFile     = "log.jsonl"
	LockFile    = "lock"
)

// createFile opens a run file with mode 0600 without following a symlink planted in its
// place: the folder may be shared, and the file may hold whole rows.
func createFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil { // an existing file may have looser bits
		f.Close()
		return nil, err
	}
	return f, nil
}

// openRunFile opens a run file for reading without following a symlink planted in its place.
func openRunFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
}

// MakeRunDir creates the run folder 0700 (and tightens an existing one).
func MakeRunDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("run folder: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename, so a reader
// (or a crash) never sees half a file.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := createFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ErrLocked says another live process holds the run folder.
var ErrLocked = errors.New("run folder is locked")

// Lock is the run folder's PID lock.
type Lock struct{ path string }

// AcquireLock takes dir/lock. A live holder is refused with ErrLocked (naming its PID); a lock
// whose process is gone is taken over, and stale reports that it was.
func AcquireLock(dir string) (l *Lock, stalePID int, err error) {
	path := filepath.Join(dir, LockFile)
	for try := 0; try < 2; try++ {
		f, err := createFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, 0, fmt.Errorf("write lock: %w", errors.Join(werr, cerr))
			}
			return &Lock{path: path}, stalePID, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, 0, fmt.Errorf("take lock: %w", err)
		}
		b, rerr := os.ReadFile(path)
		if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("read lock: %w", rerr)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && processAlive(pid) {
			return nil, 0, fmt.Errorf("%w by process %d (%s)", ErrLocked, pid, path)
		}
		stalePID = pid
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("remove stale lock: %w", err)
		}
	}
	return nil, 0, fmt.Errorf("%w: another process raced for %s", ErrLocked, path)
}

// Release removes the lock.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	return os.Remove(l.path)
}

func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
