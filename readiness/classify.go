package readiness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/userimport/userimport/mapping"
)

// Class is what the instance will do with a row; the order is from best to worst.
type Class int

const (
	Full             Class = iota // imported with everything the row holds
	WithoutSomething              // imported, but something is dropped or must be redone by the user
	WillNotImport                 // POST /v1/users refuses it: a required identifier is missing
)

var classNames = [...]string{"full", "without_something", "will_not_import"}

// String is the stable name used in reports and JSON.
func (c Class) String() string {
	if c < Full || c > WillNotImport {
		return fmt.Sprintf("class(%d)", int(c))
	}
	return classNames[c]
}

// MarshalText makes a Class a string in JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// heading is how a report names the class.
func (c Class) heading() string {
	switch c {
	case WillNotImport:
		return "Will not be imported"
	case WithoutSomething:
		return "Will be imported without something"
	}
	return "Will be imported in full"
}

// Reason is one cause of a verdict.
type Reason struct {
	Code   string   `json:"code"`             // stable, e.g. email_address_required, username_off
	Class  Class    `json:"class"`            // what this reason alone makes of the row
	Text   string   `json:"text"`             // what happens, in words
	Fix    string   `json:"fix"`              // what to change, in the instance by name or in the mapping
	Fields []string `json:"fields,omitempty"` // create fields the import drops for it
}

// Verdict is a row's class, the worst its reasons make it, with every reason that applies.
type Verdict struct {
	Class   Class    `json:"class"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Fields are the create fields the import drops from the row, in the order of the reasons.
func (v Verdict) Fields() []string {
	var out []string
	for _, r := range v.Reasons {
		out = append(out, r.Fields...)
	}
	return out
}

// Codes are the reasons' codes, for a journal line.
func (v Verdict) Codes() []string {
	out := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		out[i] = r.Code
	}
	return out
}

// Refused says whether the import should not send the row: the instance would refuse it, or
// strict (--strict-fields) refuses rows that would lose a field rather than drop it.
func (v Verdict) Refused(strict bool) bool {
	return v.Class == WillNotImport || strict && len(v.Fields()) > 0
}

// Refusal is what to journal for a row Refused(strict) keeps from being sent: the code and text
// of the reason that refuses it (the first of the worst class); "" when the row is not refused.
func (v Verdict) Refusal(strict bool) (code, message string) {
	if !v.Refused(strict) {
		return "", ""
	}
	for _, r := range v.Reasons {
		switch {
		case v.Class == WillNotImport && r.Class == WillNotImport:
			return r.Code, r.Text + "; to change: " + r.Fix
		case v.Class != WillNotImport && len(r.Fields) > 0:
			return r.Code, r.Text + "; with --strict-fields the row is refused instead of losing it; to change: " + r.Fix
		}
	}
	return "", ""
}

// String is one line: the class and each reason's text.
func (v Verdict) String() string {
	if len(v.Reasons) == 0 {
		return v.Class.String()
	}
	texts := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		texts[i] = r.Code + ": " + r.Text
	}
	return v.Class.String() + " (" + strings.Join(texts, "; ") + ")"
}

func nonEmpty(p *string) bool { return p != nil && *p != "" }

// given lists the create fields of attribute name that p sets; empty when p does not carry it
// (an empty string or list is not given: Clerk ignores it as the sandbox does).
func given(p *mapping.CreateUserParams, name string) []string {
	var out []string
	add := func(on bool, field string) {
		if on {
			out = append(out, field)
		}
	}
	switch name {
	case "email_address":
		if len(p.EmailAddresses) > 0 {
			out = append(out, "email_address")
			add(len(p.EmailAddressIdentificationStatus) > 0, "email_address_identification_status")
		}
	case "phone_number":
		if len(p.PhoneNumbers) > 0 {
			out = append(out, "phone_number")
			add(len(p.PhoneNumberIdentificationStatus) > 0, "phone_number_identification_status")
		}
	case "username":
		add(nonEmpty(p.Username), "username")
	case "web3_wallet":
		add(len(p.Web3Wallets) > 0, "web3_wallet")
	case "first_name":
		add(nonEmpty(p.FirstName), "first_name")
	case "last_name":
		add(nonEmpty(p.LastName), "last_name")
	case "password":
		add(nonEmpty(p.Password), "password")
		if nonEmpty(p.PasswordDigest) {
			out = append(out, "password_digest")
			add(p.PasswordHasher != nil, "password_hasher")
		}
	}
	return out
}

// has tells whether p gives attribute name at all: given's answer is not empty.
func has(p *mapping.CreateUserParams, name string) bool {
	switch name {
	case "email_address":
		return len(p.EmailAddresses) > 0
	case "phone_number":
		return len(p.PhoneNumbers) > 0
	case "username":
		return nonEmpty(p.Username)
	case "web3_wallet":
		return len(p.Web3Wallets) > 0
	case "first_name":
		return nonEmpty(p.FirstName)
	case "last_name":
		return nonEmpty(p.LastName)
	case "password":
		return nonEmpty(p.Password) || nonEmpty(p.PasswordDigest)
	}
	return false
}

// clear removes attribute name from p.
func clearAttr(p *mapping.CreateUserParams, name string) {
	switch name {
	case "email_address":
		p.EmailAddresses, p.EmailAddressIdentificationStatus = nil, nil
	case "phone_number":
		p.PhoneNumbers, p.PhoneNumberIdentificationStatus = nil, nil
	case "username":
		p.Username = nil
	case "web3_wallet":
		p.Web3Wallets = nil
	case "first_name":
		p.FirstName = nil
	case "last_name":
		p.LastName = nil
	case "password":
		p.Password, p.PasswordDigest, p.PasswordHasher = nil, nil, nil
	}
}

const dashboard = "(Clerk Dashboard: User & authentication)"

// Classify puts p into the worst class that applies under s, with every reason. providers are the
// social providers the source says the user signs in with (e.g. Auth0's "google-oauth2",
// Firebase's "google.com"); the create body cannot say so, so only the caller can. Nil settings
// (not read) flag nothing: "could not read" is not "switched off".
func Classify(s *Settings, p *mapping.CreateUserParams, providers ...string) Verdict {
	var v Verdict
	if s == nil || p == nil {
		return v
	}
	add := func(r Reason) {
		v.Reasons = append(v.Reasons, r)
		v.Class = max(v.Class, r.Class)
	}
	for _, a := range attrs {
		st := s.attribute(a.name)
		if !st.Known {
			continue
		}
		present := has(p, a.name)
		switch {
		case !st.Enabled && present:
			fields := given(p, a.name) // only for a reason: not on every row
			what := strings.ToLower(a.label)
			add(Reason{Code: a.name + "_off", Class: WithoutSomething, Fields: fields,
				Text: fmt.Sprintf("%s is switched off in the instance, so the row's %s cannot be stored and is dropped", what, strings.Join(fields, ", ")),
				Fix:  fmt.Sprintf("turn on %s %s, or leave %s out of the mapping", a.toggle, dashboard, a.name)})
		case st.Required && !present && a.name == "password":
			add(Reason{Code: "password_missing", Class: WithoutSomething,
				Text: "the instance requires a password and the row has none: it is imported with skip_password_requirement and the user must set a password by reset",
				Fix:  "map the source's password hashes (password_digest and password_hasher) if its export has them"})
		case st.Required && !present:
			what := strings.ToLower(a.label)
			add(Reason{Code: a.name + "_required", Class: WillNotImport,
				Text: fmt.Sprintf("the instance requires %s at sign-up and the row has none; Clerk refuses the create", article(what)),
				Fix:  fmt.Sprintf("make %s optional at sign-up %s, or map the source's %s", a.label, dashboard, what)})
		}
	}
	var seen []string
	for _, pr := range providers {
		st := strategy(pr)
		if st == "" || notSocial[strings.TrimPrefix(st, "oauth_")] || slices.Contains(seen, st) {
			continue
		}
		seen = append(seen, st)
		if !s.SocialOn(st) {
			label := providerLabel(st)
			add(Reason{Code: st + "_off", Class: WithoutSomething,
				Text: fmt.Sprintf("the user signs in with %s at the source and %s is not turned on in the instance", label, label),
				Fix:  fmt.Sprintf("turn on %s (Clerk Dashboard: SSO connections), or have these users sign in another way", label)})
		}
	}
	return v
}

// notSocial are the providers sources name for sign-in that is not a social connection.
var notSocial = map[string]bool{"password": true, "email": true, "phone": true, "auth0": true,
	"firebase": true, "credentials": true, "username_password_authentication": true, "cognito": true,
	"anonymous": true, "sms": true}

func article(what string) string {
	if strings.IndexByte("aeiou", what[0]) >= 0 {
		return "an " + what
	}
	return "a " + what
}

// Drop removes from p the attributes the instance has switched off and returns the create
// fields it removed. Where the instance requires a password and p has none it also sets
// skip_password_requirement, so the row is imported as Classify's password_missing says.
// Nil settings change nothing.
func Drop(s *Settings, p *mapping.CreateUserParams) (dropped []string) {
	if s == nil || p == nil {
		return nil
	}
	for _, a := range attrs {
		st := s.attribute(a.name)
		if !st.Known {
			continue
		}
		present := has(p, a.name)
		switch {
		case !st.Enabled && present:
			dropped = append(dropped, given(p, a.name)...)
			clearAttr(p, a.name)
		case st.Required && a.name == "password" && !present:
			yes := true
			p.SkipPasswordRequirement = &yes
		}
	}
	return dropped
}
