package readiness_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
)

const sandboxKey = "sk_test_readinessKey42"

func startSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, *clerk.Client) {
	t.Helper()
	opts.Key = sandboxKey
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	c, err := clerk.New(clerk.Config{URL: srv.URL + "/v1", Key: sandboxKey, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return s, c
}

// sampleRow is one mapped row of a real-shaped export, with what the test expects of it,
// decided from the export's own cells rather than from the mapped params.
type sampleRow struct {
	line      int
	p         *mapping.CreateUserParams
	providers []string
	want      readiness.Class
	wantCodes []string
}

// samples maps ../samples/acme-prod.json.gz (Auth0's NDJSON export as Auth0 names it, with a
// Google-only and an SMS-only user) with the auth0 preset and
// ../samples/users.csv with the native mapping, for an instance that requires an email
// address, has usernames off and GitHub as its one social connection.
func samples(t *testing.T) []sampleRow {
	t.Helper()
	var rows []sampleRow
	auth0, err := mapping.Preset("auth0", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := os.Open("../samples/acme-prod.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	for line := 1; sc.Scan(); line++ {
		var src struct {
			Email, Username, Phone string
			PhoneNumber            string `json:"phone_number"`
			Identities             []struct{ Provider string }
		}
		if err := json.Unmarshal(sc.Bytes(), &src); err != nil {
			t.Fatal(err)
		}
		rec, err := mapping.JSONRecord(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		r := sampleRow{line: line, p: apply(t, auth0, rec)}
		for _, id := range src.Identities {
			r.providers = append(r.providers, id.Provider)
		}
		switch {
		case src.Email == "":
			r.want, r.wantCodes = readiness.WillNotImport, []string{"email_address_required"}
		case src.Username != "":
			r.want, r.wantCodes = readiness.WithoutSomething, []string{"username_off"}
		case slices.Contains(r.providers, "google-oauth2"):
			r.want, r.wantCodes = readiness.WithoutSomething, []string{"oauth_google_off"}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 13 {
		t.Fatalf("auth0 sample: %d rows", len(rows))
	}
	f, err := os.Open("../samples/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := all[0]
	email, username := slices.Index(header, "email_address"), slices.Index(header, "username")
	for i, cells := range all[1:] {
		r := sampleRow{line: i + 2, p: apply(t, mapping.Native(), mapping.CSVRecord(header, cells))}
		switch {
		case cells[email] == "":
			r.want, r.wantCodes = readiness.WillNotImport, []string{"email_address_required"}
		case cells[username] != "":
			r.want, r.wantCodes = readiness.WithoutSomething, []string{"username_off"}
		}
		rows = append(rows, r)
	}
	return rows
}

func apply(t *testing.T, m *mapping.Mapping, rec mapping.Record) *mapping.CreateUserParams {
	t.Helper()
	p, err := m.Apply(rec)
	if err == nil {
		err = mapping.Validate(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The whole check against the Clerk-compatible sandbox: settings read through the client,
// real-shaped rows classified, and each verdict then proved by what create does with the row.
func TestReadinessAgainstSandbox(t *testing.T) {
	srv, c := startSandbox(t, sandbox.Options{Required: []string{"email_address"}, Disabled: []string{"username"},
		Social: []string{"github"}})
	ctx := context.Background()
	s, err := readiness.Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if a := s.Attributes; !a["email_address"].Required || a["username"].Enabled || !a["username"].Known ||
		a["phone_number"].Required || !a["phone_number"].Enabled || !slices.Equal(s.Social, []string{"oauth_github"}) {
		t.Fatalf("settings read from the sandbox: %+v", s)
	}

	rows := samples(t) // two files in one tally: each row's line is its own file's
	tally := readiness.NewTally(s, nil, 3)
	var want [3]int
	for _, r := range rows {
		v := readiness.Classify(s, r.p, r.providers...)
		if v.Class != r.want || !slices.Equal(v.Codes(), r.wantCodes) {
			t.Errorf("line %d (%s): %v, want %v %v", r.line, r.p.ExternalIDValue(), v, r.want, r.wantCodes)
		}
		want[r.want]++
		tally.Add(r.line, r.p.ExternalIDValue(), v)
	}
	got := [3]int{tally.Count(readiness.Full), tally.Count(readiness.WithoutSomething), tally.Count(readiness.WillNotImport)}
	if got != want || got[0]+got[1]+got[2] != len(rows) || want[readiness.Full] == 0 || want[readiness.WithoutSomething] == 0 || want[readiness.WillNotImport] == 0 {
		t.Fatalf("totals %v of %d rows, want %v, each class present", got, len(rows), want)
	}
	var b strings.Builder
	if err := tally.Render(&b); err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{"email_address_required: 1 row:", "username_off:", "oauth_google_off: 1 row:",
		"make Email address optional at sign-up", "turn on Usernames", "turn on Google"} {
		if !strings.Contains(b.String(), frag) {
			t.Errorf("report lacks %q:\n%s", frag, b.String())
		}
	}

	t.Logf("report:\n%s", b.String())

	// The verdicts hold: a row with a username is refused as Clerk would until Drop takes it
	// out; every row not refused is created after Drop; the one refused gets Clerk's 422.
	created := 0
	for _, r := range rows {
		v := readiness.Classify(s, r.p, r.providers...)
		if slices.Contains(v.Codes(), "username_off") && created == 0 {
			_, err := c.Create(ctx, r.p)
			if e := clerkErr(t, err); e.Status != 422 || e.Code != "form_param_unknown" || e.Param != "username" {
				t.Errorf("username row sent whole: %v, want 422 form_param_unknown (username)", err)
			}
		}
		if v.Refused(false) {
			_, err := c.Create(ctx, r.p)
			if e := clerkErr(t, err); e.Status != 422 || e.Code != "form_data_missing" || e.Param != "email_address" {
				t.Errorf("line %d: %v, want 422 form_data_missing (email_address)", r.line, err)
			}
			continue
		}
		if dropped := readiness.Drop(s, r.p); !slices.Equal(dropped, v.Fields()) {
			t.Errorf("line %d: dropped %v, verdict named %v", r.line, dropped, v.Fields())
		}
		if _, err := c.Create(ctx, r.p); err != nil {
			t.Errorf("line %d after Drop: %v", r.line, err)
			continue
		}
		created++
	}
	if created != want[readiness.Full]+want[readiness.WithoutSomething] || srv.Stats().Users != int64(created) {
		t.Errorf("created %d (sandbox holds %d), want %d", created, srv.Stats().Users, want[readiness.Full]+want[readiness.WithoutSomething])
	}

	// The Frontend API down: the settings cannot be read, and that is all the report says.
	srv.SetEnvironmentFault(true)
	s2, err := readiness.Load(ctx, c)
	if e := clerkErr(t, err); s2 != nil || e.Status != 500 || e.Op != "environment" || !strings.Contains(err.Error(), "reading the instance's settings from http") {
		t.Fatalf("settings with the environment failing: %+v %v", s2, err)
	}
	down := readiness.NewTally(s2, err, 3)
	for _, r := range samples(t) {
		down.Add(r.line, r.p.ExternalIDValue(), readiness.Classify(down.Settings(), r.p, r.providers...))
	}
	b.Reset()
	if err := down.Render(&b); err != nil {
		t.Fatal(err)
	}
	if down.Rows() != len(rows) || down.Count(readiness.WillNotImport)+down.Count(readiness.WithoutSomething) != 0 ||
		!strings.Contains(b.String(), "could not read the instance's settings (reading the instance's settings from ") ||
		!strings.Contains(b.String(), "environment: 500 internal_clerk_error") || strings.Contains(b.String(), "username_off") {
		t.Errorf("report with the environment down (%d rows):\n%s", down.Rows(), b.String())
	}
}

// A required password: rows without one are imported with skip_password_requirement.
func TestPasswordRequiredAgainstSandbox(t *testing.T) {
	_, c := startSandbox(t, sandbox.Options{Required: []string{"password"}})
	ctx := context.Background()
	s, err := readiness.Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rows := samples(t)[:2] // Ann has no password; Bob gets the bcrypt digest Auth0's hash export holds
	digest, hasher := "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt"
	rows[1].p.PasswordDigest, rows[1].p.PasswordHasher, rows[1].p.SkipPasswordRequirement = &digest, &hasher, nil
	if v := readiness.Classify(s, rows[1].p); v.Class != readiness.Full {
		t.Errorf("row with a digest: %v", v)
	}
	v := readiness.Classify(s, rows[0].p)
	if v.Class != readiness.WithoutSomething || !slices.Equal(v.Codes(), []string{"password_missing"}) {
		t.Fatalf("row without a password: %v", v)
	}
	// The mapping sets skip_password_requirement on a row without a password; without it the
	// instance refuses the row.
	if p := rows[0].p.SkipPasswordRequirement; p == nil || !*p {
		t.Fatalf("row without a password mapped without skip_password_requirement")
	}
	bare := *rows[0].p
	bare.SkipPasswordRequirement = nil
	_, err = c.Create(ctx, &bare)
	if e := clerkErr(t, err); e.Code != "form_data_missing" || e.Param != "password" {
		t.Errorf("sent without skip_password_requirement: %v, want form_data_missing (password)", err)
	}
	if d := readiness.Drop(s, rows[0].p); len(d) != 0 {
		t.Errorf("dropped %v", d)
	}
	for _, r := range rows {
		if _, err := c.Create(ctx, r.p); err != nil {
			t.Errorf("line %d: %v", r.line, err)
		}
	}
}

func clerkErr(t *testing.T, err error) *clerk.Error {
	t.Helper()
	var e *clerk.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want a *clerk.Error", err, err)
	}
	return e
}
