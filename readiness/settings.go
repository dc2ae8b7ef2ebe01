// Package readiness tells, before anything is written, which rows a Clerk instance will take in
// full, which it will take without something, and which it will refuse, from the instance's
// live sign-up settings (the user_settings of its Frontend API environment).
package readiness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Attribute is one user attribute's state in the instance.
type Attribute struct {
	Known    bool // the environment listed it; an unknown attribute flags nothing
	Enabled  bool // the instance stores it
	Required bool // sign-up requires it, and POST /v1/users enforces that
}

// Settings are the parts of an instance's user_settings that decide what a create can store.
type Settings struct {
	Attributes  map[string]Attribute // by Clerk name: email_address, phone_number, username, ...
	Social      []string             // strategies switched on, e.g. oauth_google; sorted
	Environment string               // instance_environment_type: development or production; "" if absent
}

// attr describes one attribute the readiness check reads: its Clerk name, the Dashboard's label
// for it, and the create fields that carry it (the first is the one that says it is given).
type attr struct {
	name, label, toggle string
	fields              []string
}

// attrs are the attributes in the order reasons are given.
var attrs = []attr{
	{"email_address", "Email address", "Email address", []string{"email_address", "email_address_identification_status"}},
	{"phone_number", "Phone number", "Phone number", []string{"phone_number", "phone_number_identification_status"}},
	{"username", "Username", "Usernames", []string{"username"}},
	{"web3_wallet", "Web3 wallet", "Web3 wallets", []string{"web3_wallet"}},
	{"first_name", "First name", "First and last name", []string{"first_name"}},
	{"last_name", "Last name", "First and last name", []string{"last_name"}},
	{"password", "Password", "Password", []string{"password", "password_digest", "password_hasher"}},
}

// Parse reads the user settings from a Frontend API GET /v1/environment body (clerk-js
// EnvironmentJSON: user_settings.attributes.<name>.enabled/required, user_settings.social).
func Parse(env []byte) (*Settings, error) {
	var doc struct {
		DisplayConfig *struct {
			InstanceEnvironmentType string `json:"instance_environment_type"`
		} `json:"display_config"`
		UserSettings *struct {
			Attributes map[string]*struct {
				Enabled  *bool `json:"enabled"`
				Required *bool `json:"required"`
			} `json:"attributes"`
			Social map[string]*struct {
				Enabled  bool   `json:"enabled"`
				Strategy string `json:"strategy"`
			} `json:"social"`
		} `json:"user_settings"`
	}
	if err := json.Unmarshal(env, &doc); err != nil {
		return nil, fmt.Errorf("readiness: environment is not the Frontend API's JSON: %w", err)
	}
	us := doc.UserSettings
	if us == nil || us.Attributes == nil {
		return nil, errors.New("readiness: environment has no user_settings.attributes")
	}
	s := &Settings{Attributes: make(map[string]Attribute, len(attrs))}
	if doc.DisplayConfig != nil {
		s.Environment = doc.DisplayConfig.InstanceEnvironmentType
	}
	for _, a := range attrs {
		v := us.Attributes[a.name]
		if v == nil || v.Enabled == nil {
			continue // not listed: unknown, so nothing is flagged on its account
		}
		st := Attribute{Known: true, Enabled: *v.Enabled}
		st.Required = st.Enabled && v.Required != nil && *v.Required
		s.Attributes[a.name] = st
	}
	for key, c := range us.Social {
		if c == nil || !c.Enabled {
			continue
		}
		st := c.Strategy
		if st == "" {
			st = key
		}
		if st = strategy(st); st != "" && !slices.Contains(s.Social, st) {
			s.Social = append(s.Social, st)
		}
	}
	slices.Sort(s.Social)
	return s, nil
}

// attribute is a's state; the zero Attribute (unknown) for a nil Settings.
func (s *Settings) attribute(name string) Attribute {
	if s == nil {
		return Attribute{}
	}
	return s.Attributes[name]
}

// SocialOn reports whether the instance has the social connection on; provider as strategy() takes it.
func (s *Settings) SocialOn(provider string) bool {
	return s != nil && slices.Contains(s.Social, strategy(provider))
}

// strategy names a provider as Clerk's strategy: "google", "oauth_google", Auth0's
// "google-oauth2" and Firebase's "google.com" are all oauth_google; "" when there is no name.
func strategy(provider string) string {
	p := strings.ToLower(strings.TrimSpace(provider))
	p = strings.TrimPrefix(p, "oauth_")
	p = strings.TrimSuffix(p, ".com")
	p = strings.TrimSuffix(p, "-oauth2")
	p = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r == '-' || r == '.':
			return '_'
		}
		return -1
	}, p)
	if p == "" {
		return ""
	}
	return "oauth_" + p
}

// providerLabel is the Dashboard's name for a strategy: oauth_google -> Google.
func providerLabel(st string) string {
	name := strings.TrimPrefix(st, "oauth_")
	if l, ok := providerLabels[name]; ok {
		return l
	}
	if name == "" {
		return st
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

var providerLabels = map[string]string{"github": "GitHub", "gitlab": "GitLab", "linkedin": "LinkedIn",
	"linkedin_oidc": "LinkedIn", "tiktok": "TikTok", "hubspot": "HubSpot", "x": "X/Twitter"}

// Instance is where the settings come from; *clerk.Client is one.
type Instance interface {
	FrontendAPI(ctx context.Context) (string, error)                     // Backend API GET /v1/domains: the primary domain's
	Environment(ctx context.Context, frontendAPI string) ([]byte, error) // that Frontend API's public GET /v1/environment
}

// Load reads the instance's settings. On an error, pass it to NewTally with nil settings: the
// report then says the settings could not be read and flags nothing.
func Load(ctx context.Context, in Instance) (*Settings, error) {
	fapi, err := in.FrontendAPI(ctx)
	if err != nil {
		return nil, fmt.Errorf("finding the instance's Frontend API: %w", err)
	}
	env, err := in.Environment(ctx, fapi)
	if err != nil {
		return nil, fmt.Errorf("reading the instance's settings from %s: %w", fapi, err)
	}
	return Parse(env)
}
