package mapping

import "encoding/json"

type kind int

const (
	kindString kind = iota
	kindList
	kindBool
	kindInt
	kindMeta
)

// target is one field a mapping can fill. Pseudo-targets (set == nil) are merged by Apply.
type target struct {
	name   string
	kind   kind
	alias  []string // further native key names: camelCase, plurals
	secret bool     // never echo values; keep whitespace as given
	ident  bool     // trimmed; lists deduplicated case-insensitively
	str    func(p *CreateUserParams, v *string)
	list   func(p *CreateUserParams, v []string)
	boolf  func(p *CreateUserParams, v bool)
	intf   func(p *CreateUserParams, v int64)
	meta   func(p *CreateUserParams, v json.RawMessage)
}

// Pseudo-targets: addresses to create reserved (unverified but usable for sign-in) rather than
// verified; Apply appends them after email_address/phone_number and fills the status arrays.
const (
	reservedEmails = "email_address_reserved"
	reservedPhones = "phone_number_reserved"
)

// targets in the order Apply fills them and errors are reported.
var targets = []*target{
	{name: "external_id", alias: []string{"externalId", "id", "user_id", "userId"}, str: func(p *CreateUserParams, v *string) { p.ExternalID = v }},
	{name: "email_address", kind: kindList, ident: true, alias: []string{"emailAddress", "email_addresses", "emailAddresses", "email", "emails"},
		list: func(p *CreateUserParams, v []string) { p.EmailAddresses = v }},
	{name: reservedEmails, kind: kindList, ident: true, alias: []string{"emailAddressReserved"}},
	{name: "email_address_identification_status", kind: kindList, alias: []string{"emailAddressIdentificationStatus"},
		list: func(p *CreateUserParams, v []string) { p.EmailAddressIdentificationStatus = v }},
	{name: "phone_number", kind: kindList, ident: true, alias: []string{"phoneNumber", "phone_numbers", "phoneNumbers", "phone", "phones"},
		list: func(p *CreateUserParams, v []string) { p.PhoneNumbers = v }},
	{name: reservedPhones, kind: kindList, ident: true, alias: []string{"phoneNumberReserved"}},
	{name: "phone_number_identification_status", kind: kindList, alias: []string{"phoneNumberIdentificationStatus"},
		list: func(p *CreateUserParams, v []string) { p.PhoneNumberIdentificationStatus = v }},
	{name: "web3_wallet", kind: kindList, ident: true, alias: []string{"web3Wallet", "web3_wallets", "web3Wallets"},
		list: func(p *CreateUserParams, v []string) { p.Web3Wallets = v }},
	{name: "username", ident: true, str: func(p *CreateUserParams, v *string) { p.Username = v }},
	{name: "first_name", alias: []string{"firstName", "given_name", "givenName"}, str: func(p *CreateUserParams, v *string) { p.FirstName = v }},
	{name: "last_name", alias: []string{"lastName", "family_name", "familyName", "surname"}, str: func(p *CreateUserParams, v *string) { p.LastName = v }},
	{name: "locale", str: func(p *CreateUserParams, v *string) { p.Locale = v }},
	{name: "password", secret: true, str: func(p *CreateUserParams, v *string) { p.Password = v }},
	{name: "password_digest", secret: true, alias: []string{"passwordDigest"}, str: func(p *CreateUserParams, v *string) { p.PasswordDigest = v }},
	{name: "password_hasher", alias: []string{"passwordHasher"}, str: func(p *CreateUserParams, v *string) { p.PasswordHasher = v }},
	{name: "skip_password_checks", kind: kindBool, alias: []string{"skipPasswordChecks"}, boolf: func(p *CreateUserParams, v bool) { p.SkipPasswordChecks = &v }},
	{name: "skip_password_requirement", kind: kindBool, alias: []string{"skipPasswordRequirement"}, boolf: func(p *CreateUserParams, v bool) { p.SkipPasswordRequirement = &v }},
	{name: "totp_secret", secret: true, alias: []string{"totpSecret"}, str: func(p *CreateUserParams, v *string) { p.TOTPSecret = v }},
	{name: "backup_codes", kind: kindList, secret: true, alias: []string{"backupCodes"}, list: func(p *CreateUserParams, v []string) { p.BackupCodes = v }},
	{name: "public_metadata", kind: kindMeta, alias: []string{"publicMetadata"}, meta: func(p *CreateUserParams, v json.RawMessage) { p.PublicMetadata = v }},
	{name: "private_metadata", kind: kindMeta, alias: []string{"privateMetadata"}, meta: func(p *CreateUserParams, v json.RawMessage) { p.PrivateMetadata = v }},
	{name: "unsafe_metadata", kind: kindMeta, alias: []string{"unsafeMetadata"}, meta: func(p *CreateUserParams, v json.RawMessage) { p.UnsafeMetadata = v }},
	{name: "delete_self_enabled", kind: kindBool, alias: []string{"deleteSelfEnabled"}, boolf: func(p *CreateUserParams, v bool) { p.DeleteSelfEnabled = &v }},
	{name: "legal_accepted_at", alias: []string{"legalAcceptedAt"}, str: func(p *CreateUserParams, v *string) { p.LegalAcceptedAt = v }},
	{name: "skip_legal_checks", kind: kindBool, alias: []string{"skipLegalChecks"}, boolf: func(p *CreateUserParams, v bool) { p.SkipLegalChecks = &v }},
	{name: "create_organization_enabled", kind: kindBool, alias: []string{"createOrganizationEnabled"}, boolf: func(p *CreateUserParams, v bool) { p.CreateOrganizationEnabled = &v }},
	{name: "create_organizations_limit", kind: kindInt, alias: []string{"createOrganizationsLimit"}, intf: func(p *CreateUserParams, v int64) { p.CreateOrganizationsLimit = &v }},
	{name: "created_at", alias: []string{"createdAt"}, str: func(p *CreateUserParams, v *string) { p.CreatedAt = v }},
	{name: "banned", kind: kindBool, boolf: func(p *CreateUserParams, v bool) { p.Banned = &v }},
	{name: "locked", kind: kindBool, boolf: func(p *CreateUserParams, v bool) { p.Locked = &v }},
	{name: "bypass_client_trust", kind: kindBool, alias: []string{"bypassClientTrust"}, boolf: func(p *CreateUserParams, v bool) { p.BypassClientTrust = &v }},
	{name: "skip_restriction_checks", kind: kindBool, alias: []string{"skipRestrictionChecks"}, boolf: func(p *CreateUserParams, v bool) { p.SkipRestrictionChecks = &v }},
}

var targetByName = func() map[string]*target {
	m := make(map[string]*target, len(targets))
	for _, t := range targets {
		m[t.name] = t
	}
	return m
}()

// apiField is the API field an error about t concerns: a pseudo-target's real field.
func (t *target) apiField() string {
	switch t.name {
	case reservedEmails:
		return "email_address"
	case reservedPhones:
		return "phone_number"
	}
	return t.name
}
