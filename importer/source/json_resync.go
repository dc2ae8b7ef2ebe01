package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// pushback reads b, then r: bytes read ahead while skipping a record, given back.
type pushback struct {
	b []byte
	r io.Reader
}

func (p *pushback) Read(q []byte) (int, error) {
	if len(p.b) > 0 {
		n := copy(q, p.b)
		p.b = p.b[n:]
		return n, nil
	}
	return p.r.Read(q)
}

// errNoResync says the stream could not be picked up after a bad record.
var errNoResync = errors.New("cannot resync")

// resync skips the array element that the decoder gave up on (too long, or nested deeper than
// encoding/json allows: both still bracket-balanced JSON), then restarts the decoder after it,
// so one bad record does not end the array. buffered is what the dead decoder held from the
// element on, skip its leading separators, line the element's first line. It returns the
// element's bytes when they fit the size limit, else nil.
func (r *jsonReader) resync(buffered []byte, skip, line int) ([]byte, error) {
	var unread []byte // read from the input but not yet handed to the old decoder
	if r.pb != nil {
		unread = r.pb.b
	}
	src := io.MultiReader(bytes.NewReader(buffered[skip:]), bytes.NewReader(unread), r.base)
	sc := &valueSkipper{src: src, keep: r.max}
	if err := sc.value(); err != nil {
		return nil, err
	}
	raw := sc.kept
	if sc.n > int64(r.max) {
		raw = nil
	}
	end, err := sc.afterValue() // ',' or ']'
	if err != nil {
		return nil, err
	}
	// The new decoder reads a synthetic opening, so its state is "inside the array" again.
	prefix := "["
	if r.inObj {
		prefix = `{"":[`
	}
	if end == ']' {
		prefix += "]"
	}
	r.pb = &pushback{b: sc.rest(), r: r.base}
	r.in = &window{r: io.MultiReader(strings.NewReader(prefix), r.pb), line: line + sc.lines}
	r.dec = json.NewDecoder(r.in)
	for range strings.Count(prefix, "[") + 2*strings.Count(prefix, "{") {
		if _, err := r.token(); err != nil {
			return nil, errNoResync
		}
	}
	return raw, nil
}

// valueSkipper walks one JSON value byte by byte, with no depth limit and bounded memory.
type valueSkipper struct {
	src   io.Reader
	buf   [32 << 10]byte
	b     []byte // unread part of buf
	err   error
	n     int64  // bytes of the value
	lines int    // newlines passed
	keep  int    // keep up to this many bytes of the value (plus one, to tell it was longer)
	kept  []byte // the value's first bytes
}

func (s *valueSkipper) next() (byte, bool) {
	for len(s.b) == 0 {
		if s.err != nil {
			return 0, false
		}
		var n int
		n, s.err = s.src.Read(s.buf[:])
		s.b = s.buf[:n]
	}
	c := s.b[0]
	s.b = s.b[1:]
	if c == '\n' {
		s.lines++
	}
	return c, true
}

// value skips one value; for a scalar it stops before the byte that ends it.
func (s *valueSkipper) value() error {
	depth, inString, escaped := 0, false, false
	for {
		c, ok := s.next()
		if !ok {
			return errNoResync
		}
		if !inString && depth == 0 && s.n > 0 && strings.IndexByte(",]} \t\r\n", c) >= 0 {
			s.back(c)
			return nil // the end of a scalar
		}
		s.n++
		if len(s.kept) <= s.keep {
			s.kept = append(s.kept, c)
		}
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
			if depth == 0 {
				return nil
			}
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth < 0 {
				return errNoResync
			}
			if depth == 0 {
				return nil
			}
		}
	}
}

// back gives back the byte just read.
func (s *valueSkipper) back(c byte) {
	if c == '\n' {
		s.lines--
	}
	s.b = append([]byte{c}, s.b...)
}

// afterValue reads past whitespace to the ',' or ']' that follows an array element.
func (s *valueSkipper) afterValue() (byte, error) {
	for {
		c, ok := s.next()
		switch {
		case !ok:
			return 0, errNoResync
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case c == ',' || c == ']':
			return c, nil
		default:
			return 0, errNoResync
		}
	}
}

// rest is what the skipper read ahead and did not use.
func (s *valueSkipper) rest() []byte { return append([]byte(nil), s.b...) }
