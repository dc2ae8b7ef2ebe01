package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/clerk/sandbox/spectest"
	"github.com/userimport/userimport/importer/source/clerksrc"
	"github.com/userimport/userimport/internal/fixtures"
	"github.com/userimport/userimport/mapping"
)

// e2eTarget is one sandbox behind Clerk's spec check, with every create request it received.
type e2eTarget struct {
	t   *testing.T
	url string // .../v1

	mu      sync.Mutex
	creates []map[string]any // decoded POST /v1/users bodies, in arrival order
}

// newE2ETarget starts a sandbox whose traffic is held to Clerk's spec (when the spec is
// present) and whose create bodies are kept: the sandbox stores only whether a password was
// given, and the digest and hasher are what the preset must get right.
func newE2ETarget(t *testing.T) *e2eTarget {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	handler := sb.Handler()
	var contract *spectest.Validator
	if spec, ok := spectest.SpecPath(); ok {
		if contract, err = spectest.Load(spec); err != nil {
			t.Fatal(err)
		}
		handler = contract.Middleware(handler)
	}
	tg := &e2eTarget{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/users" {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var body map[string]any
			if json.Unmarshal(b, &body) == nil {
				tg.mu.Lock()
				tg.creates = append(tg.creates, body)
				tg.mu.Unlock()
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
		if contract != nil {
			for _, v := range contract.Violations() {
				t.Error("spec violation: " + v)
			}
		}
	})
	tg.url = srv.URL + "/v1"
	return tg
}

// run runs the CLI against the target in this process.
func (tg *e2eTarget) run(args ...string) result {
	tg.t.Helper()
	env := map[string]string{"CLERK_API_URL": tg.url, "CLERK_SECRET_KEY": testKey}
	var stdout, stderr lockedBuffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// createBody is the last create request that named externalID (or, with none, email).
func (tg *e2eTarget) createBody(externalID, email string) map[string]any {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for i := len(tg.creates) - 1; i >= 0; i-- {
		b := tg.creates[i]
		if externalID != "" && b["external_id"] == externalID {
			return b
		}
		if externalID == "" && email != "" {
			if l, _ := b["email_address"].([]any); len(l) > 0 && strings.EqualFold(fmt.Sprint(l[0]), email) {
				return b
			}
		}
	}
	return nil
}

// apiUser is Clerk's User object as the clerk: source reads it, plus what these tests also
// compare. The metadata fields, nearer than the embedded ones of the same JSON names, take the
// objects decoded.
type apiUser struct {
	clerksrc.User
	PasswordEnabled bool           `json:"password_enabled"`
	TOTPEnabled     bool           `json:"totp_enabled"`
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata"`
}

// users lists every user of the instance through the Backend API, as Clerk serves them.
func (tg *e2eTarget) users() []apiUser {
	tg.t.Helper()
	return listUsers(tg.t, tg.url, testKey)
}

// journalEvent is a row event of results.jsonl, keyed by record number.
type journalEvent struct {
	Row        int    `json:"row"`
	Line       int    `json:"line"`
	Event      string `json:"event"`
	ExternalID string `json:"external_id"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	Error      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// journalByRow reads each row's final event from dir/results.jsonl.
func journalByRow(t *testing.T, dir string) map[int]journalEvent {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[int]journalEvent{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e journalEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		if e.Event == "" && e.Row > 0 && e.Status != "pending" {
			rows[e.Row] = e
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// importArgs is the command line a user runs for f (see presetArgs), into the run folder out.
func importArgs(t testing.TB, f fixtures.File, byName map[string]fixtures.File, out string) []string {
	return append([]string{"import", "--out", out, "--no-progress", "--rate", "500"}, presetArgs(t, f, byName)...)
}

// presetArgs are f's preset, the options its digests were made with (as flags), its join
// files, and the file itself.
func presetArgs(t testing.TB, f fixtures.File, byName map[string]fixtures.File) []string {
	args := []string{"--preset", f.Preset}
	keys := make([]string, 0, len(f.Options))
	for k := range f.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "firebase_signer_key" { // a secret: from a file, never a flag value
			key := filepath.Join(t.TempDir(), "firebase-signer.key")
			if err := os.WriteFile(key, []byte(f.Options[k]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--firebase-signer-key-file", key)
			continue
		}
		args = append(args, "--"+strings.ReplaceAll(k, "_", "-"), f.Options[k])
	}
	for _, j := range f.Joins {
		args = append(args, "--join", byName[j].Path)
	}
	return append(args, f.Path)
}

// TestPresetsEndToEnd imports every real-shaped export internal/fixtures writes with the preset
// a user would pick, and checks user by user what Clerk holds afterwards against what the
// source says (fixtures.Expect), and that the users a preset must leave out are journaled
// skipped and absent.
func TestPresetsEndToEnd(t *testing.T) {
	files, err := fixtures.WriteAll(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]fixtures.File{}
	covered := map[string]bool{"native": true} // native: TestNativeEverydayFiles
	for _, f := range files {
		byName[f.Name] = f
		covered[f.Preset] = true
	}
	for _, p := range mapping.Presets() {
		if !covered[p.Name] {
			t.Errorf("preset %s has no real-shaped export in internal/fixtures", p.Name)
		}
	}
	// Auth.js joined to its Account table: an OAuth sign-up (emailVerified null in "User") keeps
	// the address the provider verified, as the data set holds it.
	if f, ok := byName["authjs-users.csv"]; ok {
		f.Name, f.Joins = "authjs-users.csv+accounts", []string{"authjs-accounts.csv"}
		verified := map[string]bool{}
		for _, u := range fixtures.Users() {
			verified[u.Key] = u.EmailVerified
		}
		f.Expect = append([]fixtures.Expect(nil), f.Expect...)
		for i, e := range f.Expect {
			if len(e.Emails) > 0 {
				f.Expect[i].Emails = []fixtures.Address{{Value: e.Emails[0].Value, Verified: verified[e.Key]}}
			}
		}
		files = append(files, f)
	}
	for _, f := range files {
		if f.Join {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			tg := newE2ETarget(t)
			out := filepath.Join(t.TempDir(), "run")
			res := tg.run(importArgs(t, f, byName, out)...)
			if res.code != 0 {
				t.Fatalf("%s (%s) --preset %s: exit %d, want 0\nstdout: %s\nstderr: %s", f.Name, f.Source, f.Preset, res.code, res.stdout, res.stderr)
			}
			checkLanded(t, tg, f, journalByRow(t, out), nil)
			checkSummary(t, out, f.Expect)

			// validate, on the same command line, finds every record valid or skipped.
			vargs := append([]string{"validate"}, presetArgs(t, f, byName)...)
			res = newE2ETarget(t).run(vargs...)
			skipped := 0
			for _, e := range f.Expect {
				if e.Skipped {
					skipped++
				}
			}
			want := fmt.Sprintf("%d rows: %d valid, 0 invalid, 0 duplicate", len(f.Expect), len(f.Expect)-skipped)
			if skipped > 0 {
				want += fmt.Sprintf(", %d skipped", skipped)
			}
			if res.code != 0 || !strings.Contains(res.stdout, want) {
				t.Errorf("%v: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", vargs, res.code, want, res.stdout, res.stderr)
			}
		})
	}
}

// checkLanded compares the instance and the journal with f's expectations. unreadable names
// the records (by number) that must be journaled invalid, each with a word its error must hold;
// their Expect entries are not looked at.
func checkLanded(t *testing.T, tg *e2eTarget, f fixtures.File, journal map[int]journalEvent, unreadable map[int]string) {
	t.Helper()
	users := tg.users()
	byExt := map[string]*apiUser{}
	byEmail := map[string]*apiUser{}
	for i := range users {
		u := &users[i]
		if u.ExternalID != nil {
			byExt[*u.ExternalID] = u
		}
		for _, e := range u.EmailAddresses {
			byEmail[strings.ToLower(e.EmailAddress)] = u
		}
	}
	want := 0
	for i, e := range f.Expect {
		row := i + 1
		j, journaled := journal[row]
		name := fmt.Sprintf("record %d (%s, external_id %q)", row, e.Key, e.ExternalID)
		if word, ok := unreadable[row]; ok {
			if j.Status != "invalid" || !strings.Contains(errMessage(j), word) {
				t.Errorf("%s: journaled %q (%s), want invalid naming %q", name, j.Status, errMessage(j), word)
			}
			continue
		}
		if e.Skipped {
			if !journaled || j.Status != "skipped" {
				t.Errorf("%s: journaled %q, want skipped (%s)", name, j.Status, e.SkipReason)
			} else if why := j.Reason + " " + errMessage(j); !strings.Contains(strings.ToLower(why), e.SkipReason) {
				t.Errorf("%s: skipped with reason %q, want one naming %q", name, strings.TrimSpace(why), e.SkipReason)
			}
			if e.ExternalID != "" && byExt[e.ExternalID] != nil {
				t.Errorf("%s: must be left out, but the instance holds it", name)
			}
			for _, a := range e.Emails {
				if byEmail[strings.ToLower(a.Value)] != nil {
					t.Errorf("%s: must be left out, but the instance holds %s", name, a.Value)
				}
			}
			continue
		}
		want++
		if !journaled || j.Status != "created" {
			t.Errorf("%s: journaled %q (%s), want created", name, j.Status, errMessage(j))
		}
		var u *apiUser
		if e.ExternalID != "" {
			u = byExt[e.ExternalID]
		} else if len(e.Emails) > 0 {
			u = byEmail[strings.ToLower(e.Emails[0].Value)]
		}
		if u == nil {
			t.Errorf("%s: not in the instance (journal: %q %s)", name, j.Status, errMessage(j))
			continue
		}
		checkUser(t, name, e, u)
		checkCreateBody(t, name, e, tg.createBody(e.ExternalID, firstValue(e.Emails)))
	}
	if len(users) != want {
		t.Errorf("instance holds %d users, want %d (one per importable record, nothing else)", len(users), want)
	}
}

// checkSummary: summary.json counts every skipped record, and a run whose every record was
// created or skipped leaves no failed file.
func checkSummary(t *testing.T, out string, want []fixtures.Expect) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, e := range want {
		if e.Skipped {
			skipped++
		}
	}
	if sum.Counts["skipped"] != skipped || sum.Counts["created"] != len(want)-skipped {
		t.Errorf("summary.json counts %v, want %d created and %d skipped", sum.Counts, len(want)-skipped, skipped)
	}
	if failed, _ := filepath.Glob(filepath.Join(out, "failed.*")); len(failed) > 0 {
		t.Errorf("a run with nothing failed wrote %v", failed)
	}
}

func errMessage(j journalEvent) string {
	if j.Error == nil {
		return ""
	}
	return j.Error.Code + ": " + j.Error.Message
}

func firstValue(as []fixtures.Address) string {
	if len(as) == 0 {
		return ""
	}
	return as[0].Value
}

// checkUser compares one created user with its expectation.
func checkUser(t *testing.T, name string, e fixtures.Expect, u *apiUser) {
	t.Helper()
	bad := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{name}, args...)...) }
	if got := deref(u.ExternalID); got != e.ExternalID {
		bad("external_id %q, want %q", got, e.ExternalID)
	}
	checkAddresses(bad, "email", e.Emails, u.EmailAddresses, u.PrimaryEmailAddressID, func(a clerksrc.Identifier) string { return a.EmailAddress })
	checkAddresses(bad, "phone", e.Phones, u.PhoneNumbers, u.PrimaryPhoneNumberID, func(a clerksrc.Identifier) string { return a.PhoneNumber })
	if deref(u.Username) != e.Username {
		bad("username %q, want %q", deref(u.Username), e.Username)
	}
	first, last := deref(u.FirstName), deref(u.LastName)
	if e.FirstName != "" || e.LastName != "" {
		if first != e.FirstName || last != e.LastName {
			bad("name %q / %q, want %q / %q", first, last, e.FirstName, e.LastName)
		}
	}
	if e.Name != "" || e.FirstName == "" && e.LastName == "" {
		if got := strings.TrimSpace(first + " " + last); got != e.Name {
			bad("first and last name %q / %q give %q, want %q", first, last, got, e.Name)
		}
	}
	if u.Banned != e.Banned {
		bad("banned %v, want %v", u.Banned, e.Banned)
	}
	if u.PasswordEnabled != e.Password {
		bad("password_enabled %v, want %v", u.PasswordEnabled, e.Password)
	}
	if u.TOTPEnabled != e.TOTP {
		bad("totp_enabled %v, want %v", u.TOTPEnabled, e.TOTP)
	}
	if u.Locked {
		bad("locked, but no source locks a user")
	}
	checkMetadata(bad, e, u)
	if !e.CreatedAt.IsZero() && u.CreatedAt != e.CreatedAt.UnixMilli() {
		bad("created_at %s, want %s", time.UnixMilli(u.CreatedAt).UTC().Format(time.RFC3339Nano), e.CreatedAt.UTC().Format(time.RFC3339Nano))
	}
	if !e.LegalAcceptedAt.IsZero() && (u.LegalAcceptedAt == nil || *u.LegalAcceptedAt != e.LegalAcceptedAt.UnixMilli()) {
		bad("legal_accepted_at %v, want %s", u.LegalAcceptedAt, e.LegalAcceptedAt.UTC().Format(time.RFC3339Nano))
	}
	if e.CreateOrganizationEnabled != nil && u.CreateOrganizationEnabled != *e.CreateOrganizationEnabled {
		bad("create_organization_enabled %v, want %v", u.CreateOrganizationEnabled, *e.CreateOrganizationEnabled)
	}
	if e.CreateOrganizationsLimit != nil && (u.CreateOrganizationsLimit == nil || *u.CreateOrganizationsLimit != *e.CreateOrganizationsLimit) {
		bad("create_organizations_limit %v, want %d", u.CreateOrganizationsLimit, *e.CreateOrganizationsLimit)
	}
	if e.DeleteSelfEnabled != nil && u.DeleteSelfEnabled != *e.DeleteSelfEnabled {
		bad("delete_self_enabled %v, want %v", u.DeleteSelfEnabled, *e.DeleteSelfEnabled)
	}
}

// checkCreateBody compares the request that created a user with its expectation: the digest
// and hasher, which the instance does not serve back, and skip_password_requirement.
func checkCreateBody(t *testing.T, name string, e fixtures.Expect, body map[string]any) {
	t.Helper()
	if body == nil {
		t.Errorf("%s: no create request found", name)
		return
	}
	digest, _ := body["password_digest"].(string)
	hasher, _ := body["password_hasher"].(string)
	if e.Password && (digest == "" || hasher != e.Hasher) {
		t.Errorf("%s: sent password_hasher %q with a digest of %d bytes, want %q with a digest", name, hasher, len(digest), e.Hasher)
	}
	if !e.Password && digest != "" {
		t.Errorf("%s: sent a %s digest, want none", name, hasher)
	}
	skip, _ := body["skip_password_requirement"].(bool)
	if skip != e.SkipPasswordRequirement {
		t.Errorf("%s: sent skip_password_requirement %v, want %v", name, skip, e.SkipPasswordRequirement)
	}
}

// checkAddresses: the same addresses (case-insensitively for email), each verified or reserved
// as the source holds it, the first the primary.
func checkAddresses(bad func(string, ...any), kind string, want []fixtures.Address, got []clerksrc.Identifier, primary *string, value func(clerksrc.Identifier) string) {
	type addr struct {
		V        string
		Verified bool
	}
	norm := func(s string) string {
		if kind == "email" {
			return strings.ToLower(s)
		}
		return s
	}
	var w, g []addr
	for _, a := range want {
		w = append(w, addr{norm(a.Value), a.Verified})
	}
	for _, a := range got {
		verified := !a.Reserved && a.Verification != nil && a.Verification.Status == "verified"
		g = append(g, addr{norm(value(a)), verified})
	}
	less := func(a, b addr) bool { return a.V < b.V }
	if diff := cmp.Diff(w, g, cmpSort(less)); diff != "" {
		bad("%s addresses (-want +got):\n%s", kind, diff)
	}
	if len(want) == 0 {
		return
	}
	for _, a := range got {
		if norm(value(a)) == norm(want[0].Value) {
			if deref(primary) != a.ID {
				bad("primary %s is not %s", kind, want[0].Value)
			}
			return
		}
	}
}

// checkMetadata: unsafe, public and private hold exactly what the source pins there; the
// source's server-side metadata is in public or private (the source does not say which).
func checkMetadata(bad func(string, ...any), e fixtures.Expect, u *apiUser) {
	pub, priv := copyMap(e.PublicMetadata), copyMap(e.PrivateMetadata)
	for k, v := range e.ServerMetadata {
		switch {
		case has(u.PublicMetadata, k):
			pub[k] = v
		case has(u.PrivateMetadata, k):
			priv[k] = v
		default:
			bad("server-side metadata %q is in neither public_metadata %v nor private_metadata %v", k, u.PublicMetadata, u.PrivateMetadata)
		}
	}
	for _, m := range []struct {
		name      string
		want, got map[string]any
	}{{"unsafe_metadata", copyMap(e.UnsafeMetadata), u.UnsafeMetadata}, {"public_metadata", pub, u.PublicMetadata}, {"private_metadata", priv, u.PrivateMetadata}} {
		got := m.got
		if got == nil {
			got = map[string]any{}
		}
		if diff := cmp.Diff(normJSON(m.want), normJSON(got)); diff != "" {
			bad("%s (-want +got):\n%s", m.name, diff)
		}
	}
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func copyMap(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// normJSON round-trips v through JSON, so Go ints and decoded float64s compare equal.
func normJSON(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cmpSort sorts slices before comparing, so order does not matter.
func cmpSort[T any](less func(a, b T) bool) cmp.Option {
	return cmp.Transformer("sort", func(in []T) []T {
		out := append([]T(nil), in...)
		sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
		return out
	})
}
