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
	Offset int64 // where the damage began: the file now ends here (before an added newline)
	Bytes  int64 // how many bytes were cut
	Reason string
	// Ended: the last line was whole but for its newline (the disk had room for all of a
	// write but its last byte), so the newline was added rather than the line cut: the
	// readers had already counted that line, and cutting it would lose a recorded result.
	// Nothing is cut then.
	Ended bool
}

func (r *Repair) String() string {
	if r.Ended {
		return fmt.Sprintf("ended the journal's last line at offset %d: it was whole but for its newline", r.Offset)
	}
	return fmt.Sprintf("cut %d damaged bytes at offset %d from the journal's end (%s)", r.Bytes, r.Offset, r.Reason)
}

// repairTail finds where the journal's last good line ends and truncates what follows: NUL
// padding, a torn line, a last line that is not JSON or is over-long. The writer only ever
// appends whole lines, so anything else at the end is a write that did not finish. A last
// line that lacks only its newline is kept and ended: the Scanner reads such a line as good
// (a JSON object cut short is never valid), so resume has already counted it; cutting it
// would leave a row the run believes done without its result in the journal.
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
	reason, ended := "", false
	if end < size {
		reason = "NUL padding"
	}
	for end > 0 {
		nl, err := lastNewline(f, end)
		if err != nil {
			return nil, err
		}
		if nl != end-1 {
			// Only where the file ends with the line: NULs after it make the Scanner's read of
			// that last line fail too, so it was never counted.
			if end == size {
				if ended, err = wholeLine(f, nl+1, end); err != nil {
					return nil, err
				}
			}
			if ended {
				break
			}
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
	if end == size && !ended {
		return nil, nil
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return nil, fmt.Errorf("cut the damaged end: %w", err)
		}
	}
	if ended { // f is opened to append: the newline lands at the (new) end
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return nil, fmt.Errorf("end the journal's last line: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("repair the journal's end: %w", err)
	}
	return &Repair{Offset: end, Bytes: size - end, Reason: reason, Ended: ended}, nil
}

// wholeLine reports whether f[start:end], a last line without its newline, is one the
// Scanner reads as good: within MaxLine, no NUL but the padding before it that the Scanner
// also reads past, and a header or event that decodes.
func wholeLine(f *os.File, start, end int64) (bool, error) {
	n := end - start
	if n <= 0 || n > MaxLine {
		return false, nil
	}
	line := make([]byte, n)
	if _, err := f.ReadAt(line, start); err != nil && err != io.EOF {
		return false, err
	}
	body := bytes.TrimSpace(bytes.TrimLeft(line, "\x00"))
	if len(body) == 0 || bytes.IndexByte(body, 0) >= 0 {
		return false, nil
	}
	var h Header
	var e Event
	_, err := DecodeLine(body, &h, &e)
	return err == nil, nil
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
