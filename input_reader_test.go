package main

import (
	"io"
	"testing"

	"github.com/userimport/userimport/mapping"
)

// TestMappingFlagsReachThePreset: --no-skip-password-requirement and --restriction-checks
// turn off the two flags every create otherwise carries; without them both are sent.
func TestMappingFlagsReachThePreset(t *testing.T) {
	rec, err := mapping.JSONRecord([]byte(`{"external_id":"u1","email_address":"u1@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args                   []string
		skipPassword, skipRule bool
	}{
		{nil, true, true},
		{[]string{"--no-skip-password-requirement"}, false, true},
		{[]string{"--restriction-checks"}, true, false},
		{[]string{"--no-skip-password-requirement", "--restriction-checks", "--allow-no-external-id"}, false, false},
	} {
		var f inputFlags
		fs := newFlagSet("validate", io.Discard)
		f.register(fs)
		if err := fs.parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		e := &environment{getenv: func(string) string { return "" }}
		m, _, err := e.loadMapping(&f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Apply(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.SkipPasswordRequirement != nil && *p.SkipPasswordRequirement; got != tc.skipPassword {
			t.Errorf("%v: skip_password_requirement %v, want %v", tc.args, got, tc.skipPassword)
		}
		if got := p.SkipRestrictionChecks != nil && *p.SkipRestrictionChecks; got != tc.skipRule {
			t.Errorf("%v: skip_restriction_checks %v, want %v", tc.args, got, tc.skipRule)
		}
		if want := len(tc.args) == 3; f.allowNoExternalID != want {
			t.Errorf("%v: allowNoExternalID %v", tc.args, f.allowNoExternalID)
		}
	}
}
