package nearest

import "testing"

func TestName(t *testing.T) {
	names := []string{"import", "validate", "sandbox", "presets", "undo", "report", "help", "version"}
	for in, want := range map[string]string{"imprt": "import", "valdiate": "validate", "rep": "report", "undp": "undo", "xyzzy": "", "deploy": ""} {
		if got := Name(in, names); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
	fields := []string{"external_id", "email_address", "phone_number", "first_name"}
	for in, want := range map[string]string{"email_adress": "email_address", "email": "email_address", "firstname": "first_name", "zzz": ""} {
		if got := Name(in, fields); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}
