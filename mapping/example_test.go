package mapping_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/userimport/userimport/mapping"
)

func ExampleParse() {
	m, err := mapping.Parse([]byte(`{"fields": {
	  "external_id":   {"from": "id"},
	  "email_address": {"from": ["email", "alt_email"]},
	  "first_name":    {"first_of": {"from": "name"}},
	  "last_name":     {"last_of": "name"},
	  "phone_number":  {"split": {"from": "phones", "sep": ";"}},
	  "created_at":    {"time": {"from": "created", "layout": "unix_ms"}},
	  "username":      {"from": "login", "when": {"from": "login_ok", "equals": true}},
	  "public_metadata": {"object": {"plan": {"from": "user_metadata.plan"}, "tier": {"const": "gold"}}},
	  "private_metadata": {"from": "private_json"}
	}}`))
	if err != nil {
		panic(err)
	}
	rec := mapping.CSVRecord(
		[]string{"id", "email", "alt_email", "name", "phones", "created", "login", "login_ok", "user_metadata", "private_json"},
		[]string{"42", "ann@example.com", "", "Ann Lee", "+15555550100;+15555550101", "1700000000000", "ann", "yes", `{"plan":"pro"}`, `{"crm":7}`})
	p, err := m.Apply(rec)
	if err == nil {
		err = mapping.Validate(p)
	}
	body, _ := json.Marshal(p)
	fmt.Println(string(body), err)
	// Output: {"external_id":"42","first_name":"Ann","last_name":"Lee","email_address":["ann@example.com"],"phone_number":["+15555550100","+15555550101"],"username":"ann","skip_password_requirement":true,"public_metadata":{"plan":"pro","tier":"gold"},"private_metadata":{"crm":7},"created_at":"2023-11-14T22:13:20.000Z","skip_restriction_checks":true} <nil>
}

// TestApplyConcurrent runs one Mapping from many goroutines, for the race detector.
func TestApplyConcurrent(t *testing.T) {
	m, err := mapping.Preset("auth0", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := mapping.JSONRecord([]byte(`{"user_id":"auth0|1","email":"a@x.io","email_verified":false,"user_metadata":{"a":1},"created_at":"2020-10-06T15:34:31.575Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				p, err := m.Apply(rec)
				if err != nil || mapping.Validate(p) != nil || len(p.EmailAddressIdentificationStatus) != 1 {
					t.Errorf("Apply = %+v, %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkApplyNativeCSV(b *testing.B) {
	header := []string{"external_id", "email_address", "first_name", "last_name", "phone_number", "public_metadata", "password_digest", "password_hasher", "extra1", "extra2"}
	cells := []string{"u-1", "ann@example.com", "Ann", "Lee", "+15555550100", `{"plan":"pro"}`, "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt", "x", "y"}
	m := mapping.Native()
	b.ReportAllocs()
	for b.Loop() {
		p, err := m.Apply(mapping.CSVRecord(header, cells))
		if err != nil || mapping.Validate(p) != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyNativeJSON(b *testing.B) {
	raw := []byte(`{"external_id":"u-1","email_address":"ann@example.com","firstName":"Ann","lastName":"Lee","phoneNumber":"+15555550100","publicMetadata":{"plan":"pro"},"extra":[1,2,3]}`)
	m := mapping.Native()
	b.ReportAllocs()
	for b.Loop() {
		rec, err := mapping.JSONRecord(raw)
		if err != nil {
			b.Fatal(err)
		}
		p, err := m.Apply(rec)
		if err != nil || mapping.Validate(p) != nil {
			b.Fatal(err)
		}
	}
}

// ExampleWithJoins is the lookup hook an importer uses for --join: index the second file by
// each JoinSpec's OtherKey, find a record's row by Key, and attach it with WithJoins.
func ExampleWithJoins() {
	m, err := mapping.Preset("betterauth", mapping.PresetOptions{})
	if err != nil {
		panic(err)
	}
	accounts := []mapping.Record{
		mapping.CSVRecord([]string{"userId", "providerId", "password"}, []string{"u1", "google", ""}),
		mapping.CSVRecord([]string{"userId", "providerId", "password"},
			[]string{"u1", "credential", "0123456789abcdef0123456789abcdef:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}),
	}
	join := m.Joins()[0]
	index := map[string]mapping.Record{}
	for _, a := range accounts {
		if k, ok, err := join.OtherKey(a); err == nil && ok {
			index[k] = a // only the credential row: the declaration filters on providerId
		}
	}
	user := mapping.CSVRecord([]string{"id", "name", "email", "emailVerified"}, []string{"u1", "Ann Lee", "ann@example.com", "t"})
	if k, ok, _ := join.Key(user); ok && index[k] != nil {
		user = mapping.WithJoins(user, map[string]mapping.Record{join.Name: index[k]})
	}
	p, err := m.Apply(user)
	if err == nil {
		err = mapping.Validate(p)
	}
	fmt.Println(*p.PasswordHasher, *p.FirstName, *p.LastName, err)
	// Output: scrypt_werkzeug Ann Lee <nil>
}
