package sandbox_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/clerk/sandbox/spectest"
)

// banned, locked and bypass_client_trust are honoured: the created, fetched and listed User says
// so; skip_restriction_checks is accepted (and the spec middleware lets exactly it through).
func TestCreateFlagsReportedEverywhere(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	flagged := e.do("POST", "/users", map[string]any{"external_id": "f", "email_address": []string{"f@example.com"},
		"banned": true, "locked": true, "bypass_client_trust": true, spectest.UnpublishedCreateField: true})
	if flagged.status != 200 {
		t.Fatalf("%d %s", flagged.status, flagged.body)
	}
	plain := e.do("POST", "/users", map[string]any{"external_id": "p", "email_address": []string{"p@example.com"},
		"banned": false, spectest.UnpublishedCreateField: false})
	if plain.status != 200 {
		t.Fatalf("%d %s", plain.status, plain.body)
	}
	var f, p map[string]any
	flagged.decode(t, &f)
	plain.decode(t, &p)
	check := func(where string, u map[string]any, want bool) {
		t.Helper()
		for _, k := range []string{"banned", "locked", "bypass_client_trust"} {
			if u[k] != want {
				t.Errorf("%s: %s = %v, want %v", where, k, u[k], want)
			}
		}
	}
	check("created", f, true)
	check("created plain", p, false)
	var got map[string]any
	e.do("GET", "/users/"+f["id"].(string), nil).decode(t, &got)
	check("fetched", got, true)
	var listed []map[string]any
	e.do("GET", "/users?banned=true", nil).decode(t, &listed)
	if len(listed) != 1 || listed[0]["id"] != f["id"] {
		t.Fatalf("banned=true lists %v", listed)
	}
	check("listed", listed[0], true)
	e.do("GET", "/users?banned=false", nil).decode(t, &listed)
	if len(listed) != 1 || listed[0]["id"] != p["id"] {
		t.Fatalf("banned=false lists %v", listed)
	}
	bad := newEnv(t, sandbox.Options{}, checkResponse) // the request is wrong on purpose
	r := bad.do("POST", "/users", map[string]any{"email_address": []string{"x@example.com"}, spectest.UnpublishedCreateField: "yes"})
	if code, param := r.firstError(t); r.status != 422 || code != "form_param_format_invalid" || param != spectest.UnpublishedCreateField {
		t.Errorf("mistyped %s: %d %s %s", spectest.UnpublishedCreateField, r.status, code, param)
	}
}

// What a reader of a Clerk source needs arrives in the listed User, in Clerk's wire format:
// every address with its verification, primaries, wallets, names, the three metadata and the
// account switches (the responses are validated against the spec's User schema too).
func TestListedUserCarriesWhatASourceReaderNeeds(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	wallet := "0x" + strings.Repeat("e", 40)
	id := e.mustCreate(map[string]any{
		"external_id": "src-1", "username": "reader", "first_name": "Ada", "last_name": "Byron",
		"email_address": []string{"ada@example.com", "old@example.com"}, "email_address_identification_status": []string{"verified", "reserved"},
		"phone_number": []string{"+447700900001", "+447700900002"}, "phone_number_identification_status": []string{"reserved", "verified"},
		"web3_wallet": []string{wallet}, "public_metadata": map[string]any{"a": 1}, "private_metadata": map[string]any{"b": 2},
		"unsafe_metadata": map[string]any{"c": 3}, "created_at": "2020-02-03T04:05:06Z", "banned": true, "locked": true,
		"legal_accepted_at": "2021-01-01T00:00:00Z", "delete_self_enabled": false, "create_organization_enabled": false,
		"create_organizations_limit": 2,
	})
	var us []struct {
		ID           string  `json:"id"`
		ExternalID   *string `json:"external_id"`
		PrimaryEmail *string `json:"primary_email_address_id"`
		PrimaryPhone *string `json:"primary_phone_number_id"`
		PrimaryW3    *string `json:"primary_web3_wallet_id"`
		Username     *string `json:"username"`
		First        *string `json:"first_name"`
		Last         *string `json:"last_name"`
		Emails       []struct {
			ID           string `json:"id"`
			EmailAddress string `json:"email_address"`
			Reserved     bool   `json:"reserved"`
			Verification *struct {
				Status string `json:"status"`
			} `json:"verification"`
		} `json:"email_addresses"`
		Phones []struct {
			ID           string `json:"id"`
			PhoneNumber  string `json:"phone_number"`
			Reserved     bool   `json:"reserved"`
			Verification *struct {
				Status string `json:"status"`
			} `json:"verification"`
		} `json:"phone_numbers"`
		Wallets []struct {
			ID         string `json:"id"`
			Web3Wallet string `json:"web3_wallet"`
		} `json:"web3_wallets"`
		Public, Private, Unsafe json.RawMessage
		CreatedAt               int64  `json:"created_at"`
		Banned                  bool   `json:"banned"`
		Locked                  bool   `json:"locked"`
		LegalAcceptedAt         *int64 `json:"legal_accepted_at"`
		DeleteSelf              bool   `json:"delete_self_enabled"`
		CreateOrg               bool   `json:"create_organization_enabled"`
		OrgLimit                *int   `json:"create_organizations_limit"`
	}
	r := e.do("GET", "/users?order_by=%2Bcreated_at&limit=500&external_id=src-1", nil)
	r.decode(t, &us)
	var raw []map[string]json.RawMessage
	r.decode(t, &raw)
	if len(us) != 1 || us[0].ID != id {
		t.Fatalf("list: %s", r.body)
	}
	u := us[0]
	if u.ExternalID == nil || *u.ExternalID != "src-1" || *u.Username != "reader" || *u.First != "Ada" || *u.Last != "Byron" {
		t.Errorf("identity fields: %s", r.body)
	}
	if len(u.Emails) != 2 || *u.PrimaryEmail != u.Emails[0].ID || u.Emails[0].Verification == nil ||
		u.Emails[0].Verification.Status != "verified" || !u.Emails[1].Reserved || u.Emails[1].Verification != nil {
		t.Errorf("emails: verified primary first, then the reserved one (reserved, never verified): %s", r.body)
	}
	if len(u.Phones) != 2 || *u.PrimaryPhone != u.Phones[0].ID || !u.Phones[0].Reserved || u.Phones[0].Verification != nil ||
		u.Phones[1].Verification == nil || u.Phones[1].Verification.Status != "verified" {
		t.Errorf("phones: %s", r.body)
	}
	if len(u.Wallets) != 1 || u.Wallets[0].Web3Wallet != wallet || *u.PrimaryW3 != u.Wallets[0].ID {
		t.Errorf("wallets: %s", r.body)
	}
	for k, want := range map[string]string{"public_metadata": `{"a":1}`, "private_metadata": `{"b":2}`, "unsafe_metadata": `{"c":3}`} {
		if string(raw[0][k]) != want {
			t.Errorf("%s = %s, want %s", k, raw[0][k], want)
		}
	}
	if u.CreatedAt != 1580702706000 || !u.Banned || !u.Locked || u.LegalAcceptedAt == nil || *u.LegalAcceptedAt != 1609459200000 ||
		u.DeleteSelf || u.CreateOrg || u.OrgLimit == nil || *u.OrgLimit != 2 {
		t.Errorf("account fields: %s", r.body)
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// The flags survive a restart from the state file, and Save checkpoints on demand (0600).
func TestFlagsPersistAndSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	e := newEnv(t, sandbox.Options{StateFile: path, SaveEvery: 1 << 40}, noCheck)
	id := e.mustCreate(map[string]any{"external_id": "b", "banned": true, "bypass_client_trust": true})
	if err := e.srv.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("checkpoint: %v %v", fi, err)
	}
	// The first server still runs: a second one starts from what Save wrote, not what Close would.
	if err := copyFile(path, path+".copy"); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, sandbox.Options{StateFile: path + ".copy"}, checkAll)
	var u map[string]any
	e2.do("GET", "/users/"+id, nil).decode(t, &u)
	if u["banned"] != true || u["bypass_client_trust"] != true || u["locked"] != false {
		t.Errorf("after restart: banned %v bypass %v locked %v", u["banned"], u["bypass_client_trust"], u["locked"])
	}
	noState, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer noState.Close()
	if err := noState.Save(); err == nil || !strings.Contains(err.Error(), "StateFile") {
		t.Errorf("Save without a state file: %v", err)
	}
}
