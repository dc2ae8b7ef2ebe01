package mapping

import "encoding/json"

// CreateUserParams is the body of Clerk's POST /v1/users, under the API's JSON names.
// Pointers and nil slices mean "not given": Clerk treats an absent field and an empty one
// differently (an empty username is a format error, an absent one is fine).
type CreateUserParams struct {
	ExternalID                       *string         `json:"external_id,omitempty"`
	FirstName                        *string         `json:"first_name,omitempty"`
	LastName                         *string         `json:"last_name,omitempty"`
	Locale                           *string         `json:"locale,omitempty"`
	EmailAddresses                   []string        `json:"email_address,omitempty"`
	EmailAddressIdentificationStatus []string        `json:"email_address_identification_status,omitempty"`
	PhoneNumbers                     []string        `json:"phone_number,omitempty"`
	PhoneNumberIdentificationStatus  []string        `json:"phone_number_identification_status,omitempty"`
	Web3Wallets                      []string        `json:"web3_wallet,omitempty"`
	Username                         *string         `json:"username,omitempty"`
	Password                         *string         `json:"password,omitempty"`
	PasswordDigest                   *string         `json:"password_digest,omitempty"`
	PasswordHasher                   *string         `json:"password_hasher,omitempty"`
	SkipPasswordChecks               *bool           `json:"skip_password_checks,omitempty"`
	SkipPasswordRequirement          *bool           `json:"skip_password_requirement,omitempty"`
	TOTPSecret                       *string         `json:"totp_secret,omitempty"`
	BackupCodes                      []string        `json:"backup_codes,omitempty"`
	PublicMetadata                   json.RawMessage `json:"public_metadata,omitempty"`
	PrivateMetadata                  json.RawMessage `json:"private_metadata,omitempty"`
	UnsafeMetadata                   json.RawMessage `json:"unsafe_metadata,omitempty"`
	DeleteSelfEnabled                *bool           `json:"delete_self_enabled,omitempty"`
	LegalAcceptedAt                  *string         `json:"legal_accepted_at,omitempty"`
	SkipLegalChecks                  *bool           `json:"skip_legal_checks,omitempty"`
	CreateOrganizationEnabled        *bool           `json:"create_organization_enabled,omitempty"`
	CreateOrganizationsLimit         *int64          `json:"create_organizations_limit,omitempty"`
	CreatedAt                        *string         `json:"created_at,omitempty"`
	Banned                           *bool           `json:"banned,omitempty"`
	Locked                           *bool           `json:"locked,omitempty"`
	BypassClientTrust                *bool           `json:"bypass_client_trust,omitempty"`
	// SkipRestrictionChecks skips the instance's allowlist, blocklist and disposable-email
	// rules, as Clerk's own CLI does for migrated users; it is not in the published spec.
	SkipRestrictionChecks *bool `json:"skip_restriction_checks,omitempty"`
}

// PrimaryEmail is the address Clerk makes primary (the first), or "".
func (p *CreateUserParams) PrimaryEmail() string {
	if p == nil || len(p.EmailAddresses) == 0 {
		return ""
	}
	return p.EmailAddresses[0]
}

// ExternalIDValue is the external_id, or "" when none is set.
func (p *CreateUserParams) ExternalIDValue() string {
	if p == nil || p.ExternalID == nil {
		return ""
	}
	return *p.ExternalID
}

// Redacted is a copy safe to log: password, digest, TOTP secret and backup codes masked.
func (p *CreateUserParams) Redacted() *CreateUserParams {
	if p == nil {
		return nil
	}
	c := *p
	mask := func(s *string) *string {
		if s == nil {
			return nil
		}
		r := "[redacted]"
		return &r
	}
	c.Password, c.PasswordDigest, c.TOTPSecret = mask(p.Password), mask(p.PasswordDigest), mask(p.TOTPSecret)
	if p.BackupCodes != nil {
		c.BackupCodes = []string{"[redacted]"}
	}
	return &c
}
