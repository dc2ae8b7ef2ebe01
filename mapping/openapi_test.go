package mapping

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox/spectest"
)

// specPath is Clerk's spec beside the repository (../shared/clerk); the test skips without it.
func specPath(t *testing.T) string {
	t.Helper()
	p, ok := spectest.SpecPath()
	if !ok {
		if os.Getenv("CI") == "true" { // CI has ../shared beside the clone: a missing spec is a failure there
			t.Fatal("Clerk's OpenAPI spec (../shared/clerk/bapi-2025-04-10.yml) is not beside the repository")
		}
		t.Skip("Clerk's OpenAPI spec (../shared/clerk/bapi-2025-04-10.yml) is not beside the repository")
	}
	return p
}

// TestParamsMatchClerkSpec holds CreateUserParams and the mapping targets to the request
// body of POST /v1/users, so a misspelt field cannot reach Clerk as form_param_unknown.
func TestParamsMatchClerkSpec(t *testing.T) {
	// The spec plus the one field it predates (spectest names it, for client and sandbox alike).
	doc, err := spectest.LoadDoc(specPath(t))
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Value("/users")
	if item == nil || item.Post == nil || item.Post.RequestBody == nil {
		t.Fatal("POST /users not in the spec")
	}
	props := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties
	typ := reflect.TypeFor[CreateUserParams]()
	tags := map[string]bool{}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		tags[name] = true
		if props[name] == nil {
			t.Errorf("CreateUserParams.%s (%s) is not a POST /v1/users body field", typ.Field(i).Name, name)
		}
	}
	for _, tg := range targets {
		if tg.name == reservedEmails || tg.name == reservedPhones {
			continue
		}
		if !tags[tg.name] {
			t.Errorf("mapping target %s is not a CreateUserParams field", tg.name)
		}
	}
	if len(targets)-2 != typ.NumField() {
		t.Errorf("%d mapping targets for %d CreateUserParams fields", len(targets)-2, typ.NumField())
	}
	status := props["email_address_identification_status"].Value.Items.Value.Enum
	if len(status) != 2 || status[0] != "verified" || status[1] != "reserved" {
		t.Errorf("identification status enum = %v, want verified and reserved", status)
	}
}
