package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const bcryptDigest = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

func TestValidate(t *testing.T) {
	base := func() *CreateUserParams { return &CreateUserParams{EmailAddresses: []string{"ann@example.com"}} }
	tests := []struct {
		name        string
		edit        func(p *CreateUserParams)
		field, code string // empty: valid
	}{
		{"email only", func(p *CreateUserParams) {}, "", ""},
		{"no identifier", func(p *CreateUserParams) { p.EmailAddresses = nil; p.ExternalID = ptr("x") }, "email_address", CodeMissingIdentifier},
		{"phone only", func(p *CreateUserParams) { p.EmailAddresses = nil; p.PhoneNumbers = []string{"+442071838750"} }, "", ""},
		{"username only", func(p *CreateUserParams) { p.EmailAddresses = nil; p.Username = ptr("ann.lee-1") }, "", ""},
		{"web3 only", func(p *CreateUserParams) {
			p.EmailAddresses = nil
			p.Web3Wallets = []string{"0x52908400098527886E0F7030069857D2E4169EE7"}
		}, "", ""},
		{"blank external id", func(p *CreateUserParams) { p.ExternalID = ptr(" ") }, "external_id", CodeInvalidValue},
		{"email no at", func(p *CreateUserParams) { p.EmailAddresses = []string{"ann.example.com"} }, "email_address", CodeInvalidEmail},
		{"email display name", func(p *CreateUserParams) { p.EmailAddresses = []string{"Ann <ann@example.com>"} }, "email_address", CodeInvalidEmail},
		{"email no dot in domain", func(p *CreateUserParams) { p.EmailAddresses = []string{"ann@localhost"} }, "email_address", CodeInvalidEmail},
		{"email space", func(p *CreateUserParams) { p.EmailAddresses = []string{"ann lee@example.com"} }, "email_address", CodeInvalidEmail},
		{"second email bad", func(p *CreateUserParams) { p.EmailAddresses = append(p.EmailAddresses, "x@") }, "email_address", CodeInvalidEmail},
		{"email plus tag ok", func(p *CreateUserParams) { p.EmailAddresses = []string{"ann+tag@mail.example.co.uk"} }, "", ""},
		{"phone no plus", func(p *CreateUserParams) { p.PhoneNumbers = []string{"15555550100"} }, "phone_number", CodeInvalidPhone},
		{"phone dashes", func(p *CreateUserParams) { p.PhoneNumbers = []string{"+1-555-555-0100"} }, "phone_number", CodeInvalidPhone},
		{"phone too short", func(p *CreateUserParams) { p.PhoneNumbers = []string{"+123456"} }, "phone_number", CodeInvalidPhone},
		{"phone too long", func(p *CreateUserParams) { p.PhoneNumbers = []string{"+1234567890123456"} }, "phone_number", CodeInvalidPhone},
		{"status length", func(p *CreateUserParams) { p.EmailAddressIdentificationStatus = []string{"verified", "reserved"} }, "email_address_identification_status", CodeInvalidValue},
		{"status value", func(p *CreateUserParams) { p.EmailAddressIdentificationStatus = []string{"unverified"} }, "email_address_identification_status", CodeInvalidValue},
		{"phone status", func(p *CreateUserParams) {
			p.PhoneNumbers = []string{"+15555550100"}
			p.PhoneNumberIdentificationStatus = []string{"reserved"}
		}, "", ""},
		{"username space", func(p *CreateUserParams) { p.Username = ptr("ann lee") }, "username", CodeInvalidUsername},
		{"username empty", func(p *CreateUserParams) { p.Username = ptr("") }, "username", CodeInvalidUsername},
		{"username too long", func(p *CreateUserParams) { p.Username = ptr(strings.Repeat("a", 65)) }, "username", CodeInvalidUsername},
		{"web3 bad", func(p *CreateUserParams) { p.Web3Wallets = []string{"0x123"} }, "web3_wallet", CodeInvalidWeb3Wallet},
		{"password and digest", func(p *CreateUserParams) {
			p.Password = ptr("pw")
			p.PasswordDigest = ptr(bcryptDigest)
			p.PasswordHasher = ptr("bcrypt")
		}, "password", CodeInvalidValue},
		{"digest without hasher", func(p *CreateUserParams) { p.PasswordDigest = ptr(bcryptDigest) }, "password_hasher", CodeInvalidValue},
		{"hasher without digest", func(p *CreateUserParams) { p.PasswordHasher = ptr("bcrypt") }, "password_digest", CodeInvalidDigest},
		{"unknown hasher", func(p *CreateUserParams) { p.PasswordHasher = ptr("sha1"); p.PasswordDigest = ptr("x") }, "password_hasher", CodeUnknownHasher},
		{"metadata not object", func(p *CreateUserParams) { p.PublicMetadata = json.RawMessage(`[1]`) }, "public_metadata", CodeInvalidMetadata},
		{"metadata at limit", func(p *CreateUserParams) {
			p.PrivateMetadata = json.RawMessage(`{"k":"` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`)
		}, "", ""},
		{"metadata too large", func(p *CreateUserParams) {
			p.UnsafeMetadata = json.RawMessage(`{"k":"` + strings.Repeat("x", MaxMetadataBytes-7) + `"}`)
		}, "unsafe_metadata", CodeMetadataTooLarge},
		{"metadata whitespace does not count", func(p *CreateUserParams) {
			p.PublicMetadata = json.RawMessage(`{"k":   "` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`)
		}, "", ""},
		{"created_at ok", func(p *CreateUserParams) { p.CreatedAt = ptr("2012-10-20T07:15:20.902Z") }, "", ""},
		{"created_at bad", func(p *CreateUserParams) { p.CreatedAt = ptr("2012-10-20 07:15:20") }, "created_at", CodeInvalidTime},
		{"legal_accepted_at bad", func(p *CreateUserParams) { p.LegalAcceptedAt = ptr("yesterday") }, "legal_accepted_at", CodeInvalidTime},
		{"negative org limit", func(p *CreateUserParams) { p.CreateOrganizationsLimit = ptr(int64(-1)) }, "create_organizations_limit", CodeInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.edit(p)
			err := Validate(p)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want *FieldError", err)
			}
			if fe.Field != tt.field || fe.Code != tt.code {
				t.Errorf("got %s/%s (%v), want %s/%s", fe.Field, fe.Code, fe, tt.field, tt.code)
			}
		})
	}
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) = nil")
	}
}

func TestDigestShapes(t *testing.T) {
	tests := []struct {
		hasher, digest string
		ok             bool
	}{
		{"bcrypt", bcryptDigest, true},
		{"bcrypt", "$2b$12$" + bcryptDigest[7:], true},
		{"bcrypt", "$2x$10$" + bcryptDigest[7:], false},
		{"bcrypt", bcryptDigest[:len(bcryptDigest)-1], false},
		{"argon2id", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", true},
		{"argon2id", "$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", false},
		{"argon2i", "$argon2i$m=4096,t=3,p=1$c2FsdA$aGFzaA", true},
		{"argon2i", "$argon2i$v=19$t=3$c2FsdA$aGFzaA", false},
		{"pbkdf2_sha256", "pbkdf2_sha256$600000$c2FsdA==$aGFzaA==", true},
		{"pbkdf2_sha256", "pbkdf2_sha256$many$c2FsdA==$aGFzaA==", false},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$a2V5$Bw==$8$14", true},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$$Bw==$8$14", false},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$a2V5$Bw==$8", false},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf99", true},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf9", false},
		{"sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", true},
		{"sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542dz", false},
		{"awscognito", "awscognito#us-east-1_abc#client1#ann@example.com", true},
		{"awscognito", "awscognito#us-east-1_abc#client1", false},
		{"phpass", "$P$anything", true}, // shape unchecked: any value
	}
	for _, tt := range tests {
		p := &CreateUserParams{Username: ptr("ann"), PasswordHasher: ptr(tt.hasher), PasswordDigest: ptr(tt.digest)}
		err := Validate(p)
		if (err == nil) != tt.ok {
			t.Errorf("%s %q: Validate = %v, want ok=%v", tt.hasher, tt.digest, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), tt.digest) {
			t.Errorf("message leaks the digest: %v", err)
		}
	}
	if !slices.Contains(KnownHashers(), "scrypt_firebase") || len(KnownHashers()) != 22 {
		t.Errorf("KnownHashers = %v", KnownHashers())
	}
}

func TestIdentifiers(t *testing.T) {
	p := &CreateUserParams{ExternalID: ptr("ID-1"), EmailAddresses: []string{" Ann@Example.COM", "ann@example.com", "b@x.io"},
		PhoneNumbers: []string{"+1 (555) 555-0100"}, Username: ptr("Ann"), Web3Wallets: []string{"0xABC"}}
	want := []Identifier{{"external_id", "ID-1"}, {"email_address", "ann@example.com"}, {"email_address", "b@x.io"},
		{"phone_number", "+15555550100"}, {"username", "ann"}, {"web3_wallet", "0xabc"}}
	if diff := cmp.Diff(want, Identifiers(p)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if Identifiers(nil) != nil || Identifiers(&CreateUserParams{}) != nil {
		t.Error("want no identifiers")
	}
}

func TestRedacted(t *testing.T) {
	p := &CreateUserParams{Username: ptr("ann"), Password: ptr("hunter2!"), PasswordDigest: ptr("dig"), TOTPSecret: ptr("JBSW"), BackupCodes: []string{"c1", "c2"}}
	b, err := json.Marshal(p.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2!", `"dig"`, "JBSW", "c1"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("redacted body %s holds %s", b, secret)
		}
	}
	if !strings.Contains(string(b), `"username":"ann"`) || *p.Password != "hunter2!" {
		t.Errorf("Redacted changed what it should keep: %s, original password %q", b, *p.Password)
	}
	if (&CreateUserParams{}).Redacted().Password != nil || (*CreateUserParams)(nil).Redacted() != nil {
		t.Error("absent secrets became present")
	}
}

// ApplyValid skips the scan only for metadata Apply encoded: a record whose metadata it
// encoded is as valid as Validate says, and one it could not encode is still refused.
func TestApplyValidAgreesWithValidate(t *testing.T) {
	m, err := Preset("supabase", PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		`{"id":"u1","email":"a@example.com","raw_user_meta_data":{"plan":"pro","n":[1,2]}}`,
		`{"id":"u2","email":"b@example.com","raw_user_meta_data":"{\"plan\":\"pro\"}"}`,
		`{"id":"u3","email":"c@example.com","raw_user_meta_data":"[1,2]"}`,
		`{"id":"u4","email":"d@example.com","raw_app_meta_data":{"big":"` + strings.Repeat("x", MaxMetadataBytes) + `"}}`,
		`{"id":"u5","email":"not an email","raw_user_meta_data":{"a":1}}`,
	} {
		rec, err := JSONRecord([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		p, aerr := m.Apply(rec)
		var want error = aerr
		if aerr == nil {
			want = Validate(p)
		}
		_, gerr, verr := m.ApplyValid(rec)
		got := gerr
		if got == nil {
			got = verr
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%.60s: ApplyValid says %v; Apply then Validate say %v", raw, got, want)
		}
	}
}

// FuzzIsBcrypt: the hand check accepts exactly what the documented pattern does.
func FuzzIsBcrypt(f *testing.F) {
	for _, s := range []string{"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "$2b$12$" + strings.Repeat("a", 53),
		"$2y$04$" + strings.Repeat(".", 53), "$2x$10$" + strings.Repeat("a", 53), "$2a$1$" + strings.Repeat("a", 54), "$2a$10$" + strings.Repeat("a", 52) + "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isBcrypt(s), bcryptRe.MatchString(s); got != want {
			t.Fatalf("isBcrypt(%q) = %v; the pattern says %v", s, got, want)
		}
	})
}
