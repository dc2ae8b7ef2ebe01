package source

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// firebaseRow is one firebase-tools CSV line: width-1 values and the trailing comma
// (arr.join(",") + ","), so width fields. vals sets values by position.
func firebaseRow(width int, vals map[int]string) string {
	arr := make([]string, width-1)
	for i, v := range vals {
		arr[i] = v
	}
	return strings.Join(arr, ",") + ",\n"
}

func layout(n int) []string {
	names := []string{"localId", "email", "emailVerified", "passwordHash", "salt", "displayName", "photoUrl"}
	for i := len(names); i < n; i++ {
		names = append(names, fmt.Sprintf("f%d", i))
	}
	return names[:n]
}

func TestCSVDialects(t *testing.T) {
	latin1 := "id,email,first_name\nu1,rene@example.fr,Ren\xe9\nu2,zoe@example.fr,Zo\xeb\n"
	for _, tc := range []struct {
		name    string
		in      []byte
		opts    Options
		header  []string
		cells   [][]string
		dialect Dialect
		comment int
	}{
		{"European Excel: BOM, semicolons, CRLF", []byte("\xEF\xBB\xBFid;email;first_name;last_name\r\nu1;anna@example.de;Anna;\"M\xc3\xbcller; geb. Schmidt\"\r\nu2;bob@example.de;Bob;Mayer\r\n"), Options{},
			[]string{"id", "email", "first_name", "last_name"}, [][]string{{"u1", "anna@example.de", "Anna", "Müller; geb. Schmidt"}, {"u2", "bob@example.de", "Bob", "Mayer"}},
			Dialect{Encoding: "utf-8", BOM: true, Delimiter: ';', CRLF: true}, 0},
		{"tab-separated", []byte("id\temail\tname\nu1\ta@x.io\tDoe, Jane\n"), Options{},
			[]string{"id", "email", "name"}, [][]string{{"u1", "a@x.io", "Doe, Jane"}},
			Dialect{Encoding: "utf-8", Delimiter: '\t'}, 0},
		{"pipes, a quoted pipe is no delimiter", []byte("id|emails\n\"u|1\"|a@x.io,b@x.io\n"), Options{},
			[]string{"id", "emails"}, [][]string{{"u|1", "a@x.io,b@x.io"}},
			Dialect{Encoding: "utf-8", Delimiter: '|'}, 0},
		{"a given delimiter wins", []byte("id;name,x\nu1;a,b\n"), Options{Delimiter: ','},
			[]string{"id;name", "x"}, [][]string{{"u1;a", "b"}},
			Dialect{Encoding: "utf-8", Delimiter: ','}, 0},
		{"Latin-1", []byte(latin1), Options{Encoding: "ISO-8859-1"},
			[]string{"id", "email", "first_name"}, [][]string{{"u1", "rene@example.fr", "René"}, {"u2", "zoe@example.fr", "Zoë"}},
			Dialect{Encoding: "latin1", Delimiter: ','}, 0},
		{"Windows-1252: euro and curly quotes", []byte("id;note\r\nu1;\x80 5 \x93ok\x94\r\n"), Options{Encoding: "cp1252"},
			[]string{"id", "note"}, [][]string{{"u1", "€ 5 “ok”"}},
			Dialect{Encoding: "windows-1252", Delimiter: ';', CRLF: true}, 0},
		{"Excel 'Unicode text': UTF-16LE, BOM, tabs", utf16Bytes("id\temail\tname\r\nu1\tz@x.io\tZo\u00eb \U0001F600\r\n", binary.LittleEndian), Options{},
			[]string{"id", "email", "name"}, [][]string{{"u1", "z@x.io", "Zoë 😀"}},
			Dialect{Encoding: "utf-16le", BOM: true, Delimiter: '\t', CRLF: true}, 0},
		{"UTF-16BE with BOM, encoding given as utf-16", utf16Bytes("id,name\nu1,J\u00fcrgen\n", binary.BigEndian), Options{Encoding: "utf-16"},
			[]string{"id", "name"}, [][]string{{"u1", "Jürgen"}},
			Dialect{Encoding: "utf-16be", BOM: true, Delimiter: ','}, 0},
		{"clerk migration-tool sample: a # comment line, then the header", []byte("# Password for users with passwords: Kk4aPMeiaRpAs2OeX1NE\nid,first_name,password_digest\nuser_2YDryYFVMM1W1plDDKz7Gzf4we6,Jane,$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2\n"), Options{},
			[]string{"id", "first_name", "password_digest"}, [][]string{{"user_2YDryYFVMM1W1plDDKz7Gzf4we6", "Jane", "$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2"}},
			Dialect{Encoding: "utf-8", Delimiter: ','}, 1},
		{"blank and comment lines mixed; '#,' is a column", []byte("\n# one\n\n##two\n#\n#,name\n1,a\n"), Options{},
			[]string{"#", "name"}, [][]string{{"1", "a"}},
			Dialect{Encoding: "utf-8", Delimiter: ','}, 3},
		{"'#id' is a column name, not a comment", []byte("#id,name\n1,a\n"), Options{},
			[]string{"#id", "name"}, [][]string{{"1", "a"}},
			Dialect{Encoding: "utf-8", Delimiter: ','}, 0},
		{"cognito import CSV: \\, in values", []byte("cognito:username,name,email,email_verified,address,cognito:mfa_enabled\njdoe,Doe\\, John,jdoe@example.com,TRUE,1 Main St\\, Springfield\\, IL,FALSE\nann,Ann,ann@example.com,FALSE,,FALSE\n"), Options{BackslashEscapes: true},
			[]string{"cognito:username", "name", "email", "email_verified", "address", "cognito:mfa_enabled"},
			[][]string{{"jdoe", "Doe, John", "jdoe@example.com", "TRUE", "1 Main St, Springfield, IL", "FALSE"}, {"ann", "Ann", "ann@example.com", "FALSE", "", "FALSE"}},
			Dialect{Encoding: "utf-8", Delimiter: ',', BackslashEscapes: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := DetectedOf(r)
			r.Close()
			if d.Format != CSV || d.Comments != tc.comment {
				t.Errorf("detected %q with %d comment lines, want csv, %d", d.Format, d.Comments, tc.comment)
			}
			if diff := cmp.Diff(tc.dialect, d.Dialect); diff != "" {
				t.Errorf("dialect (-want +got):\n%s", diff)
			}
			h, recs := mustReadAll(t, tc.in, tc.opts)
			if diff := cmp.Diff(tc.header, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			var cells [][]string
			for _, rec := range recs {
				if rec.Err != nil {
					t.Errorf("record %d: %v", rec.Num, rec.Err)
				}
				cells = append(cells, rec.Cells)
			}
			if diff := cmp.Diff(tc.cells, cells); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			if n := Count(bytes.NewReader(tc.in), tc.opts); n != len(recs) {
				t.Errorf("Count = %d, Next gave %d", n, len(recs))
			}
		})
	}
	// Not told it is Latin-1, the row says what to do.
	_, recs := mustReadAll(t, []byte(latin1), Options{})
	if len(recs) != 2 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "line 2: column 3: invalid UTF-8 (is the file UTF-8? if not, give its encoding)") {
		t.Errorf("Latin-1 read as UTF-8: %+v", recs)
	}
	// The comment line still counts: records keep their real line numbers.
	_, recs = mustReadAll(t, []byte("# c\nid\n1\n"), Options{})
	if len(recs) != 1 || recs[0].Line != 3 {
		t.Errorf("line after a comment: %+v", recs)
	}
}

func TestCSVEncodingErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		opts Options
		want string
	}{
		{[]byte("a\n1\n"), Options{Encoding: "ebcdic"}, `unknown encoding "ebcdic"`},
		{[]byte("a\n1\n"), Options{Encoding: "utf-16"}, "no byte order mark: give its encoding as utf-16le or utf-16be"},
		{utf16Bytes("a\n1\n", binary.LittleEndian), Options{Encoding: "latin1"}, "starts with a UTF-16LE byte order mark, but its encoding was given as latin1"},
		{utf16Bytes("a\n1\n", binary.BigEndian), Options{Encoding: "utf-16le"}, "UTF-16BE byte order mark"},
		{[]byte("a\n1\n"), Options{Delimiter: '"'}, "CSV delimiter"},
		{[]byte("a\n1\n"), Options{Delimiter: 'é'}, "CSV delimiter"},
	} {
		if _, err := Open(bytes.NewReader(tc.in), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestCSVFirebaseLegacyBareQuotes(t *testing.T) {
	// firebase-tools <= 15.18 (escapeComma): a displayName is quoted only when it holds a comma,
	// and its inner quotes are never doubled; customAttributes is quoted with doubled quotes.
	in := firebaseRow(29, map[int]string{0: "uid1", 1: "jj@example.com", 2: "true", 5: `John "JJ" Doe`, 23: "1704067200000", 27: `"{""role"":""admin""}"`}) +
		firebaseRow(29, map[int]string{0: "uid2", 1: "ann@example.com", 2: "false", 5: `"Lee, Ann "AJ" PhD"`, 23: "1704067200000"}) +
		firebaseRow(29, map[int]string{0: "uid3", 5: `"Doe, Jane"`, 25: "+15555550100", 26: "true"})
	opts := Options{Headers: [][]string{layout(29), layout(53)}, LazyQuotes: true}
	_, recs := mustReadAll(t, []byte(in), opts)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for i, want := range []string{`John "JJ" Doe`, `Lee, Ann "AJ" PhD`, "Doe, Jane"} {
		if recs[i].Err != nil {
			t.Fatalf("record %d: %v", i+1, recs[i].Err)
		}
		if got := recs[i].Cells[5]; got != want {
			t.Errorf("record %d displayName %q, want %q", i+1, got, want)
		}
	}
	if got := recs[0].Cells[27]; got != `{"role":"admin"}` {
		t.Errorf("customAttributes %q", got)
	}
	// Strict, the first two rows are refused one by one (the third is fine).
	opts.LazyQuotes = false
	_, recs = mustReadAll(t, []byte(in), opts)
	if len(recs) != 3 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), `bare "`) || recs[1].Err == nil || recs[2].Err != nil {
		t.Errorf("strict: %+v", recs)
	}
}

func TestCSVHeaderlessLayouts(t *testing.T) {
	layouts := [][]string{layout(29), layout(53)}
	new53 := firebaseRow(53, map[int]string{0: "uid1", 1: "a@x.io", 5: `"Doe, ""JJ"" Jane"`, 28: "001234.abcd"})
	for _, tc := range []struct {
		name   string
		in     string
		layout int
	}{
		{"legacy 29", firebaseRow(29, map[int]string{0: "uid1"}) + firebaseRow(29, map[int]string{0: "uid2"}), 0},
		{"new 53", new53 + firebaseRow(53, map[int]string{0: "uid2"}), 1},
		{"a broken first row is passed over", "x\"y\n" + new53, 1},
	} {
		r, err := Open(strings.NewReader(tc.in), Options{Headers: layouts})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d, _ := DetectedOf(r)
		if d.Layout != tc.layout || len(r.Header()) != len(layouts[tc.layout]) {
			t.Errorf("%s: layout %d (%d columns), want %d", tc.name, d.Layout, len(r.Header()), tc.layout)
		}
		r.Close()
	}
	_, recs := mustReadAll(t, []byte(new53), Options{Headers: layouts})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Cells[5] != `Doe, "JJ" Jane` || recs[0].Cells[28] != "001234.abcd" {
		t.Errorf("53-field row: %+v", recs)
	}
	// 27 fields, as the old preset wrongly wrote: one error naming both widths.
	_, err := Open(strings.NewReader(firebaseRow(27, nil)+firebaseRow(27, nil)), Options{Headers: layouts})
	if err == nil || !strings.Contains(err.Error(), "line 1: the first row has 27 fields; a header-less file of this kind has 29 or 53 fields") {
		t.Errorf("27-field rows: %v", err)
	}
	if _, err := Open(strings.NewReader("a\n"), Options{Header: []string{"a"}, Headers: layouts}); err == nil {
		t.Error("Header and Headers both given: no error")
	}
}

func TestCSVOneWrongWidthIsOneError(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opts     Options
		want     string
	}{
		{"rows one short", "id,email,first_name,last_name\nu1,a@x.io,Ann\nu2,b@x.io,Bo\n", Options{},
			`line 2: every row read has 3 fields, but the header (line 1) has 4 (header columns with no field in the rows: "last_name")`},
		{"rows longer", "id,email\nu1,a@x.io,x,y\nu2,b@x.io,x,y\n", Options{},
			`every row read has 4 fields, but the header (line 1) has 2 (the rows have 2 fields after the header's last column "email")`},
		{"the only row", "# c\nid;email\nu1;a@x.io;z\n", Options{},
			`line 3: the only row has 3 fields, but the header (line 2) has 2`},
		{"header-less", "u1,a@x.io\nu2,b@x.io\n", Options{Header: []string{"id", "email", "name"}},
			`line 1: every row read has 2 fields, but a header-less row of this kind has 3`},
	} {
		_, err := Open(strings.NewReader(tc.in), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if n := Count(strings.NewReader(tc.in), tc.opts); n != 0 {
			t.Errorf("%s: Count = %d of an input Open refuses", tc.name, n)
		}
	}
	// A single odd row among good ones stays that row's error, also past the rows looked at.
	var b strings.Builder
	b.WriteString("id,email\nu0,a@x.io,extra\n")
	for i := range lookahead + 3 {
		fmt.Fprintf(&b, "u%d,u%d@x.io\n", i+1, i+1)
	}
	_, recs := mustReadAll(t, []byte(b.String()), Options{})
	if len(recs) != lookahead+4 || recs[0].Err == nil || recs[1].Err != nil || recs[len(recs)-1].Cells[0] != fmt.Sprintf("u%d", lookahead+3) {
		t.Fatalf("one odd row: %d records, first %v", len(recs), recs[0].Err)
	}
	for i, r := range recs {
		if r.Num != i+1 || r.Line != i+2 {
			t.Errorf("record %d: Num %d Line %d", i, r.Num, r.Line)
		}
	}
}

// TestWriterKeepsTheDialect: failed rows come back in the input's own shape and read back the same.
func TestWriterKeepsTheDialect(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		opts Options
		want []byte // the writer's output for the header and every record
	}{
		{"European Excel", []byte("\xEF\xBB\xBFid;name\r\nu1;\"M\xc3\xbcller; H\"\r\nu2;Bo\r\n"), Options{},
			[]byte("\xEF\xBB\xBFid;name\r\nu1;\"M\xc3\xbcller; H\"\r\nu2;Bo\r\n")},
		{"Latin-1 stays Latin-1", []byte("id,name\nu1,Ren\xe9\n"), Options{Encoding: "latin1"},
			[]byte("id,name\nu1,Ren\xe9\n")},
		{"UTF-16LE", utf16Bytes("id\tname\r\nu1\tZo\u00eb\r\n", binary.LittleEndian), Options{},
			utf16Bytes("id\tname\r\nu1\tZo\u00eb\r\n", binary.LittleEndian)},
		{"cognito backslash escapes", []byte("u,name,note\nj,Doe\\, J,\"say \"\"hi\"\", ok\"\n"), Options{BackslashEscapes: true},
			[]byte("u,name,note\nj,Doe\\, J,\"say \"\"hi\"\", ok\"\n")},
		{"an unparsable row goes back as it came, in its encoding", []byte("id,name\nu1,Ren\xe9,x\nu2,ok\n"), Options{Encoding: "latin1"},
			[]byte("id,name\nu1,Ren\xe9,x\nu2,ok\n")},
		{"NDJSON in UTF-16", utf16Bytes("{\"a\":\"\u00e9\"}\n", binary.LittleEndian), Options{},
			utf16Bytes("{\"a\":\"\u00e9\"}\n", binary.LittleEndian)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := DetectedOf(r)
			var out bytes.Buffer
			w := NewWriterFor(&out, d.Format, r.Header(), d.Dialect)
			var recs []Record
			for {
				rec, err := r.Next(t.Context())
				if err != nil {
					break
				}
				recs = append(recs, rec)
				if err := w.Write(rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), tc.want) {
				t.Errorf("wrote %q\nwant  %q", out.Bytes(), tc.want)
			}
			// Read back with the same options: the same records.
			_, back := mustReadAll(t, out.Bytes(), tc.opts)
			if len(back) != len(recs) {
				t.Fatalf("read back %d records, wrote %d", len(back), len(recs))
			}
			for i := range recs {
				if diff := cmp.Diff(recs[i].Cells, back[i].Cells); diff != "" || string(recs[i].Raw) != string(back[i].Raw) {
					t.Errorf("record %d: cells (-wrote +read):\n%s raw %q / %q", i+1, diff, recs[i].Raw, back[i].Raw)
				}
			}
		})
	}
	// Cells the escapes cannot carry are quoted, and read back whole.
	d := Dialect{Delimiter: ',', BackslashEscapes: true}
	var out bytes.Buffer
	w := NewWriterFor(&out, CSV, []string{"#a", "b", "c", "e"}, d)
	cells := []string{`ends\`, `x\,y`, "a,b", "line\nbreak"}
	if err := w.Write(Record{Cells: cells}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if want := "\"#a\",b,c,e\n\"ends\\\",\"x\\,y\",a\\,b,\"line\nbreak\"\n"; out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
	h, back := mustReadAll(t, out.Bytes(), Options{BackslashEscapes: true})
	if len(back) != 1 || back[0].Err != nil || h[0] != "#a" {
		t.Fatalf("read back %q: %+v", h, back)
	}
	if diff := cmp.Diff(cells, back[0].Cells); diff != "" {
		t.Errorf("cells (-wrote +read):\n%s", diff)
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"tab": '\t', `\t`: '\t', "\t": '\t', ";": ';', "Semicolon": ';', "|": '|', ",": ','} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ";;", `"`, "\n", "é"} {
		if _, err := ParseDelimiter(in); err == nil {
			t.Errorf("ParseDelimiter(%q): no error", in)
		}
	}
}
