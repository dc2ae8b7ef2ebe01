package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sniff tells the format of the input br holds from its first bytes (at most br.Size(), by Peek:
// nothing is consumed) and whether it is gzip-compressed (by its magic bytes). A gzip stream's
// first bytes are decompressed to look inside; a UTF-16 byte order mark is followed. Open does
// the same when Options.Format is empty (looking further when a first line fills the buffer);
// DetectedOf tells what it found.
func Sniff(br *bufio.Reader) (f Format, gz bool, err error) {
	head, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("reading input: %w", err)
	}
	atEOF := err != nil
	if bytes.HasPrefix(head, gzipMagic) {
		gz = true
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return "", true, fmt.Errorf("input is not gzip data: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, int64(br.Size())))
		// A stream cut by the window ends in ErrUnexpectedEOF: the input goes on.
		head, atEOF = plain, atEOF && err == nil && len(plain) < br.Size()
	}
	head = decodeHead(head, atEOF)
	if f, _, _ = sniffContent(head, atEOF, "", ""); f == "" {
		return "", gz, errors.New("empty input: no records")
	}
	return f, gz, nil
}

// sniffContent tells the format from the first bytes of the decoded input: "" when they are
// only whitespace and the input ends there. For a JSON object it also returns the field that
// holds the records when it saw one (field, else "users" in any case). sure is false when a
// first line longer than head left it a guess.
//
// JSON starts with '[' or '{' followed by what JSON can hold there; anything else is CSV. An
// object that spans lines is one JSON document; one that ends on its first line and is followed
// by more is NDJSON; a lone one-line object is an envelope only if it holds the records field
// or is a single array-valued field (otherwise it is one NDJSON record: Auth0 users hold arrays).
func sniffContent(head []byte, atEOF bool, field string, hint Format) (f Format, recordsField string, sure bool) {
	f, recordsField, sure, _ = sniffHead(head, atEOF, field, hint)
	return f, recordsField, sure
}

// sniffHead is sniffContent that also says whether its answer is final: no byte after head can
// change it. A pipe's first bytes are judged as they arrive and the wait ends once it is final;
// a file's buffer is then read no further than the answer it gives in full.
func sniffHead(head []byte, atEOF bool, field string, hint Format) (f Format, recordsField string, sure, final bool) {
	i := skipSpace(head, 0)
	if i == len(head) {
		if atEOF {
			return "", "", true, true
		}
		return CSV, "", true, false
	}
	next := skipSpace(head, i+1)
	switch head[i] {
	case '[':
		if next == len(head) {
			return JSON, "", true, atEOF
		}
		if strings.IndexByte(`{["]`, head[next]) >= 0 {
			return JSON, "", true, true
		}
		return CSV, "", true, true
	case '{':
		if next < len(head) && head[next] != '"' && head[next] != '}' {
			return CSV, "", true, true
		}
		f, recordsField, sure, final = sniffObject(head[i:], atEOF, field, hint)
		return f, recordsField, sure, final && (next < len(head) || atEOF) // (the byte after '{' may yet make it CSV)
	}
	return CSV, "", true, true
}

// sniffObject walks a JSON object's first bytes (b[0] == '{') just far enough to tell JSON from
// NDJSON; see sniffContent and sniffHead.
func sniffObject(b []byte, atEOF bool, field string, hint Format) (f Format, recordsField string, sure, final bool) {
	var (
		depth               int
		inStr, esc          bool
		strStart            int
		wantKey, afterColon bool
		key, envelope       string
		keys, arrays        int
		closed              = -1
	)
scan:
	for k := 0; k < len(b); k++ {
		c := b[k]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if depth == 1 && wantKey {
					key, wantKey = string(b[strStart+1:k]), false
					keys++
				}
			}
			continue
		}
		switch c {
		case '\n':
			return JSON, envelope, true, true // a record that spans lines: a JSON document
		case ' ', '\t', '\r':
			continue
		case '"':
			inStr, strStart = true, k
		case '{', '[':
			if depth == 1 && afterColon && c == '[' {
				arrays++
				if envelope == "" && (key == field || field == "" && strings.EqualFold(key, "users")) {
					envelope = key
				}
			}
			depth++
			if depth == 1 {
				wantKey = true
			}
		case '}', ']':
			if depth--; depth == 0 {
				closed = k
				break scan
			}
		case ':':
			if depth == 1 {
				afterColon = true
				continue
			}
		case ',':
			if depth == 1 {
				wantKey = true
			}
		}
		afterColon = false
	}
	switch {
	case closed < 0 && envelope != "":
		return JSON, envelope, true, true
	case closed < 0 && atEOF:
		return JSONL, "", true, true // one broken line: the NDJSON reader names it
	case closed < 0:
		if hint == JSONL {
			return JSONL, "", false, false
		}
		return JSON, "", false, false // one line longer than the window: most likely a minified document
	case skipSpace(b, closed+1) < len(b):
		return JSONL, "", true, true // more after a one-line object
	case envelope != "" || keys == 1 && arrays == 1:
		return JSON, envelope, true, atEOF // (more after it would make it NDJSON)
	}
	return JSONL, "", true, atEOF
}

// peekDecided peeks at br's first bytes until decided says they are enough, the buffer is full
// or the input ends (atEOF). Each wait is one read of what has arrived, so a slow pipe is
// waited for only until the bytes that decide are in, not until a buffer's worth is.
func peekDecided(br *bufio.Reader, decided func(head []byte, atEOF bool) bool) (head []byte, atEOF bool, err error) {
	for {
		head, _ = br.Peek(br.Buffered())
		if len(head) == br.Size() || len(head) > 0 && decided(head, false) {
			return head, false, nil
		}
		if _, err = br.Peek(len(head) + 1); err != nil {
			if errors.Is(err, io.EOF) {
				head, _ = br.Peek(br.Buffered())
				return head, true, nil
			}
			return nil, false, err
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
