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

// repairTail finds where the journal's last good line ends and truncates what follows: NUL
// padding, a line without its newline, a last line that is not JSON or is over-long. The
// writer only ever appends whole lines, so anything else at the end is a write that did not
// finish.
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
	reason := ""
	if end < size {
		reason = "NUL padding"
	}
	for end > 0 {
		nl, err := lastNewline(f, end)
		if err != nil {
			return nil, err
		}
		if nl != end-1 {
			end, reason = nl+1, join(reason, "a torn last line")
			continue
		}
		prev, err := lastNewline(f, nl)
		if err != nil {
			return nil, err
		}
		n := nl - (prev + 1)
		if n > MaxLine {
			end, reason = prev+1, join(reason, "an over-long last line")
			continue
		}
		line := make([]byte, n)
		if _, err := f.ReadAt(line, prev+1); err != nil && err != io.EOF {
			return nil, err
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && (bytes.IndexByte(t, 0) >= 0 || !json.Valid(t)) {
			end, reason = prev+1, join(reason, "a last line that is not JSON")
			continue
		}
		break
	}
	if end == size {
		return nil, nil
	}
	if err := f.Truncate(end); err != nil {
		return nil, fmt.Errorf("cut the damaged end: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("cut the damaged end: %w", err)
	}
	return &Repair{Offset: end, Bytes: size - end, Reason: reason}, nil
}

// lastNewline returns the offset of the last newline before end, or -1 when there is none.
func lastNewline(f *os.File, end int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i), nil
		}
		end -= n
	}
	return -1, nil
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
