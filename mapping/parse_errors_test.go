package mapping

import (
	"strings"
	"testing"
)

// A mapping file's mistakes are reported where they are, with what was meant.
func TestParseErrorsSayWhereAndWhat(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"syntax error: line and column", "{\n  \"fields\": {\n    \"email_address\": \"email\",\n  }\n}",
			[]string{"line 4, column 3", "invalid character '}'"}},
		{"missing comma", "{\"fields\": {\n\"email_address\": \"email\"\n\"first_name\": \"given\"}}",
			[]string{"line 3, column 1"}},
		{"ends early", "{\"fields\": {\"email_address\": \"email\"", []string{"line 1, column", "ends early"}},
		{"wrong type", "{\"fields\": {\"email_address\": \"email\"},\n \"formats\": \"csv\"}",
			[]string{"line 2, column", "formats"}},
		{"no fields wrapper", "{\n  \"email_address\": \"email\",\n  \"first_name\": \"given\"\n}",
			[]string{"line 2", `"email_address" is at the top level`, `a mapping is {"fields": {`}},
		{"typo'd top-level key", `{"feilds": {"email_address": "email"}}`, []string{`unknown key "feilds"`, "did you mean fields?"}},
		{"empty fields", `{"fields": {}}`, []string{`"fields" is missing or empty`, `a mapping is {"fields"`}},
		{"typo'd target field", `{"fields": {"email_adress": "email"}}`,
			[]string{"fields.email_adress: not a field of POST /v1/users", "did you mean email_address?"}},
		{"typo'd expression key", `{"fields": {"email_address": {"form": "email"}}}`,
			[]string{`fields.email_address: unknown key "form"`, "did you mean from?"}},
		{"far from anything", `{"fields": {"xyzzy_plugh": "email"}}`, []string{"not a field of POST /v1/users"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.spec))
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Count(err.Error(), "mapping:") != 1 {
				t.Errorf("error %q: want one mapping: prefix", err)
			}
		})
	}
	if _, err := Parse([]byte(`{"fields": {"xyzzy_plugh": "email"}}`)); strings.Contains(err.Error(), "did you mean") {
		t.Errorf("no near name, yet: %v", err)
	}
}
