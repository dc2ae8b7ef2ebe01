// Package mapping turns input records into Clerk create-user requests. It is a leaf: no I/O,
// no network, so the same code serves import, validate and the tests.
//
// The flow for one record: Record (CSVRecord, JSONRecord) -> Mapping.Apply ->
// CreateUserParams -> Validate -> Identifiers (for in-file duplicates). A Mapping comes from
// Native, Preset or Parse (a mapping file); Spec is its canonical JSON.
//
// # Mapping files
//
// A mapping file is a JSON object whose "fields" map API field names of POST /v1/users to
// value expressions:
//
//	{"fields": {
//	  "external_id":   {"from": "id"},
//	  "email_address": {"from": ["email", "alt_email"]},
//	  "first_name":    {"first_of": {"from": "name"}},
//	  "last_name":     {"last_of": "name"},
//	  "phone_number":  {"split": {"from": "phones", "sep": ";"}},
//	  "created_at":    {"time": {"from": "created", "layout": "unix_ms"}},
//	  "username":      {"from": "login", "when": {"from": "login_ok", "equals": true}},
//	  "public_metadata": {"object": {"plan": {"from": "user_metadata.plan"}, "tier": {"const": "gold"}}},
//	  "private_metadata": {"from": "private_json"}
//	}}
//
// Expressions (exactly one source, optionally "when"):
//
//   - "column" is short for {"from": "column"}.
//   - from: a key, or a dotted path into nested objects, arrays ("identities.0.provider") and
//     JSON-encoded cells; a list of keys fills a list field from all of them, and any other
//     field from the first one present.
//   - const: a JSON value.
//   - object: a metadata object built from named sub-expressions (absent ones left out).
//   - split: {expression, "sep": ";"}: a list from one text value.
//   - time: {expression, "layout": "auto|rfc3339|unix|unix_ms|postgres"}: RFC 3339 output.
//   - first_of, last_of: a full name's given names and family name (its last word).
//   - e164: a phone number without spaces, dashes, dots and parentheses, with a leading +.
//   - join: {"parts": [expression, ...], "sep": "$"}: absent if any part is absent.
//   - option: a PresetOptions value by name (firebase_signer_key, firebase_salt_separator,
//     firebase_rounds, firebase_mem_cost, cognito_pool_id, cognito_client_id); with
//     "required": true its absence fails the row instead of leaving the value absent.
//   - when: {expression, "equals": value, "not": bool}: without equals the value must be
//     present; CSV text compares by the constant's type ("TRUE" equals true). "when":
//     "column" is short for {"from": "column"}.
//
// Values are read leniently and typed by the target field: lists take one value, a JSON
// array, a JSON-array-encoded string or (CSV) a comma-separated cell; booleans take
// true/false, 1/0, yes/no, t/f; metadata takes an object or a string holding one. Null,
// blank and empty CSV cells are absent. Email, phone and wallet lists are deduplicated
// case-insensitively.
//
// Two pseudo-fields create addresses reserved (unverified but usable for sign-in, locked
// to the user) instead of verified: email_address_reserved and phone_number_reserved. Apply
// appends them after the verified ones and fills the *_identification_status arrays.
package mapping
