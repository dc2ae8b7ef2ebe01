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
}

var optionNames = []string{
	"firebase_signer_key", "firebase_salt_separator", "firebase_rounds", "firebase_mem_cost",
	"cognito_pool_id", "cognito_client_id",
}

// presetOrder is the order Presets lists them in.
var presetOrder = []string{"native", "clerk", "auth0", "firebase", "supabase", "authjs", "cognito"}

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
			Description: "keys already named as the API's fields, snake_case or camelCase (the default)"},
		exprs: map[string]*expr{},
		read:  map[string]bool{},
	}
	for _, t := range targets {
		keys := append([]string{t.name}, t.alias...)
		m.exprs[t.name] = &expr{from: keys, fromList: true}
		for _, k := range keys {
			m.read[k] = true
		}
	}
	m.comp = compile(m.exprs)
	return m
}

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
	c.exprs = maps.Clone(m.exprs)
	c.comp = compile(c.exprs)
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
	for _, s := range []*expr{e.split, e.time, e.firstOf, e.lastOf, e.e164} {
		s.options(set)
	}
	if e.when != nil {
		e.when.value.options(set)
	}
}
