package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fastMappings(tb testing.TB) []*Mapping {
	ms := []*Mapping{Native()}
	for _, name := range presetOrder[1:] {
		m, err := Preset(name, PresetOptions{FirebaseSignerKey: "a2V5", CognitoPoolID: "p", CognitoClientID: "c"})
		if err != nil {
			tb.Fatal(err)
		}
		ms = append(ms, m)
	}
	m, err := Parse([]byte(`{"fields":{"external_id":{"from":["id","uid"]},"email_address":{"from":["mail","alt"]},
		"public_metadata":"meta","username":{"from":"login","when":{"from":"ok"}},"first_name":"a.b"}}`))
	if err != nil {
		tb.Fatal(err)
	}
	return append(ms, m)
}

// sameApply holds the CSV shortcut to the generic path: same params, same error.
func sameApply(t *testing.T, m *Mapping, header, cells []string) {
	t.Helper()
	fast, ferr := m.Apply(CSVRecord(header, cells))
	slow, serr := m.apply(CSVRecord(header, cells), false)
	if diff := cmp.Diff(fmt.Sprint(serr), fmt.Sprint(ferr)); diff != "" {
		t.Fatalf("%s: error differs (-generic +fast):\n%s\ncells %q", m.Info().Name, diff, cells)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Fatalf("%s: params differ (-generic +fast):\n%s\ncells %q", m.Info().Name, diff, cells)
	}
}

var fastHeader = func() []string {
	var h []string
	for _, tg := range targets {
		h = append(h, tg.name)
	}
	return append(h, "emailAddresses", "phoneNumbers", "id", "uid", "mail", "alt", "meta", "login", "ok", "a", "a.b", "email", "passwordHash", "salt", "phone",
		"Email Verified", "emailVerified", "phone_verified", "name", "given_name", "deleted_at", "is_anonymous", "encrypted_password", "displayName", "disabled")
}()

func TestCSVShortcutMatchesGeneric(t *testing.T) {
	rows := [][]string{
		{"external_id", "ext-1", "email_address", "User@Example.com", "public_metadata", `{"plan":"pro","n":1}`},
		{"email_address", " a@x.io , b@x.io,,A@X.IO", "emailAddresses", "c@x.io", "phone_number", `["+15555550100"]`},
		{"email_address_reserved", "r@x.io", "email_address", "a@x.io", "phone_number_reserved", "+15555550101"},
		{"skip_password_checks", "YES", "delete_self_enabled", "nope", "email_address", "a@x.io"},
		{"create_organizations_limit", "010", "username", " ann "},
		{"create_organizations_limit", "x1", "username", "ann"},
		{"public_metadata", `{}`, "private_metadata", ` {"b":1, "a":[1]} `, "unsafe_metadata", `{"a":1,"a":2}`},
		{"public_metadata", `{"k":"\u00e9"}`, "private_metadata", `12`},
		{"public_metadata", `{"k":`},
		{"password", "  spaced  ", "backup_codes", "a, b ,c", "totp_secret", " T "},
		{"backup_codes", `["x", "y"]`, "web3_wallet", "[1"},
		{"id", "7", "uid", "8", "mail", "m@x.io", "alt", "n@x.io", "meta", `{"z":true,"a":null}`, "login", "l", "ok", "1"},
		{"a", `{"b":"nested"}`, "login", "l"},
		{"email", "e@x.io", "passwordHash", "aGFzaA==", "salt", "c2FsdA=="},
		{"email", "e@x.io", "Email Verified", "false", "name", "Ann Lee", "phone", "+15555550100", "phone_verified", "FALSE"},
		{"email", "null", "emailVerified", "t", "name", "Lee, Ann", "given_name", "\tAnn", "disabled", "true", "is_anonymous", "f"},
		{"email", "'e@x.io", "encrypted_password", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "deleted_at", "null"},
	}
	for _, m := range fastMappings(t) {
		for _, kv := range rows {
			cells := make([]string, len(fastHeader))
			for i := 0; i < len(kv); i += 2 {
				cells[slices.Index(fastHeader, kv[i])] = kv[i+1]
			}
			sameApply(t, m, fastHeader, cells)
			sameApply(t, m, fastHeader, cells[:len(cells)/2]) // short rows: missing cells are absent
		}
	}
}

// TestPlanFollowsHeader maps rows of two headers in turn, from many goroutines: each row must
// be read under its own header, never a cached plan of the other.
func TestPlanFollowsHeader(t *testing.T) {
	m := Native()
	h1 := []string{"external_id", "email_address"}
	h2 := []string{"email_address", "external_id"}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id, mail := fmt.Sprintf("id-%d-%d", g, i), fmt.Sprintf("u%d@x.io", i)
				rec := CSVRecord(h1, []string{id, mail})
				if (g+i)%2 == 1 {
					rec = CSVRecord(append([]string(nil), h2...), []string{mail, id})
				}
				p, err := m.Apply(rec)
				if err != nil {
					t.Error(err)
					return
				}
				if p.ExternalIDValue() != id || p.PrimaryEmail() != mail {
					t.Errorf("got %q %q, want %q %q", p.ExternalIDValue(), p.PrimaryEmail(), id, mail)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzCSVShortcut holds the CSV shortcut to the generic path on random cells.
func FuzzCSVShortcut(f *testing.F) {
	for _, s := range []string{
		"ext\x00a@x.io\x00{\"a\":1}", "\x00[\"+1555\"]\x00yes", " , \x00{} \x00010", "\x00\x00{\"b\":1,\"a\":\"x\"}",
	} {
		f.Add(s)
	}
	ms := fastMappings(f)
	f.Fuzz(func(t *testing.T, s string) {
		cells := strings.Split(s, "\x00")
		for i := range min(len(cells), 6) {
			row := make([]string, len(fastHeader))
			for j, c := range cells {
				row[(i*7+j*3)%len(row)] = c
			}
			for _, m := range ms {
				sameApply(t, m, fastHeader, row)
			}
		}
	})
}

// decodeEncode is what canonicalJSON must reproduce: toMeta's decode and re-encode.
func decodeEncode(s string) (json.RawMessage, bool) {
	d, err := decodeJSON(s)
	if err != nil {
		return nil, false
	}
	if d == nil {
		return nil, true
	}
	raw, err := metaValue(d)
	return raw, err == nil
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{"plan":"pro","n":1}`, `{"n":1,"plan":"pro"}`, true},
		{` { "b" : -0.5e+3 , "a" : null, "c": true, "d": false, "": "" } `, `{"":"","a":null,"b":-0.5e+3,"c":true,"d":false}`, true},
		{`{}`, ``, true},
		{`{"a":1,"a":2}`, ``, false}, // duplicate: the decoder decides
		{`{"a":{"b":1}}`, `{"a":{"b":1}}`, true},
		{`{"z": [3, {"y": 1, "x": [] }, {}], "a": {"c": null, "b": "t"}}`, `{"a":{"b":"t","c":null},"z":[3,{"x":[],"y":1},{}]}`, true},
		{`{"a":{"b":1,"b":2}}`, ``, false}, // a nested duplicate
		{`{"a":[1,]}`, ``, false},
		{`{"a":[1 2]}`, ``, false},
		{`{"a":{"b" 1}}`, ``, false},
		{`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, ``, false}, // deeper than maxCanonDepth
		{`{"a":"\u0041"}`, ``, false}, // escape
		{`{"a":01}`, ``, false},       // not JSON
		{`{"a":1,}`, ``, false},       // not JSON
		{`{"a":1} x`, ``, false},      // trailing data
		{`{"a":"x` + "\u2028" + `"}`, ``, false},
		{`{"a":tru}`, ``, false},
		{`{"a":1.}`, ``, false},
	}
	for _, tt := range tests {
		got, ok := canonicalJSON(strings.TrimSpace(tt.in))
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("canonicalJSON(%s) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzCanonicalJSON: whenever canonicalJSON answers, it answers what decode and encode would.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"plan":"pro","n":1}`, `{}`, `{"a":1,"b":[1]}`, `{"é":"ü","a":-0}`, `{"a":{"c":[{"e":1,"d":2}],"b":{}}}`, `{"a":1e5,"b":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.TrimSpace(s)
		got, ok := canonicalJSON(s)
		if !ok {
			return
		}
		want, wok := decodeEncode(s)
		if !wok || !bytes.Equal(got, want) {
			t.Fatalf("canonicalJSON(%q) = %s; decode and encode give %s (ok %v)", s, got, want, wok)
		}
	})
}

// FuzzPlainEmail: every address the shortcut accepts, net/mail accepts unchanged.
func FuzzPlainEmail(f *testing.F) {
	for _, s := range []string{"a@b.co", "a.b+c@x-y.io", "a..b@x.io", "a@x", "a@-.io", ".a@x.io", "a@x.io.", "\"a\"@x.io", "a@[1.2.3.4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainEmail(s) {
			return
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			t.Fatalf("plainEmail accepts %q; net/mail: %v %+v", s, err, a)
		}
		at := strings.LastIndexByte(s, '@')
		d := s[at+1:]
		if !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
			t.Fatalf("plainEmail accepts %q with domain %q", s, d)
		}
	})
}

func TestPlainEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"user1@example.com": true, "a.b+c@x-y.io": true, "a@b": false, "a..b@x.io": false, ".a@x.io": false,
		"a@x..io": false, "a@x.io.": false, "@x.io": false, "a@b@x.io": false, "é@x.io": false, "a b@x.io": false,
	} {
		if got := plainEmail(s); got != want {
			t.Errorf("plainEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCompactLen(t *testing.T) {
	for _, s := range []string{`{}`, ` { "a" : [ 1 , 2 ] , "b\" c" : "x y\\" } `, "{\n\t\"k\": \"\\u0020 \"\r\n}"} {
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got := compactLen(json.RawMessage(s)); got != b.Len() {
			t.Errorf("compactLen(%q) = %d, want %d", s, got, b.Len())
		}
	}
}
