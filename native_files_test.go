package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/userimport/userimport/internal/fixtures"
)

// TestNativeEverydayFiles imports, with the default preset, the files people make by hand or
// from a spreadsheet: each must import every user with the right fields.
func TestNativeEverydayFiles(t *testing.T) {
	latin1 := func(s string) string {
		b, err := charmap.ISO8859_1.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	user := func(ext, email, first, last, phone string) fixtures.Expect {
		e := fixtures.Expect{ExternalID: ext, FirstName: first, LastName: last, SkipPasswordRequirement: true}
		if email != "" {
			e.Emails = []fixtures.Address{{Value: email, Verified: true}}
		}
		if phone != "" {
			e.Phones = []fixtures.Address{{Value: phone, Verified: true}}
		}
		return e
	}
	cases := []struct {
		name, file, content string
		flags               []string
		want                []fixtures.Expect
	}{{
		// Excel "CSV UTF-8" in a European locale: BOM, ';' between fields, CRLF, headers as
		// people type them, one with a trailing space.
		name: "european-excel", file: "users.csv",
		content: "\ufeffEXTERNAL_ID;Email Address;First Name;Last Name;phone_number \r\n" +
			"u-1;anna.muller@example.de;Anna;Müller;+4915112345678\r\n" +
			"u-2;jean.dupont@example.fr;Jean;\"Dupont; fils\";\r\n",
		want: []fixtures.Expect{
			user("u-1", "anna.muller@example.de", "Anna", "Müller", "+4915112345678"),
			user("u-2", "jean.dupont@example.fr", "Jean", "Dupont; fils", ""),
		},
	}, {
		name: "tab-separated", file: "users.tsv",
		content: "user_id\temail\tgiven_name\tfamily_name\n" +
			"t-1\tmia.tan@example.com\tMia\tTan, Jr.\n" +
			"t-2\tleo.ng@example.com\tLeo\tNg\n",
		want: []fixtures.Expect{
			user("t-1", "mia.tan@example.com", "Mia", "Tan, Jr.", ""),
			user("t-2", "leo.ng@example.com", "Leo", "Ng", ""),
		},
	}, {
		// Latin-1, as older Excel and many databases write it: é and ü are single bytes.
		name: "latin1", file: "users.csv", flags: []string{"--encoding", "latin1"},
		content: latin1("id,email,name\nl-1,renee@example.com,Renée Süß\nl-2,bjorn@example.com,Björn Åberg\n"),
		want: []fixtures.Expect{
			{ExternalID: "l-1", Emails: []fixtures.Address{{Value: "renee@example.com", Verified: true}}, Name: "Renée Süß", SkipPasswordRequirement: true},
			{ExternalID: "l-2", Emails: []fixtures.Address{{Value: "bjorn@example.com", Verified: true}}, Name: "Björn Åberg", SkipPasswordRequirement: true},
		},
	}, {
		// A plain "email" column, and email_verified false meaning reserved.
		name: "plain-email", file: "users.csv",
		content: "email,external_id,email_verified\np-1@example.com,p-1,true\np-2@example.com,p-2,false\n",
		want: []fixtures.Expect{
			user("p-1", "p-1@example.com", "", "", ""),
			{ExternalID: "p-2", Emails: []fixtures.Address{{Value: "p-2@example.com", Verified: false}}, SkipPasswordRequirement: true},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			tg := newE2ETarget(t)
			out := filepath.Join(dir, "run")
			args := append([]string{"import", "--out", out, "--no-progress", "--rate", "500"}, c.flags...)
			res := tg.run(append(args, path)...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			checkLanded(t, tg, fixtures.File{Name: c.file, Preset: "native", Expect: c.want}, journalByRow(t, out), nil)
		})
	}
}

// Two columns that both match one field only as people write it (neither spelled exactly) are a
// usage error naming both, under validate and import alike, and nothing is created. (A column
// spelled exactly wins over a loose one, and email and email_address are two keys of one list:
// neither is ambiguous.)
func TestNativeAmbiguousColumns(t *testing.T) {
	for _, c := range []struct{ header, a, b string }{
		{"Email Address,EMAIL-ADDRESS,external_id", "Email Address", "EMAIL-ADDRESS"},
		{"External ID,EXTERNAL_ID,email_address", "External ID", "EXTERNAL_ID"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "users.csv")
		if err := os.WriteFile(path, []byte(c.header+"\nx@example.com,y@example.com,z\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tg := newE2ETarget(t)
		for _, cmd := range []string{"validate", "import"} {
			args := []string{cmd, path}
			if cmd == "import" {
				args = []string{cmd, "--out", filepath.Join(dir, "run"), "--no-progress", path}
			}
			res := tg.run(args...)
			if res.code != 2 {
				t.Errorf("%s with header %q: exit %d, want 2\nstdout: %s\nstderr: %s", cmd, c.header, res.code, res.stdout, res.stderr)
				continue
			}
			for _, col := range []string{c.a, c.b} {
				if !strings.Contains(res.stderr, col) {
					t.Errorf("%s with header %q: the error does not name %q:\n%s", cmd, c.header, col, res.stderr)
				}
			}
		}
		if n := len(tg.users()); n != 0 {
			t.Errorf("header %q: %d users created", c.header, n)
		}
	}
}
