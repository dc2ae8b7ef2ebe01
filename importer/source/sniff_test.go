package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

// utf16Bytes encodes s as UTF-16 with a byte order mark, by hand (not with the library under test).
func utf16Bytes(s string, order binary.AppendByteOrder) []byte {
	out := order.AppendUint16(nil, 0xFEFF)
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

// The exports below are shaped as each tool writes them (see ../shared/SOURCES.md).
const (
	auth0Line1 = `{"user_id":"auth0|65a1b2c3d4e5f60718293a4b","email":"ann@example.com","email_verified":true,"name":"Ann Lee","identities":[{"connection":"Username-Password-Authentication","user_id":"65a1b2c3d4e5f60718293a4b","provider":"auth0","isSocial":false}],"created_at":"2024-01-15T10:30:00.000Z","blocked":false}`
	auth0Line2 = `{"user_id":"google-oauth2|104375384958671234567","email":"bo@example.com","email_verified":true,"identities":[{"connection":"google-oauth2","user_id":"104375384958671234567","provider":"google-oauth2","isSocial":true}],"created_at":"2024-02-01T08:00:00.000Z"}`

	// firebase-tools: `{"users": [` + EOL, JSON.stringify(u, null, 2) joined by ",\n", then "]}".
	firebaseJSON = "{\"users\": [\n" + `{
  "localId": "Ab3dE5gH7jK9mN1pQ3sT5vX7zB2",
  "email": "ann@example.com",
  "emailVerified": true,
  "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
  "salt": "42xEC+ixf3L2lw==",
  "displayName": "Ann \"AJ\" Lee, PhD",
  "createdAt": "1704067200000",
  "lastSignedInAt": "1704153600000",
  "customAttributes": "{\"role\":\"admin\"}",
  "providerUserInfo": []
},
{
  "localId": "Zy9xW7vU5tS3rQ1pO9nM7lK5jI3",
  "phoneNumber": "+15555550100",
  "createdAt": "1704067200000",
  "disabled": true,
  "providerUserInfo": []
}]}`

	// aws cognito-idp list-users: the CLI's 4-space JSON, attribute values all strings.
	cognitoJSON = `{
    "Users": [
        {
            "Username": "22704aa3-fc10-479a-97eb-2af5806bd327",
            "Attributes": [
                {
                    "Name": "sub",
                    "Value": "22704aa3-fc10-479a-97eb-2af5806bd327"
                },
                {
                    "Name": "email",
                    "Value": "ann@example.com"
                }
            ],
            "UserCreateDate": "2020-10-21T13:01:21.389000+00:00",
            "UserLastModifiedDate": "2020-10-21T13:01:21.389000+00:00",
            "Enabled": true,
            "UserStatus": "CONFIRMED"
        }
    ]
}
`
	// clerk migrate export clerk: the users array is the envelope's last field.
	clerkEnvelope = `{
  "clerkMigrate": "1",
  "source": "clerk",
  "exportedAt": "2026-08-01T10:00:00.000Z",
  "runId": "run_2x7",
  "users": [
    {
      "id": "user_2YDryYFVMM1W1plDDKz7Gzf4we6",
      "email_addresses": ["jane@example.com"],
      "banned": true,
      "public_metadata": {"tags": ["a", "b"]}
    }
  ]
}
`
)

func TestSniffFormats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		opts  Options
		want  Detected
		recs  int
		first string // Raw of the first record, "" = not checked
	}{
		{"auth0 NDJSON named .json.gz", gz(t, []byte(auth0Line1+"\n"+auth0Line2+"\n")), Options{Hint: JSON, Gzip: true},
			Detected{Format: JSONL, Sniffed: true, Gzip: true}, 2, auth0Line1},
		{"gzip found by its magic bytes alone", gz(t, []byte(auth0Line1+"\n")), Options{},
			Detected{Format: JSONL, Sniffed: true, Gzip: true}, 1, auth0Line1},
		{"one Auth0 user on one line is a record, not an envelope", []byte(auth0Line1 + "\n"), Options{Hint: JSON},
			Detected{Format: JSONL, Sniffed: true}, 1, auth0Line1},
		{"firebase auth:export JSON", []byte(firebaseJSON), Options{Hint: JSON},
			Detected{Format: JSON, Sniffed: true, Field: "users"}, 2, ""},
		{"cognito list-users", []byte(cognitoJSON), Options{},
			Detected{Format: JSON, Sniffed: true, Field: "Users"}, 1, ""},
		{"clerk CLI envelope", []byte(clerkEnvelope), Options{Hint: JSONL},
			Detected{Format: JSON, Sniffed: true, Field: "users"}, 1, ""},
		{"minified envelope on one line", []byte(`{"users":[{"id":"u1"},{"id":"u2"}]}`), Options{},
			Detected{Format: JSON, Sniffed: true, Field: "users"}, 2, `{"id":"u1"}`},
		{"array", []byte("[\n  {\"id\": \"u1\"}\n]\n"), Options{Hint: CSV},
			Detected{Format: JSON, Sniffed: true}, 1, `{"id": "u1"}`},
		{"CSV named .json", []byte("id,email\nu1,a@x.io\n"), Options{Hint: JSON},
			Detected{Format: CSV, Sniffed: true, Dialect: Dialect{Delimiter: ','}}, 1, "u1,a@x.io"},
		{"CSV whose first column looks like JSON", []byte("[id],{x}\n1,2\n"), Options{},
			Detected{Format: CSV, Sniffed: true, Dialect: Dialect{Delimiter: ','}}, 1, "1,2"},
		{"UTF-16 JSON from PowerShell", utf16Bytes(`[{"id":"ü"}]`, binary.LittleEndian), Options{},
			Detected{Format: JSON, Sniffed: true, Dialect: Dialect{Encoding: "utf-16le", BOM: true}}, 1, `{"id":"ü"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tc.in), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := DetectedOf(r)
			r.Close()
			if !ok {
				t.Fatal("DetectedOf: not a reader from Open")
			}
			tc.want.Layout = -1
			if tc.want.Dialect.Encoding == "" {
				tc.want.Dialect.Encoding = "utf-8"
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("detected (-want +got):\n%s", diff)
			}
			_, recs := mustReadAll(t, tc.in, tc.opts)
			if len(recs) != tc.recs {
				t.Fatalf("%d records, want %d", len(recs), tc.recs)
			}
			for _, rec := range recs {
				if rec.Err != nil {
					t.Errorf("record %d: %v", rec.Num, rec.Err)
				}
			}
			if tc.first != "" && string(recs[0].Raw) != tc.first {
				t.Errorf("first record %q, want %q", recs[0].Raw, tc.first)
			}
			sameOnAPipe(t, tc.in)
			if n := Count(bytes.NewReader(tc.in), tc.opts); n != len(recs) {
				t.Errorf("Count = %d, Next gave %d", n, len(recs))
			}
			// Sniff says the same from a peek, and leaves the input to be read.
			br := bufio.NewReaderSize(bytes.NewReader(tc.in), 64<<10)
			f, gzipped, err := Sniff(br)
			if err != nil || f != got.Format || gzipped != got.Gzip {
				t.Errorf("Sniff = %q, %v, %v; Open read %q, gzip %v", f, gzipped, err, got.Format, got.Gzip)
			}
			if _, recs := mustReadAll(t, mustPeek(br, len(tc.in)), tc.opts); len(recs) != tc.recs {
				t.Errorf("after Sniff the input reads %d records", len(recs))
			}
		})
	}
}

func TestSniffGivenFormatWins(t *testing.T) {
	// NDJSON read as JSON because the caller says so: the JSON reader's own error.
	_, _, err := readAll(t, []byte(auth0Line1+"\n"+auth0Line2+"\n"), Options{Format: JSON})
	if err == nil || !strings.Contains(err.Error(), "line 2: trailing data after the JSON document (one JSON object per line is NDJSON") {
		t.Errorf("NDJSON as --format json: %v", err)
	}
	r, err := Open(strings.NewReader("id\n1\n"), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := DetectedOf(r); d.Sniffed || d.Format != CSV {
		t.Errorf("given format: detected %+v", d)
	}
}

func TestSniffEmptyAndHint(t *testing.T) {
	for _, in := range []string{"", " \n\r\n", "\xEF\xBB\xBF"} {
		if _, err := Open(strings.NewReader(in), Options{}); err == nil || !strings.Contains(err.Error(), "empty input") {
			t.Errorf("%q: error %v, want empty input", in, err)
		}
		if _, _, err := Sniff(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("Sniff(%q): no error", in)
		}
	}
	// An empty file named .csv gets the CSV reader's own words.
	if _, err := Open(strings.NewReader(""), Options{Hint: CSV}); err == nil || !strings.Contains(err.Error(), "no header") {
		t.Errorf("empty .csv: %v", err)
	}
}

func TestJSONEnvelopePicksTheRecords(t *testing.T) {
	for in, want := range map[string][]string{
		`{"tags":["a"],"errors":[],"Users":[{"id":1}]}`:     {`{"id":1}`},               // "users" in any case
		`{"meta":{"users":[1]},"data":[{"id":2},{"id":3}]}`: {`{"id":2}`, `{"id":3}`},   // the first array of objects
		`{"data":[],"next":null}`:                           nil,                        // only empty arrays: no records
		`{"users":[],"more":[{"id":4}]}`:                    nil,                        // "users" wins even empty
		`{"n":[1,2],"x":[{"id":5}]}`:                        {`{"id":5}`},               // an array of numbers is not the records
		`{"users":[{"id":6}],"users2":[{"id":7}],"z":1}`:    {`{"id":6}`},               // the rest of the object is walked past
		`{"a":[],"b":[{"id":8}]}`:                           {`{"id":8}`},               // an empty array gives way to a later one
		`{"x":{},"users":[{}]}`:                             {`{}`},                     // kept from before
		`{"a":[[{"id":9}]],"users":[{"id":10},{"id":11}]}`:  {`{"id":10}`, `{"id":11}`}, // an array of arrays is walked past
	} {
		_, recs := mustReadAll(t, []byte(in), Options{Format: JSON})
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Raw))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", in, diff)
		}
	}
	if _, _, err := readAll(t, []byte(`{"data":[],"next":null} x`), Options{Format: JSON}); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("trailing data after an envelope with no records: %v", err)
	}
	if _, _, err := readAll(t, []byte(`{"n":[1,2]}`), Options{Format: JSON}); err == nil || !strings.Contains(err.Error(), "no array of records") {
		t.Errorf("no array of objects: %v", err)
	}
}

func TestSniffFirstLineLongerThanTheBuffer(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	ndjson := `{"user_id":"auth0|1","user_metadata":{"bio":"` + big + `"},"identities":[{"provider":"auth0"}]}` + "\n" + auth0Line2 + "\n"
	var doc strings.Builder
	doc.WriteString(`{"data":[`)
	for i := range 5000 {
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"id":"u%d","email":"u%d@example.com"}`, i, i)
	}
	doc.WriteString(`]}`)
	for _, tc := range []struct {
		name string
		in   string
		want Format
		recs int
	}{
		{"NDJSON with a 100 KB first record, named .json", ndjson, JSONL, 2},
		{"a minified document of 200 KB on one line", doc.String(), JSON, 5000},
	} {
		_, recs := mustReadAll(t, []byte(tc.in), Options{Hint: JSON})
		r, err := Open(strings.NewReader(tc.in), Options{Hint: JSON})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := DetectedOf(r); d.Format != tc.want || len(recs) != tc.recs {
			t.Errorf("%s: read as %s, %d records; want %s, %d", tc.name, d.Format, len(recs), tc.want, tc.recs)
		}
	}
}

// A pipe's format is told from the bytes that decide it as they arrive, not from a full 64 KiB
// window: a slow exporter's first records are read while it is still writing (the writer here
// never closes the pipe, so a wait for the window never ends).
func TestOpenDecidesOnWhatHasArrived(t *testing.T) {
	var csvRows strings.Builder
	csvRows.WriteString("external_id;email_address\r\n")
	for i := range lookahead + 1 {
		fmt.Fprintf(&csvRows, "u%d;u%d@example.com\r\n", i, i)
	}
	for _, tc := range []struct {
		name, in string
		want     Detected
	}{
		{"CSV", csvRows.String(), Detected{Format: CSV, Sniffed: true, Dialect: Dialect{Delimiter: ';', CRLF: true}}},
		{"NDJSON", auth0Line1 + "\n" + auth0Line2[:10], Detected{Format: JSONL, Sniffed: true}},
		{"JSON envelope", firebaseJSON[:strings.Index(firebaseJSON, "},\n")+3], Detected{Format: JSON, Sniffed: true, Field: "users"}},
		{"JSON array", "[\n  " + auth0Line1 + ",\n", Detected{Format: JSON, Sniffed: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pr.Close()
			go func() {
				for _, b := range []byte(tc.in) { // one byte a write: the slowest producer
					if _, err := pw.Write([]byte{b}); err != nil {
						return
					}
				}
			}()
			type opened struct {
				r   Reader
				err error
			}
			res := make(chan opened, 1)
			go func() { r, err := Open(pr, Options{}); res <- opened{r, err} }()
			select {
			case o := <-res:
				if o.err != nil {
					t.Fatal(o.err)
				}
				defer o.r.Close()
				got, _ := DetectedOf(o.r)
				tc.want.Layout, tc.want.Dialect.Encoding = -1, "utf-8"
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("detected (-want +got):\n%s", diff)
				}
				rec, err := o.r.Next(context.Background())
				if err != nil || rec.Num != 1 {
					t.Errorf("first record: %+v, %v", rec, err)
				}
			case <-time.After(5 * time.Second):
				pr.CloseWithError(errors.New("test over"))
				t.Fatalf("Open still waiting 5s after the %d bytes that decide the format arrived", len(tc.in))
			}
		})
	}
}
