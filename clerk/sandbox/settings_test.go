package sandbox_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

// userSettings is the part of Clerk's Frontend API environment a readiness check reads, decoded
// strictly by the field names clerk-js uses (packages/types UserSettingsJSON).
type userSettings struct {
	Attributes map[string]struct {
		Enabled            *bool     `json:"enabled"`
		Required           *bool     `json:"required"`
		UsedForFirstFactor *bool     `json:"used_for_first_factor"`
		FirstFactors       *[]string `json:"first_factors"`
		Verifications      *[]string `json:"verifications"`
		VerifyAtSignUp     *bool     `json:"verify_at_sign_up"`
	} `json:"attributes"`
	Social map[string]struct {
		Enabled         *bool  `json:"enabled"`
		Required        *bool  `json:"required"`
		Authenticatable *bool  `json:"authenticatable"`
		Strategy        string `json:"strategy"`
	} `json:"social"`
	SignIn *struct {
		SecondFactor *struct{ Required, Enabled *bool } `json:"second_factor"`
	} `json:"sign_in"`
	SignUp *struct {
		AllowlistOnly *bool `json:"allowlist_only"`
		Progressive   *bool `json:"progressive"`
	} `json:"sign_up"`
}

// fapi finds the Frontend API as a readiness check does: GET /v1/domains (Backend API, with the
// key, validated against the spec), then the primary domain's frontend_api_url.
func (e *env) fapi() string {
	e.t.Helper()
	r := e.do("GET", "/domains", nil)
	if r.status != 200 {
		e.t.Fatalf("domains: %d %s", r.status, r.body)
	}
	var ds struct {
		Data []struct {
			Object         string `json:"object"`
			IsSatellite    bool   `json:"is_satellite"`
			FrontendAPIURL string `json:"frontend_api_url"`
		} `json:"data"`
		TotalCount int `json:"total_count"`
	}
	r.decode(e.t, &ds)
	if ds.TotalCount != 1 || len(ds.Data) != 1 || ds.Data[0].Object != "domain" || ds.Data[0].IsSatellite {
		e.t.Fatalf("domains: %s", r.body)
	}
	return ds.Data[0].FrontendAPIURL
}

// environment fetches <fapi>/v1/environment with no key, as a browser does.
func (e *env) environment(fapi string) (int, []byte) {
	e.t.Helper()
	res, err := e.http.Get(fapi + "/v1/environment")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, b
}

func TestDomainsAndEnvironment(t *testing.T) {
	e := newEnv(t, sandbox.Options{Required: []string{"email_address"}, Disabled: []string{"username", "web3_wallet"},
		Social: []string{"google", "oauth_github"}}, checkAll)
	fapi := e.fapi()
	if !strings.HasPrefix(fapi, strings.TrimSuffix(e.base, "/v1")) || strings.HasSuffix(fapi, "/") {
		t.Errorf("frontend_api_url %q is not on this server (%s)", fapi, e.base)
	}
	status, body := e.environment(fapi)
	if status != 200 {
		t.Fatalf("environment: %d %s", status, body)
	}
	var env struct {
		Object       string        `json:"object"`
		UserSettings *userSettings `json:"user_settings"`
		AuthConfig   *struct {
			Object string `json:"object"`
		} `json:"auth_config"`
		DisplayConfig *struct {
			InstanceEnvironmentType string `json:"instance_environment_type"`
		} `json:"display_config"`
		MaintenanceMode *bool `json:"maintenance_mode"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.UserSettings == nil {
		t.Fatalf("environment: %v %s", err, body)
	}
	if env.Object != "environment" || env.AuthConfig == nil || env.DisplayConfig == nil ||
		env.DisplayConfig.InstanceEnvironmentType != "development" || env.MaintenanceMode == nil {
		t.Errorf("environment envelope: %s", body)
	}
	us := env.UserSettings
	want := map[string][2]bool{ // enabled, required
		"email_address": {true, true}, "phone_number": {true, false}, "username": {false, false},
		"web3_wallet": {false, false}, "first_name": {true, false}, "last_name": {true, false}, "password": {true, false},
	}
	for name, w := range want {
		a, ok := us.Attributes[name]
		if !ok || a.Enabled == nil || a.Required == nil || a.UsedForFirstFactor == nil || a.FirstFactors == nil ||
			a.Verifications == nil || a.VerifyAtSignUp == nil {
			t.Errorf("attribute %s missing or incomplete: %s", name, body)
			continue
		}
		if *a.Enabled != w[0] || *a.Required != w[1] {
			t.Errorf("%s: enabled %v required %v, want %v %v", name, *a.Enabled, *a.Required, w[0], w[1])
		}
	}
	if v := us.Attributes["email_address"].Verifications; v == nil || !slices.Contains(*v, "email_code") {
		t.Errorf("email verifications %v", v)
	}
	var social []string
	for k, s := range us.Social {
		if s.Enabled == nil || !*s.Enabled || s.Strategy != k || s.Required == nil || s.Authenticatable == nil {
			t.Errorf("social %s: %+v", k, s)
		}
		social = append(social, k)
	}
	slices.Sort(social)
	if !slices.Equal(social, []string{"oauth_github", "oauth_google"}) {
		t.Errorf("social connections %v", social)
	}
	if us.SignIn == nil || us.SignIn.SecondFactor == nil || us.SignUp == nil || us.SignUp.AllowlistOnly == nil {
		t.Errorf("sign_in / sign_up missing: %s", body)
	}

	// The fault toggle: the settings cannot be read, then can again.
	e.srv.SetEnvironmentFault(true)
	if status, body := e.environment(fapi); status != 500 || !strings.Contains(string(body), "internal_clerk_error") {
		t.Errorf("faulted environment: %d %s", status, body)
	}
	e.srv.SetEnvironmentFault(false)
	if status, _ := e.environment(fapi); status != 200 {
		t.Errorf("environment after the fault: %d", status)
	}
}

func TestEnvironmentFaultOptionAndRouting(t *testing.T) {
	e := newEnv(t, sandbox.Options{FailEnvironment: true, Key: "sk_live_prod"}, noCheck)
	root := strings.TrimSuffix(e.base, "/v1")
	if status, _ := e.environment(root + "/fapi"); status != 500 {
		t.Errorf("FailEnvironment: %d", status)
	}
	e.srv.SetEnvironmentFault(false)
	_, body := e.environment(root + "/fapi")
	if !strings.Contains(string(body), `"instance_environment_type":"production"`) {
		t.Errorf("a live key's instance is production: %s", body)
	}
	for _, p := range []string{"/fapi/v1/client", "/fapi/v1"} {
		res, err := e.http.Get(root + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	res, err := e.http.Post(root+"/fapi/v1/environment", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST environment: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.base+"/domains", nil) // the Backend API half needs the key
	res, err = e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("domains without a key: %d", res.StatusCode)
	}
}

// Create enforces the settings as Clerk does: a switched-off attribute given is
// form_param_unknown naming it; a required one missing is form_data_missing naming it.
func TestSettingsEnforcedOnCreate(t *testing.T) {
	e := newEnv(t, sandbox.Options{Required: []string{"email_address", "password", "last_name"},
		Disabled: []string{"username", "phone_number", "web3_wallet"}}, checkResponse)
	bcrypt := "$2a$10$" + strings.Repeat("q", 53)
	ok := map[string]any{"email_address": []string{"a@example.com"}, "password": "unusual-pass-phrase", "last_name": "Lee"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name        string
		body        map[string]any
		code, param string
	}{
		{"disabled username given", with("username", "someone"), "form_param_unknown", "username"},
		{"disabled phone given", with("phone_number", []string{"+15555550123"}), "form_param_unknown", "phone_number"},
		{"disabled wallet given", with("web3_wallet", []string{"0x" + strings.Repeat("d", 40)}), "form_param_unknown", "web3_wallet"},
		{"required email missing", with("email_address", nil), "form_data_missing", "email_address"},
		{"required last name missing", with("last_name", nil), "form_data_missing", "last_name"},
		{"required password missing", with("password", nil), "form_data_missing", "password"},
	}
	for _, tc := range tests {
		r := e.do("POST", "/users", tc.body)
		if code, p := r.firstError(t); r.status != 422 || code != tc.code || p != tc.param {
			t.Errorf("%s: %d %s %s, want 422 %s %s", tc.name, r.status, code, p, tc.code, tc.param)
		}
	}
	accepted := map[string]map[string]any{
		"all given":                 ok,
		"digest for the password":   with("password", nil),
		"skip_password_requirement": with("password", nil),
		"skip_user_requirement":     with("email_address", nil),
		"empty disabled username":   with("username", ""),
	}
	accepted["digest for the password"]["password_digest"] = bcrypt
	accepted["digest for the password"]["password_hasher"] = "bcrypt"
	accepted["skip_password_requirement"]["skip_password_requirement"] = true
	accepted["skip_user_requirement"]["skip_user_requirement"] = true
	n := 0
	for name, body := range accepted {
		if _, has := body["email_address"]; has { // each its own address
			n++
			body["email_address"] = []string{fmt.Sprintf("ok%d@example.com", n)}
		}
		if r := e.do("POST", "/users", body); r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	pw := sandbox.Options{Disabled: []string{"password"}}
	e2 := newEnv(t, pw, checkResponse)
	r := e2.do("POST", "/users", map[string]any{"email_address": []string{"p@example.com"}, "password_digest": bcrypt, "password_hasher": "bcrypt"})
	if code, p := r.firstError(t); r.status != 422 || code != "form_param_unknown" || p != "password_digest" {
		t.Errorf("digest with passwords off: %d %s %s", r.status, code, p)
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	for _, o := range []sandbox.Options{
		{Required: []string{"username"}, Disabled: []string{"username"}},
		{Disabled: []string{"nickname"}},
		{Social: []string{"Google Login"}},
		{Disabled: []string{"email_address", "phone_number", "username", "web3_wallet"}},
	} {
		if s, err := sandbox.New(o); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted", o)
		}
	}
	s, err := sandbox.New(sandbox.Options{Disabled: []string{"email_address", "phone_number", "username", "web3_wallet"}, Social: []string{"google"}})
	if err != nil {
		t.Errorf("social-only instance refused: %v", err)
	} else {
		s.Close()
	}
}

func TestSettingsFlags(t *testing.T) {
	var o sandbox.Options
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.RegisterFlags(fs)
	err := fs.Parse([]string{"--require", "email_address", "--disable", "username,web3_wallet", "--disable", "phone_number",
		"--social", "google, oauth_apple", "--fail-environment"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Disabled, []string{"username", "web3_wallet", "phone_number"}) ||
		!slices.Equal(o.Social, []string{"oauth_google", "oauth_apple"}) || !o.FailEnvironment ||
		!slices.Equal(o.Required, []string{"email_address"}) {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"--disable", "shoe_size"}, {"--social", "not a provider"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
