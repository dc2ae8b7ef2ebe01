package sandbox_test

import (
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

func TestCreateChecks(t *testing.T) {
	e := newEnv(t, sandbox.Options{Required: []string{"email_address"}}, checkResponse)
	seed := e.do("POST", "/users", map[string]any{"email_address": []string{"Taken@Example.com"},
		"phone_number": []string{"+15555550100"}, "username": "takenname", "external_id": "ext-taken"})
	if seed.status != 200 {
		t.Fatalf("seed user: %d %s", seed.status, seed.body)
	}
	bcrypt := "$2a$10$" + strings.Repeat("a", 53)
	tests := []struct {
		name   string
		body   any // string = raw body
		status int
		code   string
		param  string
	}{
		{"not json", `{"email_address":`, 400, "request_body_invalid", ""},
		{"json array", `[1]`, 400, "request_body_invalid", ""},
		{"unknown field", map[string]any{"email_address": []string{"a@x.io"}, "nickname": "x"}, 422, "form_param_unknown", "nickname"},
		{"wrong type", map[string]any{"email_address": "a@x.io"}, 422, "form_param_format_invalid", "email_address"},
		{"wrong type bool", map[string]any{"email_address": []string{"a@x.io"}, "skip_password_checks": "yes"}, 422, "form_param_format_invalid", "skip_password_checks"},
		{"short password", map[string]any{"email_address": []string{"a@x.io"}, "password": "short7!"}, 422, "form_password_length_too_short", "password"},
		{"pwned password", map[string]any{"email_address": []string{"a@x.io"}, "password": "password123"}, 422, "form_password_pwned", "password"},
		{"digest without hasher", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": bcrypt}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"unknown hasher", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": bcrypt, "password_hasher": "rot13"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"bcrypt bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "$2a$10$short", "password_hasher": "bcrypt"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"md5 bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "abc", "password_hasher": "md5"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"sha256 bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": strings.Repeat("a", 63), "password_hasher": "sha256"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"argon2 variant mismatch", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "$argon2i$v=19$m=16,t=2,p=1$c2FsdA$aGFzaA", "password_hasher": "argon2id"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"pbkdf2 bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "pbkdf2_sha256$x$s$h", "password_hasher": "pbkdf2_sha256"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"scrypt_firebase bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "a$b$c", "password_hasher": "scrypt_firebase"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"awscognito bad shape", map[string]any{"email_address": []string{"a@x.io"}, "password_digest": "cognito#p#c#i", "password_hasher": "awscognito"}, 422, "form_password_digest_invalid_code", "password_digest"},
		{"bad email", map[string]any{"email_address": []string{"not-an-email"}}, 422, "form_param_format_invalid", "email_address"},
		{"bad phone", map[string]any{"email_address": []string{"a@x.io"}, "phone_number": []string{"5555550100"}}, 422, "form_param_format_invalid", "phone_number"},
		{"short phone", map[string]any{"email_address": []string{"a@x.io"}, "phone_number": []string{"+12345"}}, 422, "form_param_format_invalid", "phone_number"},
		{"metadata not object", map[string]any{"email_address": []string{"a@x.io"}, "public_metadata": []int{1}}, 422, "form_param_format_invalid", "public_metadata"},
		{"bad created_at", map[string]any{"email_address": []string{"a@x.io"}, "created_at": "yesterday"}, 422, "form_param_format_invalid", "created_at"},
		{"email taken any case", map[string]any{"email_address": []string{"taken@EXAMPLE.com"}}, 422, "form_identifier_exists", "email_address"},
		{"phone taken", map[string]any{"email_address": []string{"b@x.io"}, "phone_number": []string{"+15555550100"}}, 422, "form_identifier_exists", "phone_number"},
		{"username taken any case", map[string]any{"email_address": []string{"b@x.io"}, "username": "TakenName"}, 422, "form_identifier_exists", "username"},
		{"external_id taken", map[string]any{"email_address": []string{"b@x.io"}, "external_id": "ext-taken"}, 422, "form_identifier_exists", "external_id"},
		{"required email missing", map[string]any{"username": "someone"}, 422, "form_data_missing", "email_address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/users", tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			code, param := r.firstError(t)
			if code != tc.code || param != tc.param {
				t.Errorf("got %s/%q, want %s/%q", code, param, tc.code, tc.param)
			}
		})
	}
	if got := e.srv.Stats(); got.Users != 1 || got.Created != 1 {
		t.Errorf("a refused create stored a user: %+v", got)
	}
}

func TestCreateAcceptsValidDigestsAndSkips(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	bodies := []map[string]any{
		{"password_hasher": "bcrypt", "password_digest": "$2b$12$" + strings.Repeat("x", 53)},
		{"password_hasher": "md5", "password_digest": strings.Repeat("0a", 16)},
		{"password_hasher": "sha256", "password_digest": strings.Repeat("f", 64)},
		{"password_hasher": "argon2id", "password_digest": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"},
		{"password_hasher": "pbkdf2_sha256", "password_digest": "pbkdf2_sha256$260000$c2FsdA==$aGFzaA=="},
		{"password_hasher": "scrypt_firebase", "password_digest": "aGFzaA==$c2FsdA==$a2V5$Bw==$8$14"},
		{"password_hasher": "awscognito", "password_digest": "awscognito#us-east-1_abc#client1#user1"},
		{"password_hasher": "phpass", "password_digest": "$P$Babcdefgh"},
		{"password": "password123", "skip_password_checks": true},
		{"password": "a-long-unusual-passphrase"},
	}
	for i, b := range bodies {
		b["email_address"] = []string{"u" + strings.Repeat("x", i) + "@example.com"}
		if r := e.do("POST", "/users", b); r.status != 200 {
			t.Errorf("body %d: %d %s", i, r.status, r.body)
		}
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkResponse)
	secrets := []map[string]any{
		{"password": "s3cr!"},
		{"password": "qwerty123"},
		{"password_digest": "$2a$10$SECRETDIGESTVALUE", "password_hasher": "bcrypt"},
		{"password_digest": "SECRETDIGESTVALUE2"},
	}
	for _, b := range secrets {
		r := e.do("POST", "/users", b)
		if r.status != 422 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		for _, k := range []string{"password", "password_digest"} {
			if v, ok := b[k].(string); ok && strings.Contains(string(r.body), v) {
				t.Errorf("error body echoes %s: %s", k, r.body)
			}
		}
	}
}

func TestCreatedUserShape(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	r := e.do("POST", "/users", map[string]any{
		"external_id": "legacy-1", "email_address": []string{"Ada@Example.com", "ada2@example.com"},
		"phone_number": []string{"+447700900123"}, "username": "ada_l", "first_name": "Ada",
		"password_hasher": "bcrypt", "password_digest": "$2y$10$" + strings.Repeat("z", 53),
		"totp_secret": "JBSWY3DPEHPK3PXP", "backup_codes": []string{"c1", "c2"},
		"private_metadata": map[string]any{"plan": "pro"}, "created_at": "2020-01-02T03:04:05Z",
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var u map[string]any
	r.decode(t, &u)
	id, _ := u["id"].(string)
	if !strings.HasPrefix(id, "user_") || u["object"] != "user" || u["external_id"] != "legacy-1" {
		t.Errorf("id/object/external_id: %v %v %v", u["id"], u["object"], u["external_id"])
	}
	emails := u["email_addresses"].([]any)
	if len(emails) != 2 {
		t.Fatalf("emails: %v", emails)
	}
	first := emails[0].(map[string]any)
	if eid, _ := first["id"].(string); !strings.HasPrefix(eid, "idn_") || u["primary_email_address_id"] != eid {
		t.Errorf("primary email id %v vs first email %v", u["primary_email_address_id"], first["id"])
	}
	if v := first["verification"].(map[string]any); v["status"] != "verified" || v["strategy"] != "admin" {
		t.Errorf("verification %v", v)
	}
	phones := u["phone_numbers"].([]any)
	if len(phones) != 1 || u["primary_phone_number_id"] != phones[0].(map[string]any)["id"] {
		t.Errorf("phones %v primary %v", phones, u["primary_phone_number_id"])
	}
	if u["created_at"] != float64(1577934245000) {
		t.Errorf("created_at %v, want the given date in unix ms", u["created_at"])
	}
	for k, want := range map[string]any{"password_enabled": true, "totp_enabled": true, "backup_code_enabled": true,
		"two_factor_enabled": true, "username": "ada_l", "first_name": "Ada", "last_name": nil} {
		if u[k] != want {
			t.Errorf("%s = %v, want %v", k, u[k], want)
		}
	}
	if pm, ok := u["public_metadata"].(map[string]any); !ok || len(pm) != 0 {
		t.Errorf("public_metadata %v, want {}", u["public_metadata"])
	}
	if pm := u["private_metadata"].(map[string]any); pm["plan"] != "pro" {
		t.Errorf("private_metadata %v", pm)
	}
	if strings.Contains(string(r.body), "JBSWY3DP") || strings.Contains(string(r.body), strings.Repeat("z", 53)) {
		t.Error("response echoes the TOTP secret or digest")
	}
	g := e.do("GET", "/users/"+id, nil)
	if g.status != 200 || !strings.Contains(string(g.body), `"legacy-1"`) {
		t.Errorf("get: %d %s", g.status, g.body)
	}
}

func TestCreatedUserRareFields(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	r := e.do("POST", "/users", map[string]any{
		"web3_wallet": []string{"0x" + strings.Repeat("ab", 20)}, "locale": "fr-FR",
		"unsafe_metadata": map[string]any{"theme": "dark"}, "legal_accepted_at": "2023-03-04T05:06:07.5Z",
		"create_organizations_limit": 3, "delete_self_enabled": false,
		"email_address": []string{"r1@example.com", "r2@example.com"}, "email_address_identification_status": []string{"verified", "reserved"},
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var u map[string]any
	r.decode(t, &u)
	wallets := u["web3_wallets"].([]any)
	if len(wallets) != 1 || u["primary_web3_wallet_id"] != wallets[0].(map[string]any)["id"] {
		t.Errorf("wallets %v primary %v", wallets, u["primary_web3_wallet_id"])
	}
	if u["locale"] != "fr-FR" || u["legal_accepted_at"] != float64(1677906367500) ||
		u["create_organizations_limit"] != float64(3) || u["delete_self_enabled"] != false {
		t.Errorf("locale %v legal %v limit %v delete_self %v", u["locale"], u["legal_accepted_at"], u["create_organizations_limit"], u["delete_self_enabled"])
	}
	if m := u["unsafe_metadata"].(map[string]any); m["theme"] != "dark" {
		t.Errorf("unsafe_metadata %v", m)
	}
	second := u["email_addresses"].([]any)[1].(map[string]any)
	if second["reserved"] != true || second["verification"] != nil {
		t.Errorf("reserved email %v", second)
	}
	r = e.do("POST", "/users", map[string]any{"email_address": []string{"r3@example.com"}, "email_address_identification_status": []string{"verified", "reserved"}})
	if code, p := r.firstError(t); code != "form_param_format_invalid" || p != "email_address_identification_status" {
		t.Errorf("status count mismatch: %s %s", code, p)
	}
}
