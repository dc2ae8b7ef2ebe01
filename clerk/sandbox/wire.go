package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Wire types follow the spec's User, EmailAddress, PhoneNumber and Web3Wallet schemas;
// every field the spec marks required is always present (null where nullable).

type wireVerification struct {
	Object   string `json:"object"`
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
	Attempts *int   `json:"attempts"`
	ExpireAt *int64 `json:"expire_at"`
}

type wireEmail struct {
	ID           string            `json:"id"`
	Object       string            `json:"object"`
	EmailAddress string            `json:"email_address"`
	Reserved     bool              `json:"reserved"`
	Verification *wireVerification `json:"verification"`
	LinkedTo     []struct{}        `json:"linked_to"`
	MatchesSSO   bool              `json:"matches_sso_connection"`
	CreatedAt    int64             `json:"created_at"`
	UpdatedAt    int64             `json:"updated_at"`
}

type wirePhone struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	PhoneNumber         string            `json:"phone_number"`
	ReservedFor2FA      bool              `json:"reserved_for_second_factor"`
	DefaultSecondFactor bool              `json:"default_second_factor"`
	Reserved            bool              `json:"reserved"`
	Verification        *wireVerification `json:"verification"`
	LinkedTo            []struct{}        `json:"linked_to"`
	BackupCodes         []string          `json:"backup_codes"`
	CreatedAt           int64             `json:"created_at"`
	UpdatedAt           int64             `json:"updated_at"`
}

type wireWallet struct {
	ID           string            `json:"id"`
	Object       string            `json:"object"`
	Web3Wallet   string            `json:"web3_wallet"`
	Verification *wireVerification `json:"verification"`
	CreatedAt    int64             `json:"created_at"`
	UpdatedAt    int64             `json:"updated_at"`
}

type wireUser struct {
	ID                            string          `json:"id"`
	Object                        string          `json:"object"`
	ExternalID                    *string         `json:"external_id"`
	PrimaryEmailAddressID         *string         `json:"primary_email_address_id"`
	PrimaryPhoneNumberID          *string         `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID           *string         `json:"primary_web3_wallet_id"`
	Username                      *string         `json:"username"`
	FirstName                     *string         `json:"first_name"`
	LastName                      *string         `json:"last_name"`
	Locale                        *string         `json:"locale"`
	ProfileImageURL               string          `json:"profile_image_url"`
	ImageURL                      string          `json:"image_url"`
	HasImage                      bool            `json:"has_image"`
	PublicMetadata                json.RawMessage `json:"public_metadata"`
	PrivateMetadata               json.RawMessage `json:"private_metadata"`
	UnsafeMetadata                json.RawMessage `json:"unsafe_metadata"`
	EmailAddresses                []wireEmail     `json:"email_addresses"`
	PhoneNumbers                  []wirePhone     `json:"phone_numbers"`
	Web3Wallets                   []wireWallet    `json:"web3_wallets"`
	Passkeys                      []struct{}      `json:"passkeys"`
	PasswordEnabled               bool            `json:"password_enabled"`
	TwoFactorEnabled              bool            `json:"two_factor_enabled"`
	TOTPEnabled                   bool            `json:"totp_enabled"`
	BackupCodeEnabled             bool            `json:"backup_code_enabled"`
	MFAEnabledAt                  *int64          `json:"mfa_enabled_at"`
	MFADisabledAt                 *int64          `json:"mfa_disabled_at"`
	PasswordLastUpdatedAt         *int64          `json:"password_last_updated_at"`
	ExternalAccounts              []struct{}      `json:"external_accounts"`
	SAMLAccounts                  []struct{}      `json:"saml_accounts"`
	EnterpriseAccounts            []struct{}      `json:"enterprise_accounts"`
	LastSignInAt                  *int64          `json:"last_sign_in_at"`
	Banned                        bool            `json:"banned"`
	Locked                        bool            `json:"locked"`
	LockoutExpiresInSeconds       *int64          `json:"lockout_expires_in_seconds"`
	VerificationAttemptsRemaining *int64          `json:"verification_attempts_remaining"`
	UpdatedAt                     int64           `json:"updated_at"`
	CreatedAt                     int64           `json:"created_at"`
	DeleteSelfEnabled             bool            `json:"delete_self_enabled"`
	CreateOrganizationEnabled     bool            `json:"create_organization_enabled"`
	CreateOrganizationsLimit      *int            `json:"create_organizations_limit"`
	LastActiveAt                  *int64          `json:"last_active_at"`
	LegalAcceptedAt               *int64          `json:"legal_accepted_at"`
	BypassClientTrust             bool            `json:"bypass_client_trust"`
}

const defaultImageURL = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9"

var emptyObject = json.RawMessage(`{}`)

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orEmpty(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return emptyObject
	}
	return m
}

func adminVerification(reserved bool) *wireVerification {
	if reserved {
		return nil // a reserved identifier is not verified
	}
	return &wireVerification{Object: "verification_admin", Status: "verified", Strategy: "admin"}
}

// render builds the wire User for u.
func render(u *user) *wireUser {
	x := u.x()
	w := &wireUser{
		ID:                        u.ID,
		Object:                    "user",
		ExternalID:                strOrNil(u.ExternalID),
		Username:                  strOrNil(u.Username),
		FirstName:                 strOrNil(u.FirstName),
		LastName:                  strOrNil(u.LastName),
		Locale:                    strOrNil(x.Locale),
		ProfileImageURL:           defaultImageURL,
		ImageURL:                  defaultImageURL,
		PublicMetadata:            orEmpty(u.PublicMD),
		PrivateMetadata:           orEmpty(x.PrivateMD),
		UnsafeMetadata:            orEmpty(x.UnsafeMD),
		EmailAddresses:            make([]wireEmail, 0, len(u.Emails)),
		PhoneNumbers:              make([]wirePhone, 0, len(u.Phones)),
		Web3Wallets:               make([]wireWallet, 0, len(x.Wallets)),
		Passkeys:                  []struct{}{},
		PasswordEnabled:           u.Password,
		TwoFactorEnabled:          u.TOTP || u.Backup,
		TOTPEnabled:               u.TOTP,
		BackupCodeEnabled:         u.Backup,
		ExternalAccounts:          []struct{}{},
		SAMLAccounts:              []struct{}{},
		EnterpriseAccounts:        []struct{}{},
		UpdatedAt:                 u.UpdatedAt,
		CreatedAt:                 u.CreatedAt,
		DeleteSelfEnabled:         u.DeleteSelf,
		CreateOrganizationEnabled: u.CreateOrg,
		CreateOrganizationsLimit:  x.OrgLimit,
		Banned:                    u.Flags&flagBanned != 0,
		Locked:                    u.Flags&flagLocked != 0,
		BypassClientTrust:         u.Flags&flagBypassClientTrust != 0,
	}
	if u.Password {
		w.PasswordLastUpdatedAt = &u.CreatedAt
	}
	if u.TOTP || u.Backup {
		w.MFAEnabledAt = &u.CreatedAt
	}
	if x.LegalAt != 0 {
		w.LegalAcceptedAt = &x.LegalAt
	}
	for i, e := range u.Emails {
		if i == 0 {
			w.PrimaryEmailAddressID = &u.Emails[0].ID
		}
		w.EmailAddresses = append(w.EmailAddresses, wireEmail{
			ID: e.ID, Object: "email_address", EmailAddress: e.Value, Reserved: e.Reserved,
			Verification: adminVerification(e.Reserved), LinkedTo: []struct{}{},
			CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		})
	}
	for i, p := range u.Phones {
		if i == 0 {
			w.PrimaryPhoneNumberID = &u.Phones[0].ID
		}
		w.PhoneNumbers = append(w.PhoneNumbers, wirePhone{
			ID: p.ID, Object: "phone_number", PhoneNumber: p.Value, Reserved: p.Reserved,
			Verification: adminVerification(p.Reserved), LinkedTo: []struct{}{},
			CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		})
	}
	for i, wa := range x.Wallets {
		if i == 0 {
			w.PrimaryWeb3WalletID = &x.Wallets[0].ID
		}
		w.Web3Wallets = append(w.Web3Wallets, wireWallet{
			ID: wa.ID, Object: "web3_wallet", Web3Wallet: wa.Value,
			Verification: adminVerification(false), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		})
	}
	return w
}

// apiError is one entry of Clerk's errors[].
type apiError struct {
	Code        string         `json:"code"`
	Message     string         `json:"message"`
	LongMessage string         `json:"long_message"`
	Meta        map[string]any `json:"meta,omitempty"`
}

func paramError(code, param, msg, long string) apiError {
	e := apiError{Code: code, Message: msg, LongMessage: long}
	if param != "" {
		e.Meta = map[string]any{"param_name": param}
	}
	return e
}

type errorBody struct {
	Errors       []apiError `json:"errors"`
	ClerkTraceID string     `json:"clerk_trace_id"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"code":"internal_clerk_error","message":"encoding failed","long_message":"encoding failed"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	writeJSON(w, status, errorBody{Errors: errs, ClerkTraceID: newTraceID()})
}
