// Package runfolder is the run folder's format: its file names and modes, the journal's
// lines (Header, Event), its Writer and its one Scanner, summary.json, and the folder's lock.
// It imports no project package: importer, report and main all build on it.
package runfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Files in a run folder (DESIGN.md §1).
const (
	ResultsFile = "results.jsonl" // the journal: write-ahead log and checkpoint
	SummaryFile = "summary.json"
	LogFile     = "log.jsonl"
	LockFile    = "lock"
	UndoFile    = "undo.jsonl"  // an undo's own journal, so an interrupted one resumes
	ReportFile  = "report.html" // written by package report
	// FailedFilePrefix names the rows not imported: failed.<ext>, in the input's format.
	FailedFilePrefix = "failed."
	// SandboxStateFile holds a --sandbox run's users, so a re-run and undo meet the same ones.
	SandboxStateFile = "sandbox-state.jsonl"
)

// Modes of what a run folder holds: it may hold whole rows, so only its owner reads it.
const (
	DirMode  os.FileMode = 0o700
	FileMode os.FileMode = 0o600
)

// CreateFile opens a run file with mode 0600 without following a symlink planted in its
// place: the folder may be shared, and the file may hold whole rows.
func CreateFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, FileMode)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(FileMode); err != nil { // an existing file may have looser bits
		f.Close()
		return nil, err
	}
	return f, nil
}

// OpenFile opens a run file for reading without following a symlink planted in its place.
func OpenFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
}

// ErrSharedDir refuses an existing folder others may write in (/tmp, a 0777 share): they could
// plant or swap the run's files, and its mode is not this tool's to change.
var ErrSharedDir = errors.New("is writable by other users")

// MakeDir creates the run folder 0700. An existing folder is used as it is, never chmodded
// (only folders userimport creates get its modes), unless group or others may write in it.
func MakeDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("run folder %s is not a folder", dir)
	case err == nil && st.Mode().Perm()&0o022 != 0:
		mode := uint32(st.Mode().Perm())
		if st.Mode()&os.ModeSticky != 0 {
			mode |= 0o1000
		}
		return fmt.Errorf("run folder %s %w (mode %04o)", dir, ErrSharedDir, mode)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("run folder: %w", err)
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	if err := os.Chmod(dir, DirMode); err != nil { // ours: exactly 0700, whatever the umask
		return fmt.Errorf("run folder: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename, so a reader
// (or a crash) never sees half a file.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := CreateFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp) // a full disk must not keep the half file
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// WriteJSONAtomic writes v, indented, with WriteFileAtomic.
func WriteJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteSummary writes dir/summary.json atomically; main calls it once the exit code is known.
func WriteSummary(dir string, sum *Summary) error {
	return WriteJSONAtomic(filepath.Join(dir, SummaryFile), sum)
}
