package readiness_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
)

// envJSON is a Frontend API environment in clerk-js's shape with the given attribute states
// ("on", "off", "required"; unlisted attributes are on) and social strategies on.
func envJSON(t *testing.T, states map[string]string, social ...string) []byte {
	t.Helper()
	attrs := map[string]any{}
	for _, a := range []string{"email_address", "phone_number", "username", "web3_wallet", "first_name", "last_name", "password"} {
		st := states[a]
		attrs[a] = map[string]any{"enabled": st != "off", "required": st == "required", "name": a,
			"used_for_first_factor": false, "first_factors": []string{}, "verifications": []string{}}
	}
	soc := map[string]any{}
	for _, s := range social {
		soc[s] = map[string]any{"enabled": true, "required": false, "authenticatable": true, "strategy": s}
	}
	b, err := json.Marshal(map[string]any{"object": "environment",
		"user_settings": map[string]any{"attributes": attrs, "social": soc}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func settings(t *testing.T, states map[string]string, social ...string) *readiness.Settings {
	t.Helper()
	s, err := readiness.Parse(envJSON(t, states, social...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func str(s string) *string { return &s }

func TestParseRealShapedEnvironment(t *testing.T) {
	raw, err := os.ReadFile("testdata/environment.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := readiness.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]readiness.Attribute{
		"email_address": {Known: true, Enabled: true, Required: true},
		"phone_number":  {Known: true}, "username": {Known: true}, "web3_wallet": {Known: true},
		"first_name": {Known: true, Enabled: true}, "last_name": {Known: true, Enabled: true},
		"password": {Known: true, Enabled: true, Required: true},
	}
	if diff := cmp.Diff(want, s.Attributes); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if !slices.Equal(s.Social, []string{"oauth_google"}) || s.Environment != "production" {
		t.Errorf("social %v (GitHub is listed but off), environment %q", s.Social, s.Environment)
	}
	if !s.SocialOn("google-oauth2") || !s.SocialOn("google.com") || s.SocialOn("github") {
		t.Error("SocialOn does not read the sources' provider names")
	}
}

func TestParseRefusesWhatIsNotAnEnvironment(t *testing.T) {
	for _, body := range []string{``, `<html>502</html>`, `{}`, `{"user_settings":{}}`, `[1,2]`,
		`{"user_settings":{"attributes":{"email_address":{"enabled":"yes"}}}}`} {
		if s, err := readiness.Parse([]byte(body)); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", body, s)
		}
	}
	// An attribute the environment does not list is unknown, and unknown flags nothing.
	s, err := readiness.Parse([]byte(`{"user_settings":{"attributes":{"username":{"enabled":false}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Attributes["email_address"].Known || !s.Attributes["username"].Known {
		t.Errorf("attributes %+v", s.Attributes)
	}
	p := &mapping.CreateUserParams{PhoneNumbers: []string{"+15555550100"}, Username: str("annlee")}
	if v := readiness.Classify(s, p); v.Class != readiness.WithoutSomething || !slices.Equal(v.Codes(), []string{"username_off"}) {
		t.Errorf("verdict %v, want only username_off", v)
	}
}

func TestClassify(t *testing.T) {
	bcrypt := "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	tests := []struct {
		name      string
		states    map[string]string
		social    []string
		p         mapping.CreateUserParams
		providers []string
		class     readiness.Class
		codes     []string
		fields    []string
	}{
		{name: "permissive instance", p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, Username: str("annlee")},
			class: readiness.Full},
		{name: "required email missing", states: map[string]string{"email_address": "required"},
			p:     mapping.CreateUserParams{PhoneNumbers: []string{"+15555550100"}},
			class: readiness.WillNotImport, codes: []string{"email_address_required"}},
		{name: "required email given", states: map[string]string{"email_address": "required"},
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}}, class: readiness.Full},
		{name: "username off and given", states: map[string]string{"username": "off"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, Username: str("annlee")},
			class: readiness.WithoutSomething, codes: []string{"username_off"}, fields: []string{"username"}},
		{name: "username off, empty username is not given", states: map[string]string{"username": "off"},
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, Username: str("")}, class: readiness.Full},
		{name: "phone off takes its statuses with it", states: map[string]string{"phone_number": "off"},
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, PhoneNumbers: []string{"+15555550100"},
				PhoneNumberIdentificationStatus: []string{"reserved"}},
			class: readiness.WithoutSomething, codes: []string{"phone_number_off"}, fields: []string{"phone_number", "phone_number_identification_status"}},
		{name: "password required, none given", states: map[string]string{"password": "required"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}},
			class: readiness.WithoutSomething, codes: []string{"password_missing"}},
		{name: "password required, digest given", states: map[string]string{"password": "required"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, PasswordDigest: str(bcrypt), PasswordHasher: str("bcrypt")},
			class: readiness.Full},
		{name: "password off, digest given", states: map[string]string{"password": "off"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, PasswordDigest: str(bcrypt), PasswordHasher: str("bcrypt")},
			class: readiness.WithoutSomething, codes: []string{"password_off"}, fields: []string{"password_digest", "password_hasher"}},
		{name: "required first name missing", states: map[string]string{"first_name": "required"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, LastName: str("Lee")},
			class: readiness.WillNotImport, codes: []string{"first_name_required"}},
		{name: "names off", states: map[string]string{"first_name": "off", "last_name": "off"},
			p:     mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, FirstName: str("Ann"), LastName: str("Lee")},
			class: readiness.WithoutSomething, codes: []string{"first_name_off", "last_name_off"}, fields: []string{"first_name", "last_name"}},
		{name: "the worst applies, every reason kept", states: map[string]string{"email_address": "required", "username": "off", "web3_wallet": "off"},
			p:     mapping.CreateUserParams{Username: str("annlee"), Web3Wallets: []string{"0x" + strings.Repeat("a", 40)}},
			class: readiness.WillNotImport, codes: []string{"email_address_required", "username_off", "web3_wallet_off"}, fields: []string{"username", "web3_wallet"}},
		{name: "social provider off", social: []string{"oauth_github"},
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}}, providers: []string{"google-oauth2", "github", "auth0", "password"},
			class: readiness.WithoutSomething, codes: []string{"oauth_google_off"}},
		{name: "social provider on", social: []string{"oauth_google"},
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}}, providers: []string{"google.com", "Google"}, class: readiness.Full},
		{name: "no providers said, nothing social flagged",
			p: mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}}, class: readiness.Full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := settings(t, tc.states, tc.social...)
			p := tc.p
			v := readiness.Classify(s, &p, tc.providers...)
			if v.Class != tc.class || !slices.Equal(v.Codes(), tc.codes) || !slices.Equal(v.Fields(), tc.fields) {
				t.Fatalf("Classify = %v, fields %v; want %v %v fields %v", v, v.Fields(), tc.class, tc.codes, tc.fields)
			}
			for _, r := range v.Reasons {
				if r.Text == "" || r.Fix == "" || r.Class == readiness.Full {
					t.Errorf("reason %+v lacks text, fix or class", r)
				}
			}
			if v.Refused(false) != (tc.class == readiness.WillNotImport) || v.Refused(true) != (v.Refused(false) || len(tc.fields) > 0) {
				t.Errorf("Refused(false)=%v Refused(true)=%v", v.Refused(false), v.Refused(true))
			}
			code, msg := v.Refusal(true)
			if v.Refused(true) != (code != "") || code != "" && (!slices.Contains(tc.codes, code) || !strings.Contains(msg, "to change: ")) {
				t.Errorf("Refusal(true) = %q %q", code, msg)
			}
			if code, _ := v.Refusal(false); (code != "") != (tc.class == readiness.WillNotImport) || code != "" && !strings.HasSuffix(code, "_required") {
				t.Errorf("Refusal(false) = %q", code)
			}
			// Drop removes exactly the fields the verdict names, and afterwards nothing is left
			// to drop: the row is what the instance can store.
			before := p
			dropped := readiness.Drop(s, &p)
			if !slices.Equal(dropped, tc.fields) {
				t.Errorf("Drop = %v, want %v", dropped, tc.fields)
			}
			after := readiness.Classify(s, &p, tc.providers...)
			if len(after.Fields()) != 0 {
				t.Errorf("after Drop the row still has %v to drop", after.Fields())
			}
			if slices.Contains(tc.codes, "password_missing") != (p.SkipPasswordRequirement != nil && *p.SkipPasswordRequirement) {
				t.Errorf("skip_password_requirement %v for codes %v", p.SkipPasswordRequirement, tc.codes)
			}
			if len(tc.fields) == 0 && !slices.Contains(tc.codes, "password_missing") {
				if diff := cmp.Diff(before, p); diff != "" {
					t.Errorf("Drop changed a row with nothing to drop:\n%s", diff)
				}
			}
		})
	}
}

func TestDroppedFieldsLeaveTheBody(t *testing.T) {
	s := settings(t, map[string]string{"email_address": "off", "password": "off"})
	p := &mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, EmailAddressIdentificationStatus: []string{"reserved"},
		PhoneNumbers: []string{"+15555550100"}, Password: str("correct horse battery")}
	readiness.Drop(s, p)
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(body); got != `{"phone_number":["+15555550100"]}` {
		t.Errorf("body after Drop: %s", got)
	}
}

func TestNoSettingsFlagsNothing(t *testing.T) {
	p := &mapping.CreateUserParams{Username: str("annlee")}
	if v := readiness.Classify(nil, p, "google"); v.Class != readiness.Full || len(v.Reasons) != 0 {
		t.Errorf("Classify(nil) = %v", v)
	}
	if d := readiness.Drop(nil, p); d != nil || p.Username == nil {
		t.Errorf("Drop(nil) = %v, username %v", d, p.Username)
	}
}

type fakeInstance struct {
	fapiErr error
	env     []byte
	asked   string
}

func (f *fakeInstance) FrontendAPI(context.Context) (string, error) {
	return "https://clerk.example.com", f.fapiErr
}

func (f *fakeInstance) Environment(_ context.Context, u string) ([]byte, error) {
	f.asked = u
	return f.env, nil
}

func TestLoad(t *testing.T) {
	down := errors.New("domains: 401 authentication_invalid")
	if s, err := readiness.Load(context.Background(), &fakeInstance{fapiErr: down}); s != nil || !errors.Is(err, down) {
		t.Errorf("Load with domains failing = %v, %v", s, err)
	}
	f := &fakeInstance{env: []byte(`<html>maintenance</html>`)}
	if s, err := readiness.Load(context.Background(), f); s != nil || err == nil || f.asked != "https://clerk.example.com" {
		t.Errorf("Load of a non-environment = %v, %v (asked %q)", s, err, f.asked)
	}
	f.env = envJSON(t, map[string]string{"username": "off"})
	if s, err := readiness.Load(context.Background(), f); err != nil || s.Attributes["username"].Enabled {
		t.Errorf("Load = %+v, %v", s, err)
	}
}
