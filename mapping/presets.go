package mapping

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
)

//go:embed presets/*.json
var presetFiles embed.FS

// PresetInfo describes a built-in preset.
type PresetInfo struct {
	Name        string
	Formats     []string // input formats it reads: "csv", "json" (json covers jsonl)
	Description string
	Export      string // which export to make: the exact command or button
	Carries     string // what carries over: passwords, MFA, metadata, banned
}

// PresetOptions are values a preset needs that the export does not hold: the Firebase
// project's password hash parameters, the Cognito pool and app client for lazy migration.
type PresetOptions struct {
	FirebaseSignerKey     string // base64_signer_key of the project's hash config; required for rows with a password hash
	FirebaseSaltSeparator string // default "Bw=="
	FirebaseRounds        int    // default 8
	FirebaseMemCost       int    // default 14
	CognitoPoolID         string // with CognitoClientID: set an awscognito digest on every row
	CognitoClientID       string

	// NoSkipPasswordRequirement stops Apply setting skip_password_requirement on rows with
	// neither password nor digest (--no-skip-password-requirement).
	NoSkipPasswordRequirement bool
	// RestrictionChecks stops Apply sending skip_restriction_checks: true, so the instance's
	// allowlist, blocklist and disposable-email rules apply to the imported users
	// (--restriction-checks).
	RestrictionChecks bool
}

var optionNames = []string{
	"firebase_signer_key", "firebase_salt_separator", "firebase_rounds", "firebase_mem_cost",
	"cognito_pool_id", "cognito_client_id",
}

// presetOrder is the order Presets lists them in.
var presetOrder = []string{"native", "clerk", "auth0", "firebase", "supabase", "authjs", "cognito", "betterauth"}

// Presets lists the built-in presets.
func Presets() []PresetInfo {
	out := make([]PresetInfo, 0, len(presetOrder))
	for _, name := range presetOrder {
		m, err := Preset(name, PresetOptions{})
		if err != nil {
			panic(err) // embedded presets are tested
		}
		out = append(out, m.info)
	}
	return out
}

// Preset compiles a built-in preset with its options bound.
func Preset(name string, opts PresetOptions) (*Mapping, error) {
	var m *Mapping
	if name == "native" {
		m = nativeBase()
	} else {
		raw, err := presetFiles.ReadFile("presets/" + name + ".json")
		if err != nil {
			return nil, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(presetOrder, ", "))
		}
		if m, err = Parse(raw); err != nil {
			return nil, fmt.Errorf("preset %s: %w", name, err)
		}
	}
	if (opts.CognitoPoolID == "") != (opts.CognitoClientID == "") {
		return nil, fmt.Errorf("preset %s: give both the Cognito pool id and the app client id, or neither", name)
	}
	if opts.FirebaseRounds < 0 || opts.FirebaseMemCost < 0 {
		return nil, fmt.Errorf("preset %s: Firebase rounds and mem cost must not be negative", name)
	}
	return m.Bind(opts), nil
}

// Native is the default preset: record keys already name the API's fields, in snake_case
// (email_address) or the JS SDK's camelCase (emailAddress), singular or plural for lists.
func Native() *Mapping {
	m, _ := Preset("native", PresetOptions{})
	return m
}

// nativeBase is built once; mappings are immutable, and Bind copies.
var nativeBase = sync.OnceValue(native)

func native() *Mapping {
	m := &Mapping{
		info: PresetInfo{Name: "native", Formats: []string{"csv", "json"},
			Description: "keys already named as the API's fields, snake_case or camelCase, matched however they are written " +
				"(Email Address = email_address), with common aliases: email, phone, id/user_id, given_name/family_name, name " +
				"(split into first and last), email_verified/phone_verified false (the address is created reserved). The default.",
			Export:  "any CSV or JSON/JSONL file whose columns name Clerk's fields",
			Carries: "whatever columns name: passwords (password or password_digest + password_hasher), TOTP, metadata, banned"},
		exprs: map[string]*expr{},
	}
	for _, t := range targets {
		m.exprs[t.name] = plainList(append([]string{t.name}, t.alias...)...)
	}
	emails := append([]string{"email_address"}, targetByName["email_address"].alias...)
	phones := append([]string{"phone_number"}, targetByName["phone_number"].alias...)
	// An address flagged unverified is reserved; Apply keeps it in place but reserved.
	m.exprs[reservedEmails] = &expr{coalesce: []*expr{m.exprs[reservedEmails],
		{from: emails, fromList: true, when: []*cond{{value: plainList("email_verified", "emailVerified"), equals: false, hasEquals: true}}}}}
	m.exprs[reservedPhones] = &expr{coalesce: []*expr{m.exprs[reservedPhones],
		{from: phones, fromList: true, when: []*cond{{value: plainList("phone_number_verified", "phoneNumberVerified", "phone_verified", "phoneVerified"), equals: false, hasEquals: true}}}}}
	m.exprs["first_name"] = &expr{coalesce: []*expr{m.exprs["first_name"], {firstOf: plainList("name", "full_name", "fullName", "display_name", "displayName")}}}
	m.exprs["last_name"] = &expr{coalesce: []*expr{m.exprs["last_name"], {lastOf: plainList("name", "full_name", "fullName", "display_name", "displayName")}}}
	m.finish()
	return m
}

func plainList(keys ...string) *expr { return &expr{from: keys, fromList: true} }

// Bind returns a copy of m that reads opts wherever it refers to an option. Firebase's
// usual hash parameters fill the ones left zero.
func (m *Mapping) Bind(opts PresetOptions) *Mapping {
	c := *m
	if opts.FirebaseSaltSeparator == "" {
		opts.FirebaseSaltSeparator = "Bw=="
	}
	if opts.FirebaseRounds == 0 {
		opts.FirebaseRounds = 8
	}
	if opts.FirebaseMemCost == 0 {
		opts.FirebaseMemCost = 14
	}
	c.options = map[string]string{
		"firebase_signer_key":     opts.FirebaseSignerKey,
		"firebase_salt_separator": opts.FirebaseSaltSeparator,
		"firebase_rounds":         strconv.Itoa(opts.FirebaseRounds),
		"firebase_mem_cost":       strconv.Itoa(opts.FirebaseMemCost),
		"cognito_pool_id":         opts.CognitoPoolID,
		"cognito_client_id":       opts.CognitoClientID,
	}
	// Spec shows the options the mapping uses, so a change alters its hash; the signer
	// key only as a fingerprint.
	used := map[string]bool{}
	for _, e := range m.exprs {
		e.options(used)
	}
	c.optionsSummary = nil
	for name := range used {
		v := c.options[name]
		if v == "" {
			continue
		}
		if name == "firebase_signer_key" {
			sum := sha256.Sum256([]byte(v))
			v = "sha256:" + hex.EncodeToString(sum[:6])
		}
		if c.optionsSummary == nil {
			c.optionsSummary = map[string]any{}
		}
		c.optionsSummary[name] = v
	}
	c.keepPassword, c.restriction = opts.NoSkipPasswordRequirement, opts.RestrictionChecks
	if opts.NoSkipPasswordRequirement || opts.RestrictionChecks {
		if c.optionsSummary == nil {
			c.optionsSummary = map[string]any{}
		}
		if opts.NoSkipPasswordRequirement {
			c.optionsSummary["no_skip_password_requirement"] = true
		}
		if opts.RestrictionChecks {
			c.optionsSummary["restriction_checks"] = true
		}
	}
	c.exprs = maps.Clone(m.exprs)
	c.comp = compile(c.exprs, c.read)
	return &c
}

// options adds the option names e refers to.
func (e *expr) options(set map[string]bool) {
	if e == nil {
		return
	}
	if e.option != "" {
		set[e.option] = true
	}
	for _, s := range e.object {
		s.options(set)
	}
	for _, s := range e.join {
		s.options(set)
	}
	for _, s := range e.coalesce {
		s.options(set)
	}
	for _, s := range []*expr{e.split, e.time, e.firstOf, e.lastOf, e.e164, e.future, e.digest} {
		s.options(set)
	}
	for _, c := range e.when {
		c.value.options(set)
		c.sameAs.options(set)
	}
}
