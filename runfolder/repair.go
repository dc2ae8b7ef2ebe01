package runfolder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Repair says what was cut from a journal's end before a session appended to it.
type Repair struct {
	Offset int64 // where the damage began: the file now ends here
	Bytes  int64 // how many bytes were cut
	Reason string
}

func (r *Repair) String() string {
	return fmt.Sprintf("cut %d damaged bytes at offset %d from the journal's end (%s)", r.Bytes, r.Offset, r.Reason)
}

// repairWindow is how far back from the end repairTail looks for the last good line: more
// than a line may hold (MaxLine), so a good line is always found whole.
const repairWindow = 2 * MaxLine

// repairTail finds where the journal's last good line ends and truncates what follows: NUL
// padding, a line without its newline, a last line that is not JSON. The writer only ever
// appends whole lines, so anything else at the end is a write that did not finish.
func repairTail(f *os.File) (*Repair, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	end, err := skipNULs(f, size)
	if err != nil {
		return nil, err
	}
	start := max(end-repairWindow, 0)
	w := make([]byte, end-start)
	if _, err := f.ReadAt(w, start); err != nil && err != io.EOF {
		return nil, err
	}
	reason := ""
	if end < size {
		reason = "NUL padding"
	}
	for len(w) > 0 {
		if w[len(w)-1] != '\n' {
			w = w[:bytes.LastIndexByte(w, '\n')+1]
			reason = join(reason, "a torn last line")
			continue
		}
		last := w[bytes.LastIndexByte(w[:len(w)-1], '\n')+1:]
		if t := bytes.TrimSpace(last); len(t) > 0 && (bytes.IndexByte(t, 0) >= 0 || !json.Valid(t)) {
			w = w[:len(w)-len(last)]
			reason = join(reason, "a last line that is not JSON")
			continue
		}
		break
	}
	good := start + int64(len(w))
	if good == size {
		return nil, nil
	}
	if len(w) == 0 && start > 0 {
		good = start // a torn line longer than the window: no good line reaches into it
	}
	if err := f.Truncate(good); err != nil {
		return nil, fmt.Errorf("cut the damaged end: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("cut the damaged end: %w", err)
	}
	return &Repair{Offset: good, Bytes: size - good, Reason: reason}, nil
}

// skipNULs returns the offset just after the file's last byte that is not NUL.
func skipNULs(f *os.File, end int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return 0, err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				return end - n + i + 1, nil
			}
		}
		end -= n
	}
	return 0, nil
}

func join(a, b string) string {
	if a == "" || a == b {
		return b
	}
	return a + ", " + b
}
