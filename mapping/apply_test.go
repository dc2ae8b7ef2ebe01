package mapping

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// bare is m without the defaults Apply adds to every create (skip_password_requirement,
// skip_restriction_checks), for tests about what a mapping reads; TestCreateDefaults
// covers the defaults.
func bare(m *Mapping) *Mapping {
	return m.Bind(PresetOptions{NoSkipPasswordRequirement: true, RestrictionChecks: true})
}

func mustJSON(t *testing.T, s string) Record {
	t.Helper()
	r, err := JSONRecord([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func csvRec(kv ...string) Record {
	var h, c []string
	for i := 0; i < len(kv); i += 2 {
		h, c = append(h, kv[i]), append(c, kv[i+1])
	}
	return CSVRecord(h, c)
}

func TestNativeApply(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want *CreateUserParams
	}{
		{"snake json", mustJSON(t, `{"external_id":"42","email_address":["a@x.io","b@x.io"],"phone_number":"+15555550100","username":"ann",
			"first_name":"Ann","last_name":"Lee","locale":"fr-FR","password_digest":"$2a$10$abc","password_hasher":"bcrypt",
			"skip_password_checks":true,"public_metadata":{"plan":"pro","n":12345678901234567890},"private_metadata":"{\"k\":1}",
			"created_at":"2024-01-02T03:04:05Z","create_organizations_limit":3,"backup_codes":["c1","c2"],"totp_secret":"JBSWY3DP"}`),
			&CreateUserParams{ExternalID: ptr("42"), EmailAddresses: []string{"a@x.io", "b@x.io"}, PhoneNumbers: []string{"+15555550100"},
				Username: ptr("ann"), FirstName: ptr("Ann"), LastName: ptr("Lee"), Locale: ptr("fr-FR"), PasswordDigest: ptr("$2a$10$abc"),
				PasswordHasher: ptr("bcrypt"), SkipPasswordChecks: ptr(true), PublicMetadata: json.RawMessage(`{"n":12345678901234567890,"plan":"pro"}`),
				PrivateMetadata: json.RawMessage(`{"k":1}`), CreatedAt: ptr("2024-01-02T03:04:05Z"), CreateOrganizationsLimit: ptr(int64(3)),
				BackupCodes: []string{"c1", "c2"}, TOTPSecret: ptr("JBSWY3DP")}},
		{"camel json", mustJSON(t, `{"externalId":7,"emailAddress":"a@x.io","phoneNumbers":["+15555550100"],"firstName":"Ann","lastName":"Lee",
			"passwordDigest":"d","passwordHasher":"md5","skipPasswordRequirement":false,"totpSecret":"T","backupCodes":"one","publicMetadata":{"a":1},
			"unsafeMetadata":{"b":2},"createdAt":"2024-01-02T03:04:05Z","deleteSelfEnabled":true,"legalAcceptedAt":"2024-01-02T03:04:05Z",
			"skipLegalChecks":true,"createOrganizationEnabled":false,"web3Wallets":["0x0000000000000000000000000000000000000001"]}`),
			&CreateUserParams{ExternalID: ptr("7"), EmailAddresses: []string{"a@x.io"}, PhoneNumbers: []string{"+15555550100"},
				FirstName: ptr("Ann"), LastName: ptr("Lee"), PasswordDigest: ptr("d"), PasswordHasher: ptr("md5"), SkipPasswordRequirement: ptr(false),
				TOTPSecret: ptr("T"), BackupCodes: []string{"one"}, PublicMetadata: json.RawMessage(`{"a":1}`), UnsafeMetadata: json.RawMessage(`{"b":2}`),
				CreatedAt: ptr("2024-01-02T03:04:05Z"), DeleteSelfEnabled: ptr(true), LegalAcceptedAt: ptr("2024-01-02T03:04:05Z"),
				SkipLegalChecks: ptr(true), CreateOrganizationEnabled: ptr(false), Web3Wallets: []string{"0x0000000000000000000000000000000000000001"}}},
		{"csv cells", csvRec("email_addresses", "a@x.io, b@x.io ,", "phone_numbers", `["+15555550100","+15555550101"]`, "username", " ann ",
			"skip_password_checks", "YES", "delete_self_enabled", "0", "create_organizations_limit", "010", "public_metadata", `{"plan":"pro"}`,
			"first_name", "", "unknown", "x"),
			&CreateUserParams{EmailAddresses: []string{"a@x.io", "b@x.io"}, PhoneNumbers: []string{"+15555550100", "+15555550101"},
				Username: ptr("ann"), SkipPasswordChecks: ptr(true), DeleteSelfEnabled: ptr(false), CreateOrganizationsLimit: ptr(int64(10)),
				PublicMetadata: json.RawMessage(`{"plan":"pro"}`)}},
		{"singular and plural merge, deduplicated", csvRec("email_address", "a@x.io", "emailAddresses", "A@X.io,b@x.io"),
			&CreateUserParams{EmailAddresses: []string{"a@x.io", "b@x.io"}}},
		{"comma cell", csvRec("backup_codes", "a,b;c"), &CreateUserParams{BackupCodes: []string{"a", "b;c"}}},
		{"json string is one item, not split", mustJSON(t, `{"backup_codes":"a,b"}`),
			&CreateUserParams{BackupCodes: []string{"a,b"}}},
		{"null, blank and empty object are absent", mustJSON(t, `{"email_address":null,"username":"  ","public_metadata":{},"private_metadata":"null","phone_number":[]}`),
			&CreateUserParams{}},
		{"password keeps its spaces", mustJSON(t, `{"password":" secret "}`),
			&CreateUserParams{Password: ptr(" secret ")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bare(Native()).Apply(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestNativeApplyErrors(t *testing.T) {
	tests := []struct {
		name        string
		rec         Record
		field, code string
	}{
		{"bad bool", csvRec("skip_password_checks", "maybe"), "skip_password_checks", CodeInvalidValue},
		{"bad int", csvRec("create_organizations_limit", "3.5"), "create_organizations_limit", CodeInvalidValue},
		{"metadata bad json cell", csvRec("public_metadata", `{"plan":`), "public_metadata", CodeInvalidMetadata},
		{"metadata array", mustJSON(t, `{"private_metadata":[1]}`), "private_metadata", CodeInvalidMetadata},
		{"metadata number cell", csvRec("unsafe_metadata", `12`), "unsafe_metadata", CodeInvalidMetadata},
		{"object for text", mustJSON(t, `{"first_name":{"a":1}}`), "first_name", CodeInvalidValue},
		{"list for text", mustJSON(t, `{"username":["a"]}`), "username", CodeInvalidValue},
		{"object in list", mustJSON(t, `{"email_address":[{"a":1}]}`), "email_address", CodeInvalidValue},
		{"broken json array cell", csvRec("email_address", `["a@x.io"`), "email_address", CodeInvalidValue},
		{"reserved names the API field", mustJSON(t, `{"email_address_reserved":[{}]}`), "email_address", CodeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Native().Apply(tt.rec)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Field != tt.field || fe.Code != tt.code {
				t.Errorf("got %s/%s (%v), want %s/%s", fe.Field, fe.Code, fe, tt.field, tt.code)
			}
			if !strings.HasPrefix(fe.Error(), tt.field+": ") {
				t.Errorf("Error() = %q does not name the field", fe.Error())
			}
		})
	}
}

func TestSecretsNotInApplyErrors(t *testing.T) {
	for _, rec := range []Record{
		mustJSON(t, `{"password":{"hunter2hunter2":1}}`),
		mustJSON(t, `{"password_digest":["hunter2hunter2"]}`),
		mustJSON(t, `{"totp_secret":{"hunter2hunter2":true}}`),
		mustJSON(t, `{"backup_codes":[{"hunter2hunter2":1}]}`),
	} {
		_, err := Native().Apply(rec)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("err = %v: want an error without the secret", err)
		}
	}
}

func TestUnread(t *testing.T) {
	got := Native().Unread([]string{"email_address", "emailAddress", "avatar", "firstName", "nickname"})
	if diff := cmp.Diff([]string{"avatar", "nickname"}, got); diff != "" {
		t.Error(diff)
	}
	m, err := Parse([]byte(`{"fields":{"public_metadata":{"object":{"plan":{"from":"meta.plan"}}},"email_address":"mail"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"other"}, m.Unread([]string{"meta", "mail", "other"})); diff != "" {
		t.Error(diff)
	}
}

func TestMappingFile(t *testing.T) {
	spec := `{"fields": {
	  "external_id":   {"from": "id"},
	  "email_address": {"from": ["email", "alt_email"]},
	  "phone_number":  {"split": {"from": "phones", "sep": ";"}},
	  "first_name":    {"first_of": "name"},
	  "last_name":     {"last_of": {"from": "name"}},
	  "username":      {"from": ["login", "nick"]},
	  "skip_password_checks": {"const": true},
	  "public_metadata": {"object": {"plan": {"from": "plan"}, "tier": {"const": "gold"}, "src": {"from": "user_metadata.source"}, "none": {"from": "nope"}}},
	  "private_metadata": {"from": "private_json"},
	  "created_at": {"time": {"from": "created", "layout": "unix"}},
	  "legal_accepted_at": {"time": {"from": "legal"}},
	  "locale": {"from": "lang", "when": {"from": "lang_ok", "equals": true}},
	  "delete_self_enabled": {"const": false, "when": "locked"},
	  "web3_wallet": {"from": "wallet", "when": {"from": "wallet_kind", "equals": "eth"}},
	  "create_organizations_limit": {"from": "orgs", "when": {"from": "orgs", "equals": 5, "not": true}}
	}}`
	m, err := Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	m = bare(m)
	tests := []struct {
		name string
		rec  Record
		want *CreateUserParams
	}{
		{"csv", csvRec("id", "u1", "email", "a@x.io", "alt_email", "b@x.io", "phones", "+15555550100; +15555550101;", "name", "Mary Ann  Smith",
			"nick", "mas", "plan", "pro", "private_json", `{"crm":9}`, "created", "1700000000", "legal", "2024-01-15 10:30:00.000000+00",
			"lang", "de", "lang_ok", "TRUE", "locked", "y", "wallet", "0xabc", "wallet_kind", "sol", "orgs", "5"),
			&CreateUserParams{ExternalID: ptr("u1"), EmailAddresses: []string{"a@x.io", "b@x.io"}, PhoneNumbers: []string{"+15555550100", "+15555550101"},
				FirstName: ptr("Mary Ann"), LastName: ptr("Smith"), Username: ptr("mas"), SkipPasswordChecks: ptr(true),
				PublicMetadata: json.RawMessage(`{"plan":"pro","tier":"gold"}`), PrivateMetadata: json.RawMessage(`{"crm":9}`),
				CreatedAt: ptr("2023-11-14T22:13:20.000Z"), LegalAcceptedAt: ptr("2024-01-15T10:30:00.000Z"), Locale: ptr("de"),
				DeleteSelfEnabled: ptr(false)}},
		{"json", mustJSON(t, `{"id":"u2","alt_email":"b@x.io","name":"Cher","login":"cher","user_metadata":{"source":"ads"},
			"private_json":{"crm":1},"created":1700000000,"legal":1700000000123,"lang":"de","lang_ok":false,"wallet":"0xabc","wallet_kind":"eth","orgs":6}`),
			&CreateUserParams{ExternalID: ptr("u2"), EmailAddresses: []string{"b@x.io"}, FirstName: ptr("Cher"), Username: ptr("cher"),
				SkipPasswordChecks: ptr(true), PublicMetadata: json.RawMessage(`{"src":"ads","tier":"gold"}`), PrivateMetadata: json.RawMessage(`{"crm":1}`),
				CreatedAt: ptr("2023-11-14T22:13:20.000Z"), LegalAcceptedAt: ptr("2023-11-14T22:13:20.123Z"), Web3Wallets: []string{"0xabc"},
				CreateOrganizationsLimit: ptr(int64(6))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Apply(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"other"}, m.Unread([]string{"id", "phones", "user_metadata", "other", "orgs"})); diff != "" {
		t.Error(diff)
	}
}

func TestTimeLayouts(t *testing.T) {
	tests := []struct{ layout, in, want string }{
		{"auto", "1700000000", "2023-11-14T22:13:20.000Z"},
		{"auto", "1700000000123", "2023-11-14T22:13:20.123Z"},
		{"auto", "2024-01-15 10:30:00.000000+00", "2024-01-15T10:30:00.000Z"},
		{"auto", "2024-01-15 12:30:00+02:00", "2024-01-15T10:30:00.000Z"},
		{"auto", "2024-01-15T10:30:00.5+01:00", "2024-01-15T09:30:00.500Z"},
		{"auto", "2024-01-15T10:30:00", "2024-01-15T10:30:00.000Z"},
		{"auto", "2024-01-15T10:30:00.25+00", "2024-01-15T10:30:00.250Z"},
		{"auto", "2024-01-15", "2024-01-15T00:00:00.000Z"},
		{"unix_ms", "1700000000", "1970-01-20T16:13:20.000Z"},
		{"unix", "1700000000.5", "2023-11-14T22:13:20.500Z"},
		{"rfc3339", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.000Z"},
		{"postgres", "2024-01-15 10:30:00.123456+00", "2024-01-15T10:30:00.123Z"},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(`{"fields":{"created_at":{"time":{"from":"t","layout":"` + tt.layout + `"}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Apply(csvRec("t", tt.in))
		if err != nil {
			t.Errorf("%s %q: %v", tt.layout, tt.in, err)
			continue
		}
		if got := *p.CreatedAt; got != tt.want {
			t.Errorf("%s %q = %s, want %s", tt.layout, tt.in, got, tt.want)
		}
	}
	for _, bad := range [][2]string{{"auto", "yesterday"}, {"rfc3339", "2024-01-15"}, {"postgres", "2024-01-15T10:30:00Z"}, {"unix", "12x"}, {"auto", "1e400"}} {
		m, _ := Parse([]byte(`{"fields":{"created_at":{"time":{"from":"t","layout":"` + bad[0] + `"}}}}`))
		_, err := m.Apply(csvRec("t", bad[1]))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "created_at" || fe.Code != CodeInvalidTime {
			t.Errorf("%s %q: err = %v, want created_at invalid_time", bad[0], bad[1], err)
		}
	}
}

func TestReservedAddresses(t *testing.T) {
	m, err := Parse([]byte(`{"fields":{
	  "email_address": {"from": "verified"},
	  "email_address_reserved": {"from": "unverified"},
	  "phone_number_reserved": {"from": "phone"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m = bare(m)
	p, err := m.Apply(csvRec("verified", "a@x.io", "unverified", "b@x.io,C@x.io", "phone", "+15555550100"))
	if err != nil {
		t.Fatal(err)
	}
	want := &CreateUserParams{EmailAddresses: []string{"a@x.io", "b@x.io", "C@x.io"}, EmailAddressIdentificationStatus: []string{"verified", "reserved", "reserved"},
		PhoneNumbers: []string{"+15555550100"}, PhoneNumberIdentificationStatus: []string{"reserved"}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// An address listed both verified and unverified is reserved, in its place (a primary
	// stays first): Clerk's Dashboard lists an unverified primary under the unverified field.
	p, err = m.Apply(csvRec("verified", "a@x.io,b@x.io", "unverified", "A@X.IO"))
	if err != nil || !slices.Equal(p.EmailAddresses, []string{"a@x.io", "b@x.io"}) ||
		!slices.Equal(p.EmailAddressIdentificationStatus, []string{"reserved", "verified"}) {
		t.Errorf("got %+v, %v", p, err)
	}
	m, _ = Parse([]byte(`{"fields":{"email_address_reserved":"a","email_address_identification_status":"b"}}`))
	var fe *FieldError
	if _, err := m.Apply(csvRec("a", "a@x.io", "b", "verified")); !errors.As(err, &fe) || fe.Field != "email_address_identification_status" {
		t.Errorf("both reserved and explicit status: err = %v", err)
	}
	if err := Validate(want); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{`{"fields":{"emial":{"from":"x"}}}`, "fields.emial"},
		{`{"fields":{"email_address":{"fro":"x"}}}`, `fields.email_address: unknown key "fro"`},
		{`{"fields":{"email_address":{}}}`, "fields.email_address: expression needs one of"},
		{`{"fields":{"email_address":{"from":"x","const":"y"}}}`, `fields.email_address: expression has both "const" and "from"`},
		{`{"fields":{"email_address":{"from":""}}}`, "fields.email_address.from: empty key"},
		{`{"fields":{"email_address":{"from":[]}}}`, "fields.email_address.from"},
		{`{"fields":{"email_address":{"from":7}}}`, "fields.email_address.from"},
		{`{"fields":{"email_address":7}}`, "fields.email_address"},
		{`{"fields":{"phone_number":{"split":{"from":"x"}}}}`, `fields.phone_number.split: needs a non-empty "sep"`},
		{`{"fields":{"created_at":{"time":{"from":"x","layout":"iso"}}}}`, `fields.created_at.time: unknown layout "iso"`},
		{`{"fields":{"public_metadata":{"object":{"a":{"frm":"x"}}}}}`, `fields.public_metadata.object.a: unknown key "frm"`},
		{`{"fields":{"locale":{"from":"x","when":{"equals":true}}}}`, "fields.locale.when: expression needs one of"},
		{`{"fields":{"locale":{"from":"x","when":3}}}`, "fields.locale.when"},
		{`{"fields":{"password_digest":{"join":{"parts":[]}}}}`, "fields.password_digest.join"},
		{`{"fields":{"password_digest":{"option":"signer"}}}`, "fields.password_digest.option"},
		{`{"fields":{"password_digest":{"from":"x","required":true}}}`, "fields.password_digest.required"},
		{`{"fields":{}}`, `"fields" is missing`},
		{`{"feilds":{}}`, `unknown key "feilds" at the top level; did you mean fields?`},
		{`{"fields":{"locale":"x"}} {}`, "data after"},
		{`not json`, "mapping:"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.spec))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want error containing %q", tt.spec, err, tt.want)
		}
	}
}

func TestSpecCanonical(t *testing.T) {
	a, err := Parse([]byte(`{"fields":{"locale":"lang","first_name":{"first_of":"n"},"public_metadata":{"object":{"b":{"const":1.50},"a":"x"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(`{"fields":{"public_metadata":{"object":{"a":{"from":"x"},"b":{"const":1.50}}},"first_name":{"first_of":{"from":"n"}},"locale":{"from":"lang"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Spec()) != string(b.Spec()) {
		t.Errorf("equal mappings render differently:\n%s\n%s", a.Spec(), b.Spec())
	}
	if !strings.Contains(string(a.Spec()), "1.50") {
		t.Errorf("const number not kept verbatim: %s", a.Spec())
	}
	for _, info := range Presets() {
		m, err := Preset(info.Name, PresetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(m.Spec())
		if err != nil {
			t.Fatalf("%s: Parse(Spec()): %v", info.Name, err)
		}
		if string(back.Bind(PresetOptions{}).Spec()) != string(m.Spec()) {
			t.Errorf("%s: Spec does not round-trip", info.Name)
		}
	}
}

func TestSplitItemsNotSplitAgain(t *testing.T) {
	m, err := Parse([]byte(`{"fields":{"backup_codes":{"split":{"from":"codes","sep":";"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Apply(csvRec("codes", "a,b; c"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a,b", "c"}, p.BackupCodes); diff != "" {
		t.Error(diff)
	}
	if _, err := Native().Apply(mustJSON(t, `{"email_address":"[[\"a@x.io\"]]"}`)); err == nil {
		t.Error("nested list in a JSON-array cell accepted")
	}
}
