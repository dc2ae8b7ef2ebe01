package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// createBody is the decoded POST /v1/users body; nil = absent or null.
type createBody struct {
	ExternalID        *string
	FirstName         *string
	LastName          *string
	Locale            *string
	Emails            []string
	EmailStatus       []string
	Phones            []string
	PhoneStatus       []string
	Wallets           []string
	Username          *string
	Password          *string
	PasswordDigest    *string
	PasswordHasher    *string
	SkipPasswordCheck bool
	SkipPasswordReq   bool
	TOTPSecret        *string
	BackupCodes       []string
	PublicMD          json.RawMessage
	PrivateMD         json.RawMessage
	UnsafeMD          json.RawMessage
	DeleteSelf        *bool
	LegalAcceptedAt   *string
	SkipLegalChecks   bool
	SkipUserReq       bool
	CreateOrg         *bool
	OrgLimit          *int
	CreatedAt         *string
	BypassTrust       bool
	Banned            bool
	Locked            bool
	SkipRestrictions  bool
}

// fields maps each CreateUser property in the spec to where its value goes.
func (b *createBody) fields() map[string]any {
	return map[string]any{
		"external_id":                         &b.ExternalID,
		"first_name":                          &b.FirstName,
		"last_name":                           &b.LastName,
		"locale":                              &b.Locale,
		"email_address":                       &b.Emails,
		"email_address_identification_status": &b.EmailStatus,
		"phone_number":                        &b.Phones,
		"phone_number_identification_status":  &b.PhoneStatus,
		"web3_wallet":                         &b.Wallets,
		"username":                            &b.Username,
		"password":                            &b.Password,
		"password_digest":                     &b.PasswordDigest,
		"password_hasher":                     &b.PasswordHasher,
		"skip_password_checks":                &b.SkipPasswordCheck,
		"skip_password_requirement":           &b.SkipPasswordReq,
		"totp_secret":                         &b.TOTPSecret,
		"backup_codes":                        &b.BackupCodes,
		"public_metadata":                     &b.PublicMD,
		"private_metadata":                    &b.PrivateMD,
		"unsafe_metadata":                     &b.UnsafeMD,
		"delete_self_enabled":                 &b.DeleteSelf,
		"legal_accepted_at":                   &b.LegalAcceptedAt,
		"skip_legal_checks":                   &b.SkipLegalChecks,
		"skip_user_requirement":               &b.SkipUserReq,
		"create_organization_enabled":         &b.CreateOrg,
		"create_organizations_limit":          &b.OrgLimit,
		"created_at":                          &b.CreatedAt,
		"bypass_client_trust":                 &b.BypassTrust,
		"banned":                              &b.Banned,
		"locked":                              &b.Locked,
		// Not in the published spec (it predates the field); Clerk's own CLI sends it. The
		// spec middleware allows exactly this addition: spectest.UnpublishedCreateField.
		"skip_restriction_checks": &b.SkipRestrictions,
	}
}

var metadataFields = map[string]bool{"public_metadata": true, "private_metadata": true, "unsafe_metadata": true}

// errBadBody marks a body that is not a JSON object (400 request_body_invalid).
var errBadBody = fmt.Errorf("request body is not a JSON object")

// decodeCreate parses raw field by field so an unknown or mistyped field can be named.
func decodeCreate(raw []byte) (*createBody, []apiError, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, nil, errBadBody
	}
	b := &createBody{}
	targets := b.fields()
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []apiError
	for _, k := range keys {
		v := obj[k]
		t, ok := targets[k]
		if !ok {
			errs = append(errs, paramError("form_param_unknown", k,
				"is unknown", k+" is not a valid parameter for this request."))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue // every optional field accepts null as absent
		}
		if metadataFields[k] {
			if err := checkObject(v); err != nil {
				errs = append(errs, formatInvalid(k, "must be an object"))
				continue
			}
			var buf bytes.Buffer
			_ = json.Compact(&buf, v)
			*(t.(*json.RawMessage)) = buf.Bytes()
			continue
		}
		if err := json.Unmarshal(v, t); err != nil {
			errs = append(errs, formatInvalid(k, "has the wrong type"))
		}
	}
	return b, errs, nil
}

func checkObject(v json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return err
	}
	return nil
}

func formatInvalid(param, why string) apiError {
	return paramError("form_param_format_invalid", param, "is invalid", param+" "+why+".")
}

var (
	phoneRe  = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	walletRe = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	bcryptRe = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
	md5Re    = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	argon2Re = regexp.MustCompile(`^\$(argon2id|argon2i)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$`)
	pbkdfRe  = regexp.MustCompile(`^pbkdf2_sha256\$[0-9]+\$[^$]+\$[^$]+$`)
)

// hashers is the set Clerk accepts for password_hasher (DESIGN.md §3).
var hashers = map[string]bool{
	"argon2i": true, "argon2id": true, "awscognito": true, "bcrypt": true, "bcrypt_peppered": true,
	"bcrypt_sha256_django": true, "hmac_sha256_utf16_b64": true, "ldap_ssha": true, "md5": true,
	"md5_phpass": true, "md5_salted": true, "pbkdf2_sha1": true, "pbkdf2_sha256": true,
	"pbkdf2_sha256_django": true, "pbkdf2_sha512": true, "pbkdf2_sha512_hex": true, "phpass": true,
	"scrypt_firebase": true, "scrypt_werkzeug": true, "sha256": true, "sha256_salted": true,
	"sha512_symfony": true,
}

// commonPasswords stands in for Clerk's breached-password check.
var commonPasswords = map[string]bool{
	"password": true, "12345678": true, "123456789": true, "1234567890": true, "password1": true,
	"password123": true, "qwerty123": true, "qwertyuiop": true, "iloveyou": true, "11111111": true,
	"abc12345": true, "letmein1": true, "welcome1": true, "baseball": true, "football": true,
	"sunshine": true, "princess": true, "trustno1": true, "00000000": true, "admin123": true,
}

// digestShapeOK reports whether d has the shape hasher h expects.
func digestShapeOK(h, d string) bool {
	switch h {
	case "bcrypt":
		return bcryptRe.MatchString(d)
	case "md5":
		return md5Re.MatchString(d)
	case "sha256":
		return sha256Re.MatchString(d)
	case "argon2i", "argon2id":
		m := argon2Re.FindStringSubmatch(d)
		return m != nil && m[1] == h
	case "pbkdf2_sha256":
		return pbkdfRe.MatchString(d)
	case "scrypt_firebase":
		parts := strings.Split(d, "$")
		return len(parts) == 6 && !slices.Contains(parts, "")
	case "awscognito":
		parts := strings.Split(d, "#")
		return len(parts) == 4 && parts[0] == "awscognito" && !slices.Contains(parts[1:], "")
	}
	return d != ""
}

func validEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || len(e) > 320 || strings.ContainsAny(e, " \t\r\n,;<>()[]\\\"") {
		return false
	}
	domain := e[at+1:]
	return !strings.Contains(e[:at], "@") && strings.Contains(domain, ".") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// validateCreate applies Clerk's per-field checks, then the instance's settings: an attribute it
// has switched off is refused when given, one it requires when missing. Messages never echo a
// password or digest.
func validateCreate(b *createBody, set *settings) []apiError {
	var errs []apiError
	for _, e := range b.Emails {
		if !validEmail(e) {
			errs = append(errs, formatInvalid("email_address", "must be a valid email address"))
			break
		}
	}
	for _, p := range b.Phones {
		if !phoneRe.MatchString(p) {
			errs = append(errs, formatInvalid("phone_number", "must be a valid phone number in E.164 format"))
			break
		}
	}
	for _, w := range b.Wallets {
		if !walletRe.MatchString(w) {
			errs = append(errs, formatInvalid("web3_wallet", "must be a valid web3 wallet address"))
			break
		}
	}
	if len(b.EmailStatus) > 0 && len(b.EmailStatus) != len(b.Emails) || !statusesOK(b.EmailStatus) {
		errs = append(errs, formatInvalid("email_address_identification_status", "must hold one verified|reserved item per email address"))
	}
	if len(b.PhoneStatus) > 0 && len(b.PhoneStatus) != len(b.Phones) || !statusesOK(b.PhoneStatus) {
		errs = append(errs, formatInvalid("phone_number_identification_status", "must hold one verified|reserved item per phone number"))
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"created_at", b.CreatedAt}, {"legal_accepted_at", b.LegalAcceptedAt}} {
		if f.v != nil {
			if _, err := time.Parse(time.RFC3339Nano, *f.v); err != nil {
				errs = append(errs, formatInvalid(f.name, "must be an RFC3339 date-time"))
			}
		}
	}
	if b.Username != nil && *b.Username != "" {
		if n := len(*b.Username); n < 4 || n > 64 {
			errs = append(errs, paramError("form_username_invalid_length", "username",
				"is invalid", "Username must be between 4 and 64 characters long."))
		}
	}
	if b.Password != nil && *b.Password != "" {
		switch {
		case len(*b.Password) < 8:
			errs = append(errs, paramError("form_password_length_too_short", "password",
				"Passwords must be 8 characters or more.", "Passwords must be 8 characters or more."))
		case !b.SkipPasswordCheck && commonPasswords[strings.ToLower(*b.Password)]:
			errs = append(errs, paramError("form_password_pwned", "password",
				"Password has been found in an online data breach. For account safety, please use a different password.",
				"Password has been found in an online data breach. For account safety, please use a different password."))
		}
	}
	hasDigest := b.PasswordDigest != nil && *b.PasswordDigest != ""
	hasHasher := b.PasswordHasher != nil && *b.PasswordHasher != ""
	switch {
	case hasDigest && (!hasHasher || !hashers[*b.PasswordHasher]):
		errs = append(errs, paramError("form_password_digest_invalid_code", "password_digest",
			"is invalid", "The password_hasher is missing or not supported; supported hashers are listed in the API reference."))
	case hasDigest && !digestShapeOK(*b.PasswordHasher, *b.PasswordDigest):
		errs = append(errs, paramError("form_password_digest_invalid_code", "password_digest",
			"is invalid", "The password digest does not have the format the "+*b.PasswordHasher+" hasher expects."))
	case hasHasher && !hasDigest:
		errs = append(errs, paramError("form_param_missing", "password_digest",
			"is missing", "password_digest must be included when password_hasher is given."))
	}
	if b.OrgLimit != nil && *b.OrgLimit < 0 {
		errs = append(errs, formatInvalid("create_organizations_limit", "must be zero or more"))
	}
	for _, a := range attributes {
		st := set.attrs[a]
		if p := given(b, a); p != "" && !st.enabled {
			// Clerk answers a switched-off attribute as a parameter it does not know.
			errs = append(errs, paramError("form_param_unknown", p, "is unknown",
				p+" is not a valid parameter for this request."))
		}
		if st.required && missing(b, a) {
			errs = append(errs, paramError("form_data_missing", a, "is missing",
				a+" must be included."))
		}
	}
	return errs
}

// given returns the param carrying attribute a in b, or "" when b does not set it.
func given(b *createBody, a string) string {
	nonEmpty := func(p *string) bool { return p != nil && *p != "" }
	switch {
	case a == "email_address" && len(b.Emails) > 0, a == "phone_number" && len(b.Phones) > 0,
		a == "web3_wallet" && len(b.Wallets) > 0, a == "username" && nonEmpty(b.Username),
		a == "first_name" && nonEmpty(b.FirstName), a == "last_name" && nonEmpty(b.LastName),
		a == "password" && nonEmpty(b.Password):
		return a
	case a == "password" && nonEmpty(b.PasswordDigest):
		return "password_digest"
	}
	return ""
}

func statusesOK(ss []string) bool {
	for _, s := range ss {
		if s != "verified" && s != "reserved" {
			return false
		}
	}
	return true
}

// missing reports whether identifier r (as named in Options.Required) is absent from b.
func missing(b *createBody, r string) bool {
	switch r {
	case "email_address":
		return !b.SkipUserReq && len(b.Emails) == 0
	case "phone_number":
		return !b.SkipUserReq && len(b.Phones) == 0
	case "username":
		return !b.SkipUserReq && (b.Username == nil || *b.Username == "")
	case "web3_wallet":
		return !b.SkipUserReq && len(b.Wallets) == 0
	case "password":
		return !b.SkipPasswordReq && (b.Password == nil || *b.Password == "") &&
			(b.PasswordDigest == nil || *b.PasswordDigest == "")
	case "first_name":
		return b.FirstName == nil || *b.FirstName == ""
	case "last_name":
		return b.LastName == nil || *b.LastName == ""
	}
	return false
}

// toUser builds the stored user; the store stamps its id and server times on insert.
func toUser(b *createBody) *user {
	u := &user{}
	x := &extra{}
	if b.CreatedAt != nil {
		t, _ := time.Parse(time.RFC3339Nano, *b.CreatedAt)
		u.CreatedAt = t.UnixMilli()
	}
	if b.LegalAcceptedAt != nil {
		t, _ := time.Parse(time.RFC3339Nano, *b.LegalAcceptedAt)
		x.LegalAt = t.UnixMilli()
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	u.ExternalID, u.Username = deref(b.ExternalID), deref(b.Username)
	u.FirstName, u.LastName, x.Locale = deref(b.FirstName), deref(b.LastName), deref(b.Locale)
	for i, e := range b.Emails {
		u.Emails = append(u.Emails, ident{ID: newID("idn_"), Value: e, Reserved: i < len(b.EmailStatus) && b.EmailStatus[i] == "reserved"})
	}
	for i, p := range b.Phones {
		u.Phones = append(u.Phones, ident{ID: newID("idn_"), Value: p, Reserved: i < len(b.PhoneStatus) && b.PhoneStatus[i] == "reserved"})
	}
	for _, w := range b.Wallets {
		x.Wallets = append(x.Wallets, ident{ID: newID("idn_"), Value: w})
	}
	u.PublicMD, x.PrivateMD, x.UnsafeMD = b.PublicMD, b.PrivateMD, b.UnsafeMD
	u.Password = (b.Password != nil && *b.Password != "") || (b.PasswordDigest != nil && *b.PasswordDigest != "")
	u.TOTP = b.TOTPSecret != nil && *b.TOTPSecret != ""
	u.Backup = len(b.BackupCodes) > 0
	u.DeleteSelf = b.DeleteSelf == nil || *b.DeleteSelf
	u.CreateOrg = b.CreateOrg == nil || *b.CreateOrg
	for _, f := range []struct {
		on   bool
		flag userFlags
	}{{b.Banned, flagBanned}, {b.Locked, flagLocked}, {b.BypassTrust, flagBypassClientTrust}} {
		if f.on {
			u.Flags |= f.flag
		}
	}
	x.OrgLimit = b.OrgLimit
	if x.Locale != "" || len(x.Wallets) > 0 || x.PrivateMD != nil || x.UnsafeMD != nil || x.OrgLimit != nil || x.LegalAt != 0 {
		u.X = x
	}
	return u
}

// duplicateInBody finds an identifier repeated within one request (Clerk refuses those too).
func duplicateInBody(b *createBody) string {
	seen := map[string]bool{}
	for _, e := range b.Emails {
		k := strings.ToLower(e)
		if seen[k] {
			return "email_address"
		}
		seen[k] = true
	}
	clear(seen)
	for _, p := range b.Phones {
		if seen[p] {
			return "phone_number"
		}
		seen[p] = true
	}
	clear(seen)
	for _, w := range b.Wallets {
		k := strings.ToLower(w)
		if seen[k] {
			return "web3_wallet"
		}
		seen[k] = true
	}
	return ""
}
