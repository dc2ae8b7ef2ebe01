package mapping

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCSVRecord(t *testing.T) {
	r := CSVRecord([]string{"id", "email", "meta", "a.b", "blank", "late"}, []string{"7", "x@y.io", `{"plan":"pro","n":[1,{"k":"v"}]}`, "dotted", "  "})
	tests := []struct {
		key  string
		want any
		ok   bool
	}{
		{"id", "7", true},
		{"email", "x@y.io", true},
		{"a.b", "dotted", true},              // a column whose name has a dot
		{"meta.plan", "pro", true},           // into a JSON cell
		{"meta.n.1.k", "v", true},            // arrays by index
		{"meta.n.0", json.Number("1"), true}, // numbers stay numbers
		{"meta.missing", nil, false},         //
		{"blank", nil, false},                // blank cell is absent
		{"late", nil, false},                 // missing trailing cell
		{"nope", nil, false},                 //
		{"email.x", nil, false},              // not JSON
	}
	for _, tt := range tests {
		got, ok := r.Lookup(tt.key)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if !r.Textual() {
		t.Error("CSV record not textual")
	}
	if diff := cmp.Diff([]string{"id", "email", "meta", "a.b", "blank", "late"}, r.Keys()); diff != "" {
		t.Error(diff)
	}
}

func TestJSONRecord(t *testing.T) {
	r, err := JSONRecord([]byte(`{"z":2,"user_metadata":{"plan":"pro"},"identities":[{"provider":"google-oauth2"}],"n":null,"s":" ","a.b":true,"enc":"{\"k\":\"v\"}"}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"z", "user_metadata", "identities", "n", "s", "a.b", "enc"}, r.Keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	tests := []struct {
		key  string
		want any
		ok   bool
	}{
		{"z", json.Number("2"), true}, // a duplicate key is refused: TestJSONRecordRefusesDuplicateKeys
		{"user_metadata.plan", "pro", true},
		{"identities.0.provider", "google-oauth2", true},
		{"identities.1.provider", nil, false},
		{"identities.x", nil, false},
		{"n", nil, false},
		{"s", nil, false},
		{"a.b", true, true},
		{"enc.k", "v", true},
	}
	for _, tt := range tests {
		got, ok := r.Lookup(tt.key)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if r.Textual() {
		t.Error("JSON record textual")
	}
}

func TestJSONRecordErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{"a":1`, `{"a":1} {}`, `{"a":1}x`, `{1:2}`, `null`} {
		if _, err := JSONRecord([]byte(in)); err == nil {
			t.Errorf("JSONRecord(%q): no error", in)
		}
	}
}

func TestJSONRecordRefusesDuplicateKeys(t *testing.T) {
	for _, in := range []string{
		`{"email_address":"a@x.io","email_address":"b@x.io"}`,
		`{"password":"one","x":1,"password":"two"}`,
	} {
		if _, err := JSONRecord([]byte(in)); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s: err %v, want a duplicate-key error", in, err)
		}
	}
	// The same key at different depths is no duplicate.
	if _, err := JSONRecord([]byte(`{"a":{"a":1},"b":[{"a":2}]}`)); err != nil {
		t.Errorf("nested keys: %v", err)
	}
}
