package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldError is a row-level refusal: the API field it concerns, a stable code and a message
// that never holds a password, digest, TOTP secret or backup code.
type FieldError struct {
	Field   string `json:"field"`   // API field name, e.g. "email_address"
	Code    string `json:"code"`    // one of the Code constants
	Message string `json:"message"` // for people; names the value only for identifiers and times
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Codes of FieldError.
const (
	CodeInvalidValue      = "invalid_value"
	CodeMissingIdentifier = "missing_identifier"
	CodeInvalidEmail      = "invalid_email"
	CodeInvalidPhone      = "invalid_phone"
	CodeInvalidUsername   = "invalid_username"
	CodeInvalidWeb3Wallet = "invalid_web3_wallet"
	CodeUnknownHasher     = "unknown_hasher"
	CodeInvalidDigest     = "invalid_digest"
	CodeInvalidMetadata   = "invalid_metadata"
	CodeMetadataTooLarge  = "metadata_too_large"
	CodeInvalidTime       = "invalid_time"
	CodeMissingOption     = "missing_option"
)

// MaxMetadataBytes is Clerk's limit on each metadata object, serialized.
const MaxMetadataBytes = 8 * 1024

var knownHashers = []string{
	"argon2i", "argon2id", "awscognito", "bcrypt", "bcrypt_peppered", "bcrypt_sha256_django",
	"hmac_sha256_utf16_b64", "ldap_ssha", "md5", "md5_phpass", "md5_salted", "pbkdf2_sha1",
	"pbkdf2_sha256", "pbkdf2_sha256_django", "pbkdf2_sha512", "pbkdf2_sha512_hex", "phpass",
	"scrypt_firebase", "scrypt_werkzeug", "sha256", "sha256_salted", "sha512_symfony",
}

// KnownHashers lists the password_hasher values Clerk accepts.
func KnownHashers() []string { return slices.Clone(knownHashers) }

var (
	phoneRe  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	web3Re   = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	hex32Re  = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	hex64Re  = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	bcryptRe = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`) // what isBcrypt checks by hand
	argonRe  = regexp.MustCompile(`^\$(argon2i|argon2id)\$(v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+\$[^$]+\$[^$]+$`)
	pbkdfRe  = regexp.MustCompile(`^pbkdf2_sha256\$[0-9]+\$[^$]+\$[^$]+$`)
	intRe    = regexp.MustCompile(`^[0-9]+$`)
)

// isBcrypt is bcryptRe.MatchString by hand: every bcrypt row of an import is checked, and the
// regexp cost more than the rest of its validation.
func isBcrypt(d string) bool {
	if len(d) != 60 || d[0] != '$' || d[1] != '2' || d[2] != 'a' && d[2] != 'b' && d[2] != 'y' || d[3] != '$' ||
		d[4] < '0' || d[4] > '9' || d[5] < '0' || d[5] > '9' || d[6] != '$' {
		return false
	}
	for i := 7; i < len(d); i++ {
		if c := d[i]; !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// digestShapes checks the digest formats Clerk documents; other hashers need only a value.
var digestShapes = map[string]func(string) bool{
	"bcrypt":        isBcrypt,
	"argon2i":       func(d string) bool { return strings.HasPrefix(d, "$argon2i$") && argonRe.MatchString(d) },
	"argon2id":      func(d string) bool { return strings.HasPrefix(d, "$argon2id$") && argonRe.MatchString(d) },
	"pbkdf2_sha256": pbkdfRe.MatchString,
	"md5":           hex32Re.MatchString,
	"sha256":        hex64Re.MatchString,
	"scrypt_firebase": func(d string) bool {
		p := strings.Split(d, "$")
		return len(p) == 6 && !slices.Contains(p, "") && intRe.MatchString(p[4]) && intRe.MatchString(p[5])
	},
	"awscognito": func(d string) bool {
		p := strings.Split(d, "#")
		return len(p) == 4 && p[0] == "awscognito" && !slices.Contains(p, "")
	},
}

var digestForms = map[string]string{
	"bcrypt":          "$2a$|$2b$|$2y$<cost>$<53 characters>",
	"argon2i":         "$argon2i$v=19$m=...,t=...,p=...$<salt>$<hash>",
	"argon2id":        "$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>",
	"pbkdf2_sha256":   "pbkdf2_sha256$<iterations>$<salt>$<hash>",
	"md5":             "32 hex digits",
	"sha256":          "64 hex digits",
	"scrypt_firebase": "<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<mem cost>",
	"awscognito":      "awscognito#<pool id>#<client id>#<identifier>",
}

func fieldErr(field, code, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, a...)}
}

// Validate checks what Clerk would refuse, so a bad row fails before it costs a request.
// It returns the first problem as a *FieldError, or nil.
func Validate(p *CreateUserParams) error { return validate(p, nil) }

// validate is Validate; the metadata in enc was encoded by Apply and is not scanned again.
func validate(p *CreateUserParams, enc *encodedMeta) error {
	if p == nil || len(p.EmailAddresses) == 0 && len(p.PhoneNumbers) == 0 && len(p.Web3Wallets) == 0 && p.Username == nil {
		return fieldErr("email_address", CodeMissingIdentifier, "no email address, phone number, username or web3 wallet")
	}
	if p.ExternalID != nil && strings.TrimSpace(*p.ExternalID) == "" {
		return fieldErr("external_id", CodeInvalidValue, "is blank")
	}
	for _, e := range p.EmailAddresses {
		if !validEmail(e) {
			return fieldErr("email_address", CodeInvalidEmail, "%q is not an email address", clip(e))
		}
	}
	for _, ph := range p.PhoneNumbers {
		if !phoneRe.MatchString(ph) {
			return fieldErr("phone_number", CodeInvalidPhone, "%q is not in E.164 form (+ and 7 to 15 digits)", clip(ph))
		}
	}
	if err := checkStatus("email_address_identification_status", p.EmailAddressIdentificationStatus, len(p.EmailAddresses)); err != nil {
		return err
	}
	if err := checkStatus("phone_number_identification_status", p.PhoneNumberIdentificationStatus, len(p.PhoneNumbers)); err != nil {
		return err
	}
	if u := p.Username; u != nil {
		if n := utf8.RuneCountInString(*u); n < 1 || n > 64 || strings.IndexFunc(*u, unicode.IsSpace) >= 0 {
			return fieldErr("username", CodeInvalidUsername, "%q must be 1 to 64 characters without spaces", clip(*u))
		}
	}
	for _, w := range p.Web3Wallets {
		if !web3Re.MatchString(w) {
			return fieldErr("web3_wallet", CodeInvalidWeb3Wallet, "%q is not 0x and 40 hex digits", clip(w))
		}
	}
	if err := checkPassword(p); err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		raw  json.RawMessage
	}{{"public_metadata", p.PublicMetadata}, {"private_metadata", p.PrivateMetadata}, {"unsafe_metadata", p.UnsafeMetadata}} {
		if m.raw == nil {
			continue
		}
		n := len(m.raw) // what Apply encoded is a compact object already
		if !enc.has(m.raw) {
			if !isObject(m.raw) {
				return fieldErr(m.name, CodeInvalidMetadata, "is not a JSON object")
			}
			n = compactLen(m.raw)
		}
		if n > MaxMetadataBytes {
			return fieldErr(m.name, CodeMetadataTooLarge, "is %d bytes serialized; Clerk allows %d", n, MaxMetadataBytes)
		}
	}
	for _, t := range []struct {
		name string
		v    *string
	}{{"created_at", p.CreatedAt}, {"legal_accepted_at", p.LegalAcceptedAt}} {
		if t.v == nil {
			continue
		}
		if _, ok := parseUTC(*t.v); ok {
			continue // the form Apply writes: no need for time.Parse
		}
		if _, err := time.Parse(time.RFC3339, *t.v); err != nil {
			return fieldErr(t.name, CodeInvalidTime, "%q is not an RFC 3339 time such as 2012-10-20T07:15:20.902Z", clip(*t.v))
		}
	}
	if p.CreateOrganizationsLimit != nil && *p.CreateOrganizationsLimit < 0 {
		return fieldErr("create_organizations_limit", CodeInvalidValue, "must not be negative")
	}
	return nil
}

func checkPassword(p *CreateUserParams) error {
	if p.Password != nil && p.PasswordDigest != nil {
		return fieldErr("password", CodeInvalidValue, "give password or password_digest, not both")
	}
	if p.PasswordHasher == nil {
		if p.PasswordDigest != nil {
			return fieldErr("password_hasher", CodeInvalidValue, "password_digest needs a password_hasher")
		}
		return nil
	}
	h := *p.PasswordHasher
	if !slices.Contains(knownHashers, h) {
		return fieldErr("password_hasher", CodeUnknownHasher, "%q is not a hasher Clerk knows", clip(h))
	}
	if p.PasswordDigest == nil {
		return fieldErr("password_digest", CodeInvalidDigest, "password_hasher %s needs a password_digest", h)
	}
	if ok := digestShapes[h]; ok != nil && !ok(*p.PasswordDigest) {
		// The digest itself is a secret: name only the expected form.
		return fieldErr("password_digest", CodeInvalidDigest, "is not a %s digest (%s)", h, digestForms[h])
	}
	return nil
}

func checkStatus(field string, status []string, n int) error {
	if status == nil {
		return nil
	}
	if len(status) != n {
		return fieldErr(field, CodeInvalidValue, "has %d items for %d addresses", len(status), n)
	}
	for _, s := range status {
		if s != "verified" && s != "reserved" {
			return fieldErr(field, CodeInvalidValue, "%q is not verified or reserved", clip(s))
		}
	}
	return nil
}

func validEmail(s string) bool {
	if len(s) <= 254 && plainEmail(s) {
		return true // a common shape net/mail accepts as is: skip its allocations
	}
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// isObject tells whether raw is one JSON object, as decoding it into a map would.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(raw)
}

// compactLen is the length of valid JSON raw without insignificant space (json.Compact's
// output length), counted without building it.
func compactLen(raw json.RawMessage) int {
	n, inStr, esc := 0, false, false
	for _, c := range raw {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == ' ', c == '\t', c == '\n', c == '\r':
			continue
		}
		n++
	}
	return n
}

// plainEmail accepts dot-atom@dot-atom addresses of ASCII letters, digits and the RFC 5322
// atext symbols, with a domain of at least two labels of letters, digits and hyphens. Every
// address it accepts, net/mail accepts unchanged (FuzzPlainEmail holds it to that).
func plainEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return false
	}
	return dotAtoms(s[:at], isAtext, 1) && dotAtoms(s[at+1:], isLabel, 2)
}

// dotAtoms tells whether s is at least min non-empty runs of ok bytes joined by single dots.
func dotAtoms(s string, ok func(byte) bool, min int) bool {
	runs, run := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if run == 0 {
				return false
			}
			runs, run = runs+1, 0
		case ok(c):
			run++
		default:
			return false
		}
	}
	return run > 0 && runs+1 >= min
}

func isLabel(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isAtext(c byte) bool {
	return isLabel(c) || strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0
}

// Identifier is a normalized identifier used to find duplicates within one input.
type Identifier struct{ Field, Value string }

// Identifiers lists p's identifiers, normalized: external_id as is, emails lowercased and
// trimmed, phones as + and digits, username and web3 wallets lowercased.
func Identifiers(p *CreateUserParams) []Identifier {
	return AppendIdentifiers(nil, p)
}

// AppendIdentifiers appends p's identifiers, as Identifiers lists them, to dst: a caller with a
// buffer on its stack lists them without allocating.
func AppendIdentifiers(dst []Identifier, p *CreateUserParams) []Identifier {
	if p == nil {
		return dst
	}
	out, base := dst, len(dst)
	add := func(field, v string) {
		if v == "" {
			return
		}
		id := Identifier{field, v}
		if !slices.Contains(out[base:], id) {
			out = append(out, id)
		}
	}
	if p.ExternalID != nil {
		add("external_id", *p.ExternalID)
	}
	for _, e := range p.EmailAddresses {
		add("email_address", strings.ToLower(strings.TrimSpace(e)))
	}
	for _, ph := range p.PhoneNumbers {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, ph)
		if digits != "" {
			add("phone_number", "+"+digits)
		}
	}
	if p.Username != nil {
		add("username", strings.ToLower(strings.TrimSpace(*p.Username)))
	}
	for _, w := range p.Web3Wallets {
		add("web3_wallet", strings.ToLower(strings.TrimSpace(w)))
	}
	return out
}
