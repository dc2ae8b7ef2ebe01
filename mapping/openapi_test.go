package mapping

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// specPath finds Clerk's OpenAPI spec next to the repository: ../shared/clerk from the
// directory holding go.mod.
func specPath(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the package")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "clerk", "bapi-2025-04-10.yml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Clerk OpenAPI spec not available: %v", err)
	}
	return p
}

// TestParamsMatchClerkSpec holds CreateUserParams and the mapping targets to the request
// body of POST /v1/users, so a misspelt field cannot reach Clerk as form_param_unknown.
func TestParamsMatchClerkSpec(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath(t))
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
