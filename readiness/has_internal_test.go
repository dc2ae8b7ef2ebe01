package readiness

import (
	"testing"

	"github.com/userimport/userimport/mapping"
)

// has agrees with given on every attribute, for a row with every field and for an empty one.
func TestHasAgreesWithGiven(t *testing.T) {
	s := func(v string) *string { return &v }
	full := &mapping.CreateUserParams{EmailAddresses: []string{"a@example.com"}, EmailAddressIdentificationStatus: []string{"reserved"},
		PhoneNumbers: []string{"+15551234567"}, Username: s("ada"), Web3Wallets: []string{"0x0000000000000000000000000000000000000001"},
		FirstName: s("Ada"), LastName: s("L"), PasswordDigest: s("$2a$10$x"), PasswordHasher: s("bcrypt")}
	blank := &mapping.CreateUserParams{Username: s(" "), FirstName: s(""), Password: s("")}
	for _, p := range []*mapping.CreateUserParams{full, blank, {Password: s("pw")}} {
		for _, a := range attrs {
			if got, want := has(p, a.name), len(given(p, a.name)) > 0; got != want {
				t.Errorf("%s: has %v, given says %v", a.name, got, want)
			}
		}
	}
}
