package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzApply feeds random bytes through every preset as a JSON record and as CSV cells: Apply
// and Validate must not panic, errors must be *FieldError (or *SkipError for a row a preset
// leaves out), and a result must marshal.
func FuzzApply(f *testing.F) {
	seeds := []string{
		`{"email_address":"a@x.io","public_metadata":{"a":1}}`,
		`{"emailAddresses":["a@x.io",null,7],"skipPasswordChecks":"yes","createdAt":"2024-01-01T00:00:00Z"}`,
		`{"phone_number":"[\"+15555550100\"]","backup_codes":"[1,2]","create_organizations_limit":1e3}`,
		`{"private_metadata":"{\"k\":[1,2,{}]}","username":{"x":1}}`,
		`{"email_address":"[","password_digest":"$2a$10$x","password_hasher":"bcrypt"}`,
		`[]`, `{`, `{"a":1}{"b":2}`, "",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	mappings := []*Mapping{Native()}
	for _, name := range presetOrder[1:] {
		m, err := Preset(name, PresetOptions{FirebaseSignerKey: "a2V5", CognitoPoolID: "p", CognitoClientID: "c"})
		if err != nil {
			f.Fatal(err)
		}
		mappings = append(mappings, m)
	}
	check := func(t *testing.T, m *Mapping, rec Record) {
		p, err := m.Apply(rec)
		if err == nil {
			err = Validate(p)
			if _, merr := json.Marshal(p); merr != nil {
				t.Fatalf("marshal: %v", merr)
			}
			_ = Identifiers(p)
		}
		var fe *FieldError
		var se *SkipError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &se) {
			t.Fatalf("error %v (%T) is not a *FieldError or *SkipError", err, err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if rec, err := JSONRecord(data); err == nil {
			for _, m := range mappings {
				check(t, m, rec)
				// Skipping fields whose keys a record lacks changes nothing.
				fast, ferr := m.apply(rec, true)
				slow, serr := m.apply(rec, false)
				if fmt.Sprint(ferr) != fmt.Sprint(serr) || !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%s: shortcut %+v, %v; generic %+v, %v", m.Info().Name, fast, ferr, slow, serr)
				}
			}
		}
		cells := strings.Split(string(data), "\x00")
		var header []string
		for _, tg := range targets {
			header = append(header, tg.name)
		}
		header = append(header, "email", "passwordHash", "salt", "displayName", "createdAt", "created_at", "phone", "email_verified",
			"Email Address", "deleted_at", "is_anonymous", "banned_until", "encrypted_password", "banExpires", "isAnonymous", "Attributes", "custom:x")
		for i := range cells {
			// Rotate so every cell meets every column across the corpus.
			rot := append(append([]string{}, cells[i:]...), cells[:i]...)
			for _, m := range mappings {
				check(t, m, CSVRecord(header, rot))
			}
			if i > 4 {
				break
			}
		}
	})
}
