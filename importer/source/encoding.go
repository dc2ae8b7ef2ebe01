package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// encodings are the character sets an input may be declared in, by canonical name. UTF-8 is
// read as it is; the others are decoded to UTF-8 on the way in and encoded back by the writer.
var encodings = map[string]encoding.Encoding{
	"utf-16le":     unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
	"utf-16be":     unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"latin1":       charmap.ISO8859_1,
	"windows-1252": charmap.Windows1252,
	"iso-8859-15":  charmap.ISO8859_15,
}

// lookupEncoding turns a user-given encoding name into its canonical name ("utf-16": by BOM).
func lookupEncoding(name string) (string, encoding.Encoding, error) {
	switch n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", "-")); n {
	case "", "utf-8", "utf8":
		return "utf-8", nil, nil
	case "utf-16", "utf16":
		return "utf-16", nil, nil
	case "utf-16le", "utf16le", "utf-16be", "utf16be":
		n = "utf-16" + n[len(n)-2:]
		return n, encodings[n], nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		return "latin1", encodings["latin1"], nil
	case "windows-1252", "cp1252", "win-1252", "windows1252":
		return "windows-1252", encodings["windows-1252"], nil
	case "iso-8859-15", "iso8859-15", "latin9", "latin-9":
		return "iso-8859-15", encodings["iso-8859-15"], nil
	}
	return "", nil, fmt.Errorf("unknown encoding %q (want utf-8, utf-16le, utf-16be, utf-16, latin1, windows-1252 or iso-8859-15)", name)
}

var boms = []struct {
	name string
	b    []byte
}{
	{"utf-8", []byte{0xEF, 0xBB, 0xBF}},
	{"utf-16le", []byte{0xFF, 0xFE}},
	{"utf-16be", []byte{0xFE, 0xFF}},
}

// bomOf returns the encoding whose byte order mark starts head, and the mark's length.
func bomOf(head []byte) (string, int) {
	for _, b := range boms {
		if bytes.HasPrefix(head, b.b) {
			return b.name, len(b.b)
		}
	}
	return "", 0
}

// decode drops a byte order mark and, for an input that is not UTF-8, puts a decoder in front of
// br. A BOM decides between UTF-8 and UTF-16; a BOM that contradicts the given encoding is an error.
func decode(br *bufio.Reader, name string, enc encoding.Encoding) (*bufio.Reader, string, bool, error) {
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", false, fmt.Errorf("reading input: %w", err)
	}
	bom, n := bomOf(head)
	switch {
	case bom == "" && name == "utf-16":
		return nil, "", false, errors.New("the input has no byte order mark: give its encoding as utf-16le or utf-16be")
	case bom != "" && (name == "utf-16" || name == "utf-8"):
		name, enc = bom, encodings[bom]
	case bom != "" && bom != name:
		return nil, "", false, fmt.Errorf("the input starts with a %s byte order mark, but its encoding was given as %s", strings.ToUpper(bom), name)
	}
	_, _ = br.Discard(n)
	if enc == nil {
		return br, name, n > 0, nil
	}
	return bufio.NewReaderSize(transform.NewReader(br, enc.NewDecoder()), 64<<10), name, n > 0, nil
}

// decodeHead is decode for Sniff's window of first bytes.
func decodeHead(head []byte, atEOF bool) []byte {
	bom, n := bomOf(head)
	head = head[n:]
	if enc := encodings[bom]; enc != nil {
		if !atEOF && len(head)%2 == 1 {
			head = head[:len(head)-1]
		}
		if out, err := enc.NewDecoder().Bytes(head); err == nil {
			return out
		}
	}
	return head
}

// encoder writes UTF-8 text to w in the named encoding; nil for UTF-8 itself. Text the
// encoding cannot hold (impossible for cells read from an input in that encoding) is replaced.
func encoder(name string) *encoding.Encoder {
	enc := encodings[name]
	if enc == nil {
		return nil
	}
	return encoding.ReplaceUnsupported(enc.NewEncoder())
}

// checkDelimiter refuses a CSV delimiter the splitter cannot use: it works on bytes.
func checkDelimiter(d rune) error {
	if d == 0 {
		return nil
	}
	if d >= 0x80 || d == '"' || d == '\r' || d == '\n' || d == '#' {
		return fmt.Errorf("CSV delimiter %q: want one ASCII character other than a quote, a line break or '#'", d)
	}
	return nil
}

// ParseDelimiter reads a user-given CSV delimiter: one character, or tab, comma, semicolon, pipe
// by name ("\t" as typed in a shell is a tab too).
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "tab", `\t`, "\t":
		return '\t', nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	case "pipe":
		return '|', nil
	}
	r := []rune(s)
	if len(r) != 1 {
		return 0, fmt.Errorf("CSV delimiter %q: want one character, or tab, comma, semicolon or pipe", s)
	}
	return r[0], checkDelimiter(r[0])
}
