package clerksrc

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// User is the part of the spec's User object a record carries (exported for the end-to-end
// tests, which read Clerk's users with it).
type User struct {
	ID                        string          `json:"id"`
	ExternalID                *string         `json:"external_id"`
	PrimaryEmailAddressID     *string         `json:"primary_email_address_id"`
	PrimaryPhoneNumberID      *string         `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID       *string         `json:"primary_web3_wallet_id"`
	Username                  *string         `json:"username"`
	FirstName                 *string         `json:"first_name"`
	LastName                  *string         `json:"last_name"`
	Locale                    *string         `json:"locale"`
	PublicMetadata            json.RawMessage `json:"public_metadata"`
	PrivateMetadata           json.RawMessage `json:"private_metadata"`
	UnsafeMetadata            json.RawMessage `json:"unsafe_metadata"`
	EmailAddresses            []Identifier    `json:"email_addresses"`
	PhoneNumbers              []Identifier    `json:"phone_numbers"`
	Web3Wallets               []Identifier    `json:"web3_wallets"`
	Banned                    bool            `json:"banned"`
	Locked                    bool            `json:"locked"`
	CreatedAt                 int64           `json:"created_at"`
	LegalAcceptedAt           *int64          `json:"legal_accepted_at"`
	DeleteSelfEnabled         bool            `json:"delete_self_enabled"`
	CreateOrganizationEnabled bool            `json:"create_organization_enabled"`
	CreateOrganizationsLimit  *int            `json:"create_organizations_limit"`
}

// Identifier is an EmailAddress, PhoneNumber or Web3Wallet: one of the three value fields is set.
type Identifier struct {
	ID           string `json:"id"`
	EmailAddress string `json:"email_address"`
	PhoneNumber  string `json:"phone_number"`
	Web3Wallet   string `json:"web3_wallet"`
	Reserved     bool   `json:"reserved"`
	Verification *struct {
		Status string `json:"status"`
	} `json:"verification"`
}

func (i Identifier) value() string { return i.EmailAddress + i.PhoneNumber + i.Web3Wallet }

// verified: only an address whose verification says so; a reserved one, or one with no or a
// pending, failed or expired verification, is created reserved in the target.
func (i Identifier) verified() bool {
	return !i.Reserved && i.Verification != nil && i.Verification.Status == "verified"
}

// record is one user as the clerk preset reads it: the Dashboard CSV's column names (lists as
// JSON arrays) plus the CLI export's fields. Absent values are left out, so a record says only
// what the source holds; the three booleans that default to true in Clerk are always written.
type record struct {
	ID                        string          `json:"id"`
	ExternalID                string          `json:"external_id,omitempty"`
	FirstName                 string          `json:"first_name,omitempty"`
	LastName                  string          `json:"last_name,omitempty"`
	Username                  string          `json:"username,omitempty"`
	PrimaryEmailAddress       string          `json:"primary_email_address,omitempty"`
	PrimaryPhoneNumber        string          `json:"primary_phone_number,omitempty"`
	VerifiedEmailAddresses    []string        `json:"verified_email_addresses,omitempty"`
	UnverifiedEmailAddresses  []string        `json:"unverified_email_addresses,omitempty"`
	VerifiedPhoneNumbers      []string        `json:"verified_phone_numbers,omitempty"`
	UnverifiedPhoneNumbers    []string        `json:"unverified_phone_numbers,omitempty"`
	Web3Wallets               []string        `json:"web3_wallets,omitempty"`
	UnverifiedWeb3Wallets     []string        `json:"unverified_web3_wallets,omitempty"`
	Locale                    string          `json:"locale,omitempty"`
	PublicMetadata            json.RawMessage `json:"public_metadata,omitempty"`
	PrivateMetadata           json.RawMessage `json:"private_metadata,omitempty"`
	UnsafeMetadata            json.RawMessage `json:"unsafe_metadata,omitempty"`
	Banned                    bool            `json:"banned"`
	Locked                    bool            `json:"locked"`
	CreatedAt                 string          `json:"created_at,omitempty"`
	LegalAcceptedAt           string          `json:"legal_accepted_at,omitempty"`
	DeleteSelfEnabled         bool            `json:"delete_self_enabled"`
	CreateOrganizationEnabled bool            `json:"create_organization_enabled"`
	CreateOrganizationsLimit  *int            `json:"create_organizations_limit,omitempty"`
}

// rfc3339Millis is how Clerk's CLI export and the mapping write times.
const rfc3339Millis = "2006-01-02T15:04:05.000Z07:00"

var errMetadata = errors.New("metadata is not a JSON object")

// record turns u into the preset's JSON object. sourceID forces external_id to u's own id.
func (u *User) record(sourceID bool) ([]byte, error) {
	rec := record{
		ID:                        u.ID,
		ExternalID:                u.ID,
		FirstName:                 deref(u.FirstName),
		LastName:                  deref(u.LastName),
		Username:                  deref(u.Username),
		Locale:                    deref(u.Locale),
		Banned:                    u.Banned,
		Locked:                    u.Locked,
		DeleteSelfEnabled:         u.DeleteSelfEnabled,
		CreateOrganizationEnabled: u.CreateOrganizationEnabled,
		CreateOrganizationsLimit:  u.CreateOrganizationsLimit,
	}
	if x := deref(u.ExternalID); x != "" && !sourceID {
		rec.ExternalID = x
	}
	var verified, unverified []string
	rec.PrimaryEmailAddress, verified, unverified = split(u.EmailAddresses, u.PrimaryEmailAddressID)
	rec.VerifiedEmailAddresses, rec.UnverifiedEmailAddresses = verified, unverified
	rec.PrimaryPhoneNumber, verified, unverified = split(u.PhoneNumbers, u.PrimaryPhoneNumberID)
	rec.VerifiedPhoneNumbers, rec.UnverifiedPhoneNumbers = verified, unverified
	// Clerk creates every wallet given as verified: an unverified one is kept apart, not promoted.
	_, rec.Web3Wallets, rec.UnverifiedWeb3Wallets = split(u.Web3Wallets, u.PrimaryWeb3WalletID)
	for _, m := range []struct {
		dst *json.RawMessage
		src json.RawMessage
	}{{&rec.PublicMetadata, u.PublicMetadata}, {&rec.PrivateMetadata, u.PrivateMetadata}, {&rec.UnsafeMetadata, u.UnsafeMetadata}} {
		v, err := metadata(m.src)
		if err != nil {
			return nil, err
		}
		*m.dst = v
	}
	if u.CreatedAt > 0 {
		rec.CreatedAt = millis(u.CreatedAt)
	}
	if u.LegalAcceptedAt != nil && *u.LegalAcceptedAt > 0 {
		rec.LegalAcceptedAt = millis(*u.LegalAcceptedAt)
	}
	return json.Marshal(&rec)
}

// split returns the primary's value and the values by status, the primary first in its list.
func split(ids []Identifier, primaryID *string) (primary string, verified, unverified []string) {
	p := -1
	for i, x := range ids {
		if primaryID != nil && x.ID == *primaryID {
			p = i
			break
		}
	}
	add := func(x Identifier) {
		v := x.value()
		switch {
		case v == "":
		case x.verified():
			verified = append(verified, v)
		default:
			unverified = append(unverified, v)
		}
	}
	if p >= 0 {
		primary = ids[p].value()
		add(ids[p])
	}
	for i, x := range ids {
		if i != p {
			add(x)
		}
	}
	return primary, verified, unverified
}

// metadata keeps a non-empty object as sent (compacted); null and {} are absent.
func metadata(m json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(m)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, errMetadata
	}
	var b bytes.Buffer
	if err := json.Compact(&b, t); err != nil {
		return nil, errMetadata
	}
	if b.Len() == 2 { // {}
		return nil, nil
	}
	return b.Bytes(), nil
}

func millis(ms int64) string { return time.UnixMilli(ms).UTC().Format(rfc3339Millis) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
