package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHeadersAsPeopleWriteThem: case, surrounding spaces, and spaces, dashes and underscores
// inside a name do not count; an exact name wins over a loose one.
func TestHeadersAsPeopleWriteThem(t *testing.T) {
	m := bare(Native())
	p, err := m.Apply(CSVRecord([]string{"EXTERNAL_ID", "Email Address", "phone_number ", " First-Name", "Given Name"},
		[]string{"x-1", "ann@example.com", "+15555550100", "Ann", "ignored"}))
	if err != nil {
		t.Fatal(err)
	}
	want := &CreateUserParams{ExternalID: ptr("x-1"), EmailAddresses: []string{"ann@example.com"}, PhoneNumbers: []string{"+15555550100"}, FirstName: ptr("Ann")}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("csv (-want +got)\n%s", diff)
	}
	p, err = m.Apply(mustJSON(t, `{"User-ID":"x-2","E-Mail":"bob@example.com","Phone":"+15555550101"}`))
	if err != nil {
		t.Fatal(err)
	}
	want = &CreateUserParams{ExternalID: ptr("x-2"), EmailAddresses: []string{"bob@example.com"}, PhoneNumbers: []string{"+15555550101"}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("json (-want +got)\n%s", diff)
	}
	// "email" is read exactly; "Email" then is another column, not a second match.
	if err := m.CheckHeader([]string{"email", "Email", "external_id"}); err != nil {
		t.Errorf("an exact match is ambiguous: %v", err)
	}
	// A preset's keys match loosely too (Better Auth's emailVerified as email_verified).
	ba, _ := Preset("betterauth", PresetOptions{})
	p, err = ba.Apply(csvRec("id", "u1", "email", "a@x.io", "email_verified", "t"))
	if err != nil || p.EmailAddressIdentificationStatus != nil || p.PrimaryEmail() != "a@x.io" {
		t.Errorf("betterauth email_verified: %+v, %v", p, err)
	}
}

func TestAmbiguousHeader(t *testing.T) {
	m := Native()
	header := []string{"E-mail", "EMAIL", "external_id"}
	err := m.CheckHeader(header)
	var ae *AmbiguousError
	if !errors.As(err, &ae) || !slices.Equal(ae.Columns, []string{"E-mail", "EMAIL"}) || ae.Key != "email" {
		t.Fatalf("CheckHeader = %v, want an AmbiguousError naming E-mail and EMAIL", err)
	}
	if !strings.Contains(err.Error(), `"E-mail"`) || !strings.Contains(err.Error(), `"EMAIL"`) {
		t.Errorf("error %q does not name both columns", err)
	}
	// Apply refuses the rows too, rather than guessing.
	if _, err := m.Apply(CSVRecord(header, []string{"a@x.io", "b@x.io", "1"})); !errors.As(err, &ae) {
		t.Errorf("Apply = %v, want the AmbiguousError", err)
	}
	// Two JSON keys that normalise alike are ambiguous the same way.
	if err := m.CheckHeader(mustJSON(t, `{"Phone":"1","PHONE":"2"}`).Keys()); !errors.As(err, &ae) {
		t.Errorf("json keys: %v", err)
	}
	if err := m.CheckHeader([]string{"email_address", "Phone Number"}); err != nil {
		t.Errorf("plain header: %v", err)
	}
}

// TestCreateDefaults: skip_password_requirement for rows with neither password nor digest,
// skip_restriction_checks on every row, each with its option to turn it off.
func TestCreateDefaults(t *testing.T) {
	rows := []struct {
		rec              Record
		skipPasswordWant bool
	}{
		{csvRec("email", "a@x.io"), true},
		{csvRec("email", "a@x.io", "password", "secret secret"), false},
		{csvRec("email", "a@x.io", "password_digest", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "password_hasher", "bcrypt"), false},
	}
	for _, opts := range []PresetOptions{{}, {NoSkipPasswordRequirement: true}, {RestrictionChecks: true}} {
		m, err := Preset("native", opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			p, err := m.Apply(r.rec)
			if err != nil {
				t.Fatal(err)
			}
			wantSkip := r.skipPasswordWant && !opts.NoSkipPasswordRequirement
			if got := p.SkipPasswordRequirement != nil && *p.SkipPasswordRequirement; got != wantSkip || (!wantSkip && p.SkipPasswordRequirement != nil) {
				t.Errorf("%+v row %d: skip_password_requirement = %v, want %v", opts, i, p.SkipPasswordRequirement, wantSkip)
			}
			if got := p.SkipRestrictionChecks != nil; got == opts.RestrictionChecks || got && !*p.SkipRestrictionChecks {
				t.Errorf("%+v row %d: skip_restriction_checks = %v", opts, i, p.SkipRestrictionChecks)
			}
		}
	}
	// A value the record gives is kept, not overridden.
	p, _ := Native().Apply(csvRec("email", "a@x.io", "skip_password_requirement", "false", "skip_restriction_checks", "no"))
	if *p.SkipPasswordRequirement || *p.SkipRestrictionChecks {
		t.Errorf("given values overridden: %v %v", *p.SkipPasswordRequirement, *p.SkipRestrictionChecks)
	}
	a, _ := Preset("native", PresetOptions{RestrictionChecks: true})
	if string(a.Spec()) == string(Native().Spec()) {
		t.Error("--restriction-checks does not change the Spec (and so the run's mapping hash)")
	}
	b, _ := json.Marshal(&CreateUserParams{Banned: ptr(true), Locked: ptr(false), BypassClientTrust: ptr(true), SkipRestrictionChecks: ptr(true)})
	if string(b) != `{"banned":true,"locked":false,"bypass_client_trust":true,"skip_restriction_checks":true}` {
		t.Errorf("new fields marshal as %s", b)
	}
}

func TestCellRules(t *testing.T) {
	m, err := Parse([]byte(`{"values": {"null": ["null", "\\N"], "strip_prefix": ["'", "\t"]},
	  "fields": {"external_id": "id", "phone_number": {"e164": "phone"}, "last_name": "last", "username": {"from": "user", "when": "user"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m = bare(m)
	p, err := m.Apply(csvRec("id", "'auth0|1", "phone", "null", "last", "\t=Eq", "user", `\N`))
	if err != nil {
		t.Fatal(err)
	}
	want := &CreateUserParams{ExternalID: ptr("auth0|1"), LastName: ptr("=Eq")}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// One prefix, once: a name that really starts with ' keeps it after the escape.
	if p, _ := m.Apply(csvRec("id", "''t Hart")); p.ExternalIDValue() != "'t Hart" {
		t.Errorf("doubled prefix: %q", p.ExternalIDValue())
	}
	// JSON strings are left alone: the rules describe CSV cells.
	if p, _ := m.Apply(mustJSON(t, `{"id":"'x","phone":"null"}`)); p.ExternalIDValue() != "'x" {
		t.Errorf("json: %+v", p)
	}
	if _, err := Parse([]byte(`{"values": {}, "fields": {"external_id": "id"}}`)); err == nil {
		t.Error("empty values accepted")
	}
}

func TestSkip(t *testing.T) {
	m, _ := Preset("supabase", PresetOptions{})
	for _, rec := range []Record{
		csvRec("id", "1", "email", "a@x.io", "deleted_at", "2024-01-01 00:00:00+00"),
		csvRec("id", "2", "is_anonymous", "true"),
		mustJSON(t, `{"id":"3","is_anonymous":true}`),
	} {
		_, err := m.Apply(rec)
		var se *SkipError
		if !errors.As(err, &se) || se.Reason == "" {
			t.Errorf("%v: err = %v, want a *SkipError", rec.Keys(), err)
		}
	}
	for _, rec := range []Record{
		csvRec("id", "4", "email", "a@x.io", "deleted_at", "null", "is_anonymous", "false"),
		csvRec("id", "5", "email", "a@x.io", "deleted_at", "", "is_anonymous", "f"),
	} {
		if _, err := m.Apply(rec); err != nil {
			t.Errorf("%v: %v", rec, err)
		}
	}
}

func TestJoinsInMemory(t *testing.T) {
	m, _ := Preset("betterauth", PresetOptions{})
	j := m.Joins()
	if len(j) != 1 || j[0].Name != "account" {
		t.Fatalf("joins = %+v", j)
	}
	// The credential row is indexed; the OAuth row is filtered out by the declaration.
	if k, ok, err := j[0].OtherKey(csvRec("userId", "u1", "providerId", "credential", "password", "x")); !ok || err != nil || k != "u1" {
		t.Errorf("credential row key = %q %v %v", k, ok, err)
	}
	if _, ok, _ := j[0].OtherKey(csvRec("userId", "u1", "providerId", "google")); ok {
		t.Error("a google account row is indexed")
	}
	user := csvRec("id", "u1", "email", "a@x.io", "emailVerified", "true")
	if k, ok, _ := j[0].Key(user); !ok || k != "u1" {
		t.Errorf("user key = %q", k)
	}
	digest := "0123456789abcdef0123456789abcdef:" + strings.Repeat("ab", 64)
	p, err := m.Apply(WithJoins(user, map[string]Record{"account": csvRec("userId", "u1", "providerId", "credential", "password", digest)}))
	if err != nil || p.PasswordHasher == nil || *p.PasswordHasher != "scrypt_werkzeug" || p.SkipPasswordRequirement != nil {
		t.Fatalf("joined: %+v, %v", p, err)
	}
	if err := Validate(p); err != nil {
		t.Error(err)
	}
	// No joined row: no password, and skip_password_requirement.
	p, _ = m.Apply(WithJoins(user, nil))
	if p.PasswordDigest != nil || p.SkipPasswordRequirement == nil {
		t.Errorf("unjoined: %+v", p)
	}
	a, _ := Preset("auth0", PresetOptions{})
	hj := a.Joins()[0]
	// The profile CSV's key is read as Apply reads it: without Auth0's leading '.
	if k, ok, _ := hj.Key(csvRec("user_id", "'auth0|abc")); !ok || k != "auth0|abc" {
		t.Errorf("auth0 CSV key = %q", k)
	}
	for raw, want := range map[string]string{
		`{"_id":{"$oid":"abc"},"passwordHash":"x"}`:                "auth0|abc",
		`{"_id":{"$oid":"abc"},"alt_id":"def","passwordHash":"x"}`: "auth0|def",
	} {
		if k, ok, err := hj.OtherKey(mustJSON(t, raw)); !ok || err != nil || k != want {
			t.Errorf("%s: key %q %v %v, want %s", raw, k, ok, err, want)
		}
	}
}

func TestDetectDigest(t *testing.T) {
	all := digestKinds
	bc := "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	tests := []struct{ in, hasher, digest string }{
		{bc, "bcrypt", bc},
		{"$2y$12$" + bc[7:], "bcrypt", "$2y$12$" + bc[7:]},
		{"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "argon2id", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"},
		{"$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "argon2i", "$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"},
		{"$argon2d$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "", ""}, // Clerk has no argon2d
		{"$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,sk=c2s=$c2FsdA==$aGFzaA==", "scrypt_firebase", "aGFzaA==$c2FsdA==$c2s=$Bw==$8$14"},
		{"$fbscrypt$v=1,n=14,r=8,p=1,sk=c2s=$c2FsdA==$aGFzaA==", "scrypt_firebase", "aGFzaA==$c2FsdA==$c2s=$Bw==$8$14"},
		{"$fbscrypt$v=1,n=14,r=8,p=1$c2FsdA==$aGFzaA==", "", ""}, // no signer key: cannot verify
		{"0123456789abcdef0123456789abcdef:" + strings.Repeat("0f", 64), "scrypt_werkzeug", "scrypt:16384:16:1$0123456789abcdef0123456789abcdef$" + strings.Repeat("0f", 64)},
		{"0123456789abcdef:" + strings.Repeat("0f", 64), "", ""},
		{"md5:abc", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		h, d := detectDigest(tt.in, all)
		if h != tt.hasher || d != tt.digest {
			t.Errorf("detectDigest(%q) = %q, %q; want %q, %q", tt.in, h, d, tt.hasher, tt.digest)
		}
		if h != "" {
			if err := Validate(&CreateUserParams{EmailAddresses: []string{"a@x.io"}, PasswordHasher: &h, PasswordDigest: &d}); err != nil {
				t.Errorf("%q: Clerk would refuse the converted digest: %v", tt.in, err)
			}
		}
	}
	if h, _ := detectDigest(bc, []string{"argon2"}); h != "" {
		t.Error("a kind not listed was detected")
	}
}

func TestFutureAndBans(t *testing.T) {
	pinNow(t)
	s, _ := Preset("supabase", PresetOptions{})
	ba, _ := Preset("betterauth", PresetOptions{})
	tests := []struct {
		m      *Mapping
		rec    Record
		banned bool
	}{
		{s, csvRec("id", "1", "email", "a@x.io", "banned_until", "2099-01-01 00:00:00+00"), true},
		{s, csvRec("id", "1", "email", "a@x.io", "banned_until", "2020-01-01 00:00:00+00"), false},
		{s, csvRec("id", "1", "email", "a@x.io", "banned_until", "null"), false},
		{ba, csvRec("id", "1", "email", "a@x.io", "banned", "t"), true},
		{ba, csvRec("id", "1", "email", "a@x.io", "banned", "true", "banExpires", "2099-01-01T00:00:00Z"), true},
		{ba, csvRec("id", "1", "email", "a@x.io", "banned", "1", "banExpires", "2020-01-01T00:00:00Z"), false},
		{ba, csvRec("id", "1", "email", "a@x.io", "banned", "f"), false},
	}
	for i, tt := range tests {
		p, err := tt.m.Apply(tt.rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Banned != nil && *p.Banned; got != tt.banned || !got && p.Banned != nil {
			t.Errorf("%d %s: banned = %v, want %v", i, tt.m.Info().Name, p.Banned, tt.banned)
		}
	}
}

// TestMissingFlagIsUnverified: in every preset an address whose verification flag is absent
// is created reserved, never verified.
func TestMissingFlagIsUnverified(t *testing.T) {
	recs := map[string]Record{
		"auth0":      csvRec("user_id", "auth0|1", "email", "a@x.io", "phone_number", "+15555550100"),
		"firebase":   csvRec("localId", "1", "email", "a@x.io"),
		"supabase":   csvRec("id", "1", "email", "a@x.io", "phone", "15555550100"),
		"cognito":    csvRec("sub", "1", "email", "a@x.io", "phone_number", "+15555550100"),
		"authjs":     csvRec("id", "1", "email", "a@x.io"),
		"betterauth": csvRec("id", "1", "email", "a@x.io", "phoneNumber", "+15555550100"),
		"clerk":      csvRec("id", "1", "unverified_email_addresses", "a@x.io"),
	}
	for name, rec := range recs {
		m, _ := Preset(name, PresetOptions{})
		p, err := m.Apply(rec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, st := range append(slices.Clone(p.EmailAddressIdentificationStatus), p.PhoneNumberIdentificationStatus...) {
			if st != "reserved" {
				t.Errorf("%s: status %v %v", name, p.EmailAddressIdentificationStatus, p.PhoneNumberIdentificationStatus)
			}
		}
		if len(p.EmailAddressIdentificationStatus) != len(p.EmailAddresses) || len(p.EmailAddresses) == 0 {
			t.Errorf("%s: emails %v statuses %v", name, p.EmailAddresses, p.EmailAddressIdentificationStatus)
		}
	}
}

func TestFlattenAndPrefixed(t *testing.T) {
	m, _ := Preset("cognito", PresetOptions{})
	rec := mustJSON(t, `{"Attributes":[{"Name":"sub","Value":"s-1"},{"Name":"email","Value":"a@x.io"},{"Name":"email_verified","Value":"true"},
		{"Name":"custom:plan","Value":"pro"}],"Enabled":false,"UserStatus":"CONFIRMED","Username":"ann","Extra":1}`)
	p, err := m.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExternalIDValue() != "s-1" || p.PrimaryEmail() != "a@x.io" || p.EmailAddressIdentificationStatus != nil ||
		string(p.PublicMetadata) != `{"plan":"pro"}` || p.Banned == nil || !*p.Banned {
		t.Errorf("got %+v", p)
	}
	tr := m.NewKeyTracker(0)
	tr.Observe(rec, p)
	if got, _ := tr.Unread(); !slices.Equal(got, []string{"Extra"}) {
		t.Errorf("unread = %v, want [Extra] (flattened names and custom:* are read)", got)
	}
}

func TestKeyTracker(t *testing.T) {
	m := Native()
	tr := m.NewKeyTracker(3)
	recs := []Record{
		mustJSON(t, `{"email":"a@x.io","avatar":"x"}`),
		mustJSON(t, `{"email":"b@x.io","nickname":"n","avatar":"y"}`), // a key only later records have
		CSVRecord([]string{"Email Address", "color", ""}, []string{"c@x.io", "red", ""}),
		mustJSON(t, `{"external_id":"e","k1":1,"k2":2}`),
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, r := range recs {
				p, _ := m.Apply(r)
				tr.Observe(r, p)
			}
		})
	}
	wg.Wait()
	got, truncated := tr.Unread()
	slices.Sort(got)
	if len(got) != 3 || !truncated {
		t.Fatalf("unread = %v (truncated %v), want 3 names and truncated", got, truncated)
	}
	for _, k := range got {
		if !slices.Contains([]string{"avatar", "nickname", "color", "k1", "k2"}, k) {
			t.Errorf("unread %q is read by the mapping", k)
		}
	}
	if mapped, missing := tr.ExternalIDs(); mapped != 16 || missing != 12 {
		t.Errorf("external ids: %d mapped, %d missing; want 16, 12", mapped, missing)
	}
	// A later record's key is reported though the first record lacked it.
	tr = m.NewKeyTracker(0)
	for _, r := range recs[:2] {
		tr.Observe(r, nil)
	}
	if got, _ := tr.Unread(); !slices.Equal(got, []string{"avatar", "nickname"}) {
		t.Errorf("unread = %v", got)
	}
}

func TestSplitAny(t *testing.T) {
	for in, want := range map[string][]string{"a,b|c": {"a", "b", "c"}, "a": {"a"}, "|a||": {"", "a", "", ""}} {
		if got := splitAny(in, []string{",", "|"}); !slices.Equal(got, want) {
			t.Errorf("splitAny(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"Smith, Carl": "Carl Smith", "Carl Smith, Jr.": "Carl Smith, Jr.", "a, b, c": "a, b, c", "Cher": "Cher", ",x": ",x"} {
		if got := familyFirst(in); got != want {
			t.Errorf("familyFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewParseErrors(t *testing.T) {
	for spec, want := range map[string]string{
		`{"fields":{"password_digest":{"digest":{"from":"p","kinds":["md5"],"part":"digest"}}}}`: "unknown kind",
		`{"fields":{"password_digest":{"digest":{"from":"p","kinds":["bcrypt"]}}}}`:              "part",
		`{"fields":{"email_address":{"split":{"from":"p","sep":[]}}}}`:                           "sep",
		`{"fields":{"first_name":{"coalesce":[]}}}`:                                              "non-empty list",
		`{"fields":{"first_name":"a"},"skip":[{"reason":""}]}`:                                   "skip.0",
		`{"fields":{"first_name":"a"},"joins":[{"name":"a.b","key":"k","other_key":"k"}]}`:       "joins.0",
		`{"fields":{"first_name":"a"},"flatten":[{"from":"A"}]}`:                                 "flatten.0",
		`{"fields":{"first_name":{"from":"a","when":[]}}}`:                                       "when",
		`{"fields":{"first_name":{"from":"a","when":{"from":"b","equals":1,"same_as":"c"}}}}`:    "not both",
	} {
		if _, err := Parse([]byte(spec)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", spec, err, want)
		}
	}
}

// TestPresetInfoSaysWhatToExport: `userimport presets NAME` prints which export to make and
// what carries over, for every preset.
func TestPresetInfoSaysWhatToExport(t *testing.T) {
	for _, p := range Presets() {
		if p.Export == "" || p.Carries == "" {
			t.Errorf("%s: Export %q, Carries %q", p.Name, p.Export, p.Carries)
		}
	}
	m, _ := Preset("betterauth", PresetOptions{})
	if !strings.Contains(fmt.Sprint(m.Info()), "credential") {
		t.Error("betterauth info does not say where the password comes from")
	}
}

// TestFirebaseLegacyWidth: the 29-field layout is the 53-field one's prefix, so a legacy row
// maps the same under either header (a reader that picks one header for the file is safe).
func TestFirebaseLegacyWidth(t *testing.T) {
	m, _ := Preset("firebase", PresetOptions{FirebaseSignerKey: "a2V5"})
	cells := []string{"uid1", "a@x.io", "true", "aGFzaA==", "c2FsdA==", "Lee, Ann", ""}
	cells = append(cells, make([]string, 16)...)
	cells = append(cells, "1486324735000", "", "+15555550100", "true", `{"admin":true}`, "")
	if len(cells) != 29 {
		t.Fatalf("%d cells", len(cells))
	}
	legacy, err := m.Apply(CSVRecord(m.CSVHeaderFor(29), cells))
	if err != nil {
		t.Fatal(err)
	}
	current, err := m.Apply(CSVRecord(m.CSVHeaderFor(53), cells))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(legacy, current); diff != "" {
		t.Errorf("(-29 +53)\n%s", diff)
	}
	if legacy.Banned == nil || !*legacy.Banned || *legacy.FirstName != "Ann" || string(legacy.PublicMetadata) != `{"admin":true}` {
		t.Errorf("got %+v", legacy)
	}
}

// appendUTCMillis gives what parseTime then Format give, for every string it takes, and leaves the
// rest to parseTime.
func TestUTCMillisAsParseAndFormat(t *testing.T) {
	for _, s := range []string{
		"2024-01-15T10:30:00Z", "2024-01-15T10:30:00.5Z", "2024-01-15T10:30:00.123456789Z", "2024-01-15T10:30:00.9999Z",
		"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T23:59:59Z", "0000-01-01T00:00:00Z",
		"2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-15T24:00:00Z", "2024-01-15T10:60:00Z", "2024-01-15T10:30:60Z",
		"2024-01-15T10:30:00.Z", "2024-01-15T10:30:00.1234567890Z", "2024-01-15T10:30:00+00:00", "2024-01-15 10:30:00Z",
		"2024-01-15T10:30:00z", "2024-1-15T10:30:00Z", "2024-01-15T10:30:0aZ", "+024-01-15T10:30:00Z", "2024-01-15T10:30:00.1a3Z",
	} {
		want, werr := "", error(nil)
		if tm, err := parseTime(s, "rfc3339"); err == nil {
			want = tm.UTC().Format(rfc3339Millis)
		} else {
			werr = err
		}
		b, ok := appendUTCMillis(nil, s)
		if got := string(b); ok && (werr != nil || got != want) {
			t.Errorf("appendUTCMillis(%q) = %q; parseTime and Format give %q (error %v)", s, got, want, werr)
		}
		if !ok && werr == nil && len(s) >= 20 && s[len(s)-1] == 'Z' && s[10] == 'T' {
			t.Logf("appendUTCMillis(%q) left to parseTime (%q)", s, want)
		}
	}
}

func FuzzUTCMillis(f *testing.F) {
	f.Add("2024-01-15T10:30:00.123456Z")
	f.Add("2024-02-29T00:00:00Z")
	f.Fuzz(func(t *testing.T, s string) {
		if _, ok := parseUTC(s); ok { // Validate's shortcut takes only what time.Parse takes
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				t.Fatalf("parseUTC(%q) accepts it; time.Parse: %v", s, err)
			}
		}
		b, ok := appendUTCMillis(nil, s)
		if !ok {
			return
		}
		tm, err := parseTime(s, "rfc3339")
		if got := string(b); err != nil || tm.UTC().Format(rfc3339Millis) != got {
			t.Fatalf("appendUTCMillis(%q) = %q; parseTime: %v, %v", s, got, tm, err)
		}
	})
}

// FuzzNameWords: the substring shortcut splits a full name as strings.Fields does.
func FuzzNameWords(f *testing.F) {
	for _, s := range []string{"Ada Lovelace", "Ada King Lovelace", "Ada", "", " ", "Ada  Lovelace", " Ada", "Ada ", "Zoë 山田", "A\tB", "A\u00a0B", "A\x7fB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, last := range []bool{false, true} {
			if got, want := nameWords(s, last), nameWordsSlow(s, last); got != want {
				t.Fatalf("nameWords(%q, last %v) = %q; strings.Fields gives %q", s, last, got, want)
			}
		}
	})
}
