package runfolder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrLocked says another live process holds the run folder.
var ErrLocked = errors.New("run folder is locked")

// Lock is the run folder's lock: an advisory flock on dir/lock, held open for the run's life,
// so it dies with its process whatever the file says; the file names the holder's PID.
type Lock struct {
	path string
	f    *os.File
}

// AcquireLock takes dir/lock. A live holder is refused with ErrLocked (naming its PID); a
// lock file no process holds is taken over, and stalePID is the PID it named (0 if none).
//
// It locks the file, not the name: open-or-create, flock without waiting, then check that the
// locked file is still the one at the path (a holder that released unlinked it meanwhile).
func AcquireLock(dir string) (l *Lock, stalePID int, err error) {
	path := filepath.Join(dir, LockFile)
	for try := 0; try < 100; try++ {
		f, err := CreateFile(path, os.O_RDWR|os.O_CREATE)
		if err != nil {
			return nil, 0, fmt.Errorf("take lock: %w", err)
		}
		held, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("take lock: %w", err)
		}
		if !held {
			pid := readPID(f)
			f.Close()
			if pid > 0 {
				return nil, 0, fmt.Errorf("%w by process %d (%s)", ErrLocked, pid, path)
			}
			return nil, 0, fmt.Errorf("%w by another process (%s)", ErrLocked, path)
		}
		if !samePath(f, path) {
			f.Close() // released and unlinked between our open and our flock: take the new one
			continue
		}
		stalePID = readPID(f)
		if stalePID == os.Getpid() {
			stalePID = 0
		}
		if err := writePID(f); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("write lock: %w", err)
		}
		return &Lock{path: path, f: f}, stalePID, nil
	}
	return nil, 0, fmt.Errorf("%w: other processes kept racing for %s", ErrLocked, path)
}

func readPID(f *os.File) int {
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, 64))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return nil
}

// Release removes the lock file while still holding it, then lets go: a process that opened
// the old file meanwhile sees it is no longer the one at the path and takes the name afresh.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
