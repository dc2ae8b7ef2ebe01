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
//   - from: a key, or a dotted path into nested objects, arrays ("identities.0.provider",
//     "mfaInfo.*.phoneInfo" for every item) and JSON-encoded cells; a list of keys fills a list
//     field from all of them, and any other field from the first one present. Keys match
//     exactly first, then as people write them: case, surrounding spaces, and spaces, dashes
//     and underscores inside do not count ("Email Address" = email_address = emailAddress);
//     two columns that both match a key only that way are an error (*AmbiguousError).
//     "join.<name>.<field>" reads the row a declared join attached (see joins below).
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
//   - coalesce: [expression, ...]: the first present.
//   - future: expression: a time, true when after now and false when not.
//   - prefixed: "custom:": an object of every top-level key with that prefix (prefix dropped).
//   - digest: {expression, "kinds": [...], "part": "digest"|"hasher"}: a password digest with
//     its hasher detected (bcrypt $2a/b/y$, argon2 $argon2i$/$argon2id$, fbscrypt Supabase's
//     $fbscrypt$ made scrypt_firebase, betterauth_scrypt <32 hex salt>:<hex key> made
//     scrypt_werkzeug); a digest of no listed kind is absent (the user gets no password).
//   - when: {expression, "equals": value, "not": bool} or {expression, "same_as":
//     expression}, or a list of them that must all hold: without equals the value must be
//     present; CSV text compares by the constant's type ("TRUE" equals true); same_as compares
//     text case-insensitively. "when": "column" is short for {"from": "column"}.
//
// Values are read leniently and typed by the target field: lists take one value, a JSON
// array, a JSON-array-encoded string or (CSV) a comma-separated cell; booleans take
// true/false, 1/0, yes/no, t/f; metadata takes an object or a string holding one. Null,
// blank and empty CSV cells are absent. Email, phone and wallet lists are deduplicated
// case-insensitively.
//
// Two pseudo-fields create addresses reserved (unverified but usable for sign-in, locked
// to the user) instead of verified: email_address_reserved and phone_number_reserved. Apply
// appends them after the verified ones and fills the *_identification_status arrays; an
// address in both lists stays in its place and is reserved.
//
// Beside "fields", a mapping file may declare:
//
//	"csv_headers": [[...], [...]]   header-less CSV: the column names per row width
//	"values": {"null": ["null", "NULL", "\\N"], "strip_prefix": ["'"]}
//	                                CSV cells: NULL spellings read as absent; one leading
//	                                escape stripped from every cell (Auth0 ', csvsafe TAB)
//	"skip": [{"reason": "...", "when": condition}]
//	                                leave a record out: Apply returns *SkipError
//	"joins": [{"name": "account", "key": expression, "other_key": expression, "where": condition}]
//	                                rows of a second file attached by key (JoinSpec, WithJoins)
//	"flatten": [{"from": "Attributes", "name": "Name", "value": "Value"}]
//	                                a list of name/value pairs read as top-level keys
//
// Unless PresetOptions say otherwise, Apply sets skip_password_requirement on a row with no
// password and no digest, and skip_restriction_checks on every row.
package mapping
