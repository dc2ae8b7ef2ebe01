package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Instance settings: which user attributes are on and which required at sign-up, and which
// social connections are on. The Backend API serves GET /v1/domains, whose frontend_api_url
// points at this server's /fapi; the Frontend API there serves the public GET /v1/environment
// with user_settings in the shape clerk-js reads (packages/types: EnvironmentJSON,
// UserSettingsJSON), and create enforces the settings as Clerk does.

// attributes are the user attributes an instance can switch on, off or make required, in the
// order the environment lists them.
var attributes = []string{"email_address", "phone_number", "username", "web3_wallet", "first_name",
	"last_name", "password"}

func knownAttribute(a string) bool { return slices.Contains(attributes, a) }

const attributeList = "email_address, phone_number, username, web3_wallet, first_name, last_name, password"

var socialRe = regexp.MustCompile(`^oauth_[a-z0-9_]+$`)

// normaliseSocial turns "google" or "oauth_google" into "oauth_google"; false when malformed.
func normaliseSocial(name string) (string, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(name, "oauth_") {
		name = "oauth_" + name
	}
	return name, socialRe.MatchString(name)
}

type attrState struct{ enabled, required bool }

// settings is the parsed instance configuration; read-only once New returns.
type settings struct {
	attrs  map[string]attrState
	social []string // strategies, e.g. oauth_google
}

func newSettings(o Options) (*settings, error) {
	set := &settings{attrs: map[string]attrState{}}
	for _, a := range attributes {
		set.attrs[a] = attrState{enabled: true} // the zero Options are permissive
	}
	for _, a := range o.Disabled {
		if !knownAttribute(a) {
			return nil, fmt.Errorf("sandbox: cannot disable %q (known: %s)", a, attributeList)
		}
		set.attrs[a] = attrState{}
	}
	for _, a := range o.Required {
		if !knownAttribute(a) {
			return nil, fmt.Errorf("sandbox: cannot require %q (known: %s)", a, attributeList)
		}
		if !set.attrs[a].enabled {
			return nil, fmt.Errorf("sandbox: %s cannot be both required and disabled", a)
		}
		set.attrs[a] = attrState{enabled: true, required: true}
	}
	if !slices.ContainsFunc([]string{"email_address", "phone_number", "username", "web3_wallet"},
		func(a string) bool { return set.attrs[a].enabled }) && len(o.Social) == 0 {
		return nil, fmt.Errorf("sandbox: every identifier is disabled and no social connection is on: nobody could sign in")
	}
	for _, name := range o.Social {
		st, ok := normaliseSocial(name)
		if !ok {
			return nil, fmt.Errorf("sandbox: social connection %q: want a provider such as oauth_google", name)
		}
		if !slices.Contains(set.social, st) {
			set.social = append(set.social, st)
		}
	}
	return set, nil
}

// The Frontend API environment, as clerk-js reads it. Only the parts a readiness check reads
// carry the instance's settings; the rest holds fixed, plausible values so a strict decoder
// finds every key it expects.

type envAttribute struct {
	Enabled             bool     `json:"enabled"`
	Required            bool     `json:"required"`
	Name                string   `json:"name"`
	Verifications       []string `json:"verifications"`
	UsedForFirstFactor  bool     `json:"used_for_first_factor"`
	FirstFactors        []string `json:"first_factors"`
	UsedForSecondFactor bool     `json:"used_for_second_factor"`
	SecondFactors       []string `json:"second_factors"`
	VerifyAtSignUp      bool     `json:"verify_at_sign_up"`
}

type envSocial struct {
	Enabled         bool   `json:"enabled"`
	Required        bool   `json:"required"`
	Authenticatable bool   `json:"authenticatable"`
	BlockEmailSub   bool   `json:"block_email_subaddresses"`
	Strategy        string `json:"strategy"`
	NotSelectable   bool   `json:"not_selectable"`
	Deprecated      bool   `json:"deprecated"`
	Name            string `json:"name"`
	LogoURL         string `json:"logo_url"`
}

type envPasswordSettings struct {
	DisableHIBP         bool   `json:"disable_hibp"`
	MinLength           int    `json:"min_length"`
	MaxLength           int    `json:"max_length"`
	RequireSpecialChar  bool   `json:"require_special_char"`
	RequireNumbers      bool   `json:"require_numbers"`
	RequireUppercase    bool   `json:"require_uppercase"`
	RequireLowercase    bool   `json:"require_lowercase"`
	ShowZxcvbn          bool   `json:"show_zxcvbn"`
	MinZxcvbnStrength   int    `json:"min_zxcvbn_strength"`
	EnforceHIBPOnSignIn bool   `json:"enforce_hibp_on_sign_in"`
	AllowedSpecialChars string `json:"allowed_special_characters"`
}

type envUserSettings struct {
	Attributes map[string]envAttribute `json:"attributes"`
	Social     map[string]envSocial    `json:"social"`
	SignIn     struct {
		SecondFactor struct {
			Required bool `json:"required"`
			Enabled  bool `json:"enabled"`
		} `json:"second_factor"`
	} `json:"sign_in"`
	SignUp struct {
		AllowlistOnly bool   `json:"allowlist_only"`
		Progressive   bool   `json:"progressive"`
		Mode          string `json:"mode"`
	} `json:"sign_up"`
	PasswordSettings envPasswordSettings `json:"password_settings"`
}

type environment struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	AuthConfig struct {
		ID                string `json:"id"`
		Object            string `json:"object"`
		SingleSessionMode bool   `json:"single_session_mode"`
		ClaimedAt         *int64 `json:"claimed_at"`
		Reverification    bool   `json:"reverification"`
	} `json:"auth_config"`
	DisplayConfig struct {
		ID                      string `json:"id"`
		Object                  string `json:"object"`
		InstanceEnvironmentType string `json:"instance_environment_type"`
		ApplicationName         string `json:"application_name"`
	} `json:"display_config"`
	UserSettings         envUserSettings `json:"user_settings"`
	OrganizationSettings struct {
		Enabled bool `json:"enabled"`
	} `json:"organization_settings"`
	MaintenanceMode bool `json:"maintenance_mode"`
}

func (set *settings) environment(envType string) *environment {
	e := &environment{ID: "env_sandbox", Object: "environment"}
	e.AuthConfig.ID, e.AuthConfig.Object = "aac_sandbox", "auth_config"
	e.AuthConfig.SingleSessionMode = true
	e.DisplayConfig.ID, e.DisplayConfig.Object = "display_config_sandbox", "display_config"
	e.DisplayConfig.InstanceEnvironmentType = envType
	e.DisplayConfig.ApplicationName = "userimport sandbox"
	us := &e.UserSettings
	us.Attributes = make(map[string]envAttribute, len(attributes))
	for _, a := range attributes {
		st := set.attrs[a]
		ea := envAttribute{Enabled: st.enabled, Required: st.required, Name: a,
			Verifications: []string{}, FirstFactors: []string{}, SecondFactors: []string{}}
		if st.enabled {
			switch a {
			case "email_address":
				ea.Verifications, ea.FirstFactors, ea.UsedForFirstFactor, ea.VerifyAtSignUp = []string{"email_code"}, []string{"email_code"}, true, true
			case "phone_number":
				ea.Verifications, ea.FirstFactors, ea.UsedForFirstFactor, ea.VerifyAtSignUp = []string{"phone_code"}, []string{"phone_code"}, true, true
			case "web3_wallet":
				ea.Verifications, ea.FirstFactors, ea.UsedForFirstFactor = []string{"web3_metamask_signature"}, []string{"web3_metamask_signature"}, true
			case "username", "password":
				ea.UsedForFirstFactor = true
			}
		}
		us.Attributes[a] = ea
	}
	us.Social = make(map[string]envSocial, len(set.social))
	for _, st := range set.social {
		name := strings.TrimPrefix(st, "oauth_")
		us.Social[st] = envSocial{Enabled: true, Authenticatable: true, Strategy: st,
			Name: strings.ToUpper(name[:1]) + name[1:], LogoURL: "https://img.clerk.com/static/" + name + ".png"}
	}
	us.SignUp.Progressive, us.SignUp.Mode = true, "public"
	us.PasswordSettings = envPasswordSettings{MinLength: 8, MaxLength: 72,
		AllowedSpecialChars: "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~"}
	return e
}

// fapiPrefix is where the Frontend API lives on this server; frontend_api_url names it.
const fapiPrefix = "/fapi"

// baseURL is this server as the client reached it, e.g. http://127.0.0.1:8787.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type wireDomain struct {
	Object            string   `json:"object"`
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	IsSatellite       bool     `json:"is_satellite"`
	FrontendAPIURL    string   `json:"frontend_api_url"`
	AccountsPortalURL *string  `json:"accounts_portal_url"`
	ProxyURL          *string  `json:"proxy_url"`
	DevelopmentOrigin string   `json:"development_origin"`
	CNameTargets      []string `json:"cname_targets"`
}

// handleDomains serves GET /v1/domains: the one primary domain, its Frontend API on this server.
func (s *Server) handleDomains(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	base := baseURL(r)
	portal := base + "/accounts"
	writeJSON(w, http.StatusOK, map[string]any{
		"data": []wireDomain{{Object: "domain", ID: s.domainID, Name: r.Host, FrontendAPIURL: base + fapiPrefix,
			AccountsPortalURL: &portal, DevelopmentOrigin: ""}},
		"total_count": 1,
	})
}

// handleFAPI serves the Frontend API's public GET /v1/environment (no key: browsers call it).
func (s *Server) handleFAPI(w http.ResponseWriter, r *http.Request, rest string) {
	if rest != "/v1/environment" {
		notFound(w)
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if s.envFault.Load() {
		s.logf("sandbox: injected 500 on GET %s/v1/environment", fapiPrefix)
		writeErrors(w, http.StatusInternalServerError, apiError{Code: "internal_clerk_error",
			Message: "Oops, an unexpected error occurred", LongMessage: "There was an internal error on our servers. We've been notified and are working on fixing it."})
		return
	}
	envType := "development"
	if strings.HasPrefix(s.opts.Key, "sk_live_") {
		envType = "production"
	}
	writeJSON(w, http.StatusOK, s.settings.environment(envType))
}

// SetEnvironmentFault makes the Frontend API's environment endpoint answer 500 (on) or serve
// the settings again (off), so a test can take the settings away mid-run.
func (s *Server) SetEnvironmentFault(on bool) { s.envFault.Store(on) }
