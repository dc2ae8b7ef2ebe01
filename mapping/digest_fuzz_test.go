package mapping

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// digestAccepted says what an accepted digest must look like, per hasher with a documented shape.
var digestAccepted = map[string]*regexp.Regexp{
	"bcrypt":          regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`),
	"md5":             regexp.MustCompile(`^[0-9a-fA-F]{32}$`),
	"sha256":          regexp.MustCompile(`^[0-9a-fA-F]{64}$`),
	"argon2i":         regexp.MustCompile(`^\$argon2i\$`),
	"argon2id":        regexp.MustCompile(`^\$argon2id\$`),
	"pbkdf2_sha256":   regexp.MustCompile(`^pbkdf2_sha256\$\d+\$[^$]+\$[^$]+$`),
	"scrypt_firebase": regexp.MustCompile(`^[^$]+\$[^$]+\$[^$]+\$[^$]+\$\d+\$\d+$`),
	"awscognito":      regexp.MustCompile(`^awscognito#[^#]+#[^#]+#[^#]+$`),
}

// FuzzValidateDigest checks digest validation: it never panics, refuses with a *FieldError
// whose words do not depend on the digest or password (so they cannot leak either), and what
// it accepts has the documented shape. It runs both Validate alone and Apply+Validate from CSV
// cells, where secrets keep their whitespace.
func FuzzValidateDigest(f *testing.F) {
	for _, s := range [][3]string{
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n", ""},
		{"argon2id", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", ""},
		{"argon2i", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", ""},
		{"pbkdf2_sha256", "pbkdf2_sha256$260000$c2FsdA==$aGFzaA==", ""},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$a2V5$Bw==$8$14", ""},
		{"scrypt_firebase", "$$$$$", ""},
		{"awscognito", "awscognito#eu-west-1_abc#client#user", ""},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf99", ""},
		{"sha256", strings.Repeat("ab", 32), ""},
		{"phpass", "$P$B12345678901234567890123456789", "hunter22"},
		{"nope", "secretdigest", ""},
		{"", "secretdigest", ""},
		{"bcrypt", "", "correct horse"},
		{"md5", "\x00\xff", ""},
		{"sha256", strings.Repeat("9", 1<<12), ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	check := func(t *testing.T, how string, p *CreateUserParams, err, errBlank error) {
		if err == nil {
			h, d := p.PasswordHasher, p.PasswordDigest
			if h != nil && d != nil {
				if re := digestAccepted[*h]; re != nil && !re.MatchString(*d) {
					t.Fatalf("%s: accepted a %s digest of the wrong shape: %q", how, *h, *d)
				}
			}
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: error %v (%T) is not a *FieldError", how, err, err)
		}
		// The same row with other secrets must be refused with the very same words: then the
		// words cannot hold the secrets.
		if errBlank == nil || err.Error() != errBlank.Error() || fe.Code != errBlank.(*FieldError).Code {
			t.Fatalf("%s: refusal depends on the secret values: %q vs %v", how, err, errBlank)
		}
	}
	f.Fuzz(func(t *testing.T, hasher, digest, password string) {
		mk := func(d, pw string) *CreateUserParams {
			p := &CreateUserParams{EmailAddresses: []string{"a@example.com"}}
			if hasher != "" {
				p.PasswordHasher = &hasher
			}
			if d != "" {
				p.PasswordDigest = &d
			}
			if pw != "" {
				p.Password = &pw
			}
			return p
		}
		other := func(s string) string { // a value of the same presence that fits no shape
			if s == "" {
				return ""
			}
			return "\x00"
		}
		p := mk(digest, password)
		check(t, "Validate", p, Validate(p), Validate(mk(other(digest), other(password))))

		header := []string{"email_address", "password_hasher", "password_digest", "password"}
		applied := func(d, pw string) (*CreateUserParams, error) {
			p, err := Native().Apply(CSVRecord(header, []string{"a@example.com", hasher, d, pw}))
			if err == nil {
				err = Validate(p)
			}
			return p, err
		}
		blank := func(s string) string { // Apply drops a blank secret: keep it blank
			if strings.TrimSpace(s) == "" {
				return s
			}
			return "\x00"
		}
		p, err := applied(digest, password)
		_, errBlank := applied(blank(digest), blank(password))
		check(t, "Apply", p, err, errBlank)
	})
}
