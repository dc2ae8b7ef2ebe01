package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
	"github.com/userimport/userimport/runfolder"
)

// An environment as the Frontend API serves it: email required, usernames off.
const fitEnvironment = `{"display_config":{"instance_environment_type":"production"},"user_settings":{"attributes":{
"email_address":{"enabled":true,"required":true},"phone_number":{"enabled":true,"required":false},
"username":{"enabled":false,"required":false},"password":{"enabled":true,"required":false}},"social":{}}}`

// fitCSV: a loses its username, b is whole, c has no email (refused), d has a's username,
// which only the dropped field would make a duplicate.
const fitCSV = "external_id,email_address,username\n" +
	"a,a@example.com,ann\n" +
	"b,b@example.com,\n" +
	"c,,cy\n" +
	"d,d@example.com,ann\n"

// sentTarget keeps the create bodies sent.
type sentTarget struct {
	*fakeTarget
	mu   sync.Mutex
	sent map[string]mapping.CreateUserParams
}

func (s *sentTarget) Create(ctx context.Context, p *mapping.CreateUserParams) (string, error) {
	s.mu.Lock()
	s.sent[p.ExternalIDValue()] = *p
	s.mu.Unlock()
	return s.fakeTarget.Create(ctx, p)
}

func fitSettings(t *testing.T) *readiness.Settings {
	t.Helper()
	s, err := readiness.Parse([]byte(fitEnvironment))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFitDropsRefusesAndJournals(t *testing.T) {
	tgt := &sentTarget{fakeTarget: newFake(), sent: map[string]mapping.CreateUserParams{}}
	dir := t.TempDir()
	s := fitSettings(t)
	tally := readiness.NewTally(s, nil, 5)
	sum := runOnce(t, dir, fitCSV, tgt, func(c *Config) { c.Fit = &Fit{Settings: s, Tally: tally} })
	if sum.Counts[runfolder.StatusCreated] != 3 || sum.Counts[runfolder.StatusFailed] != 1 || sum.Counts[runfolder.StatusDuplicate] != 0 {
		t.Fatalf("counts %v, want 3 created (d is no duplicate once usernames are dropped), 1 failed", sum.Counts)
	}
	if _, sent := tgt.sent["c"]; sent || tgt.creates["c"] != 0 {
		t.Errorf("the row missing the required email was sent")
	}
	for _, id := range []string{"a", "d"} {
		if p, ok := tgt.sent[id]; !ok || p.Username != nil {
			t.Errorf("row %s sent %v with username %v, want sent without it", id, ok, p.Username)
		}
	}
	if tally.Rows() != 4 || tally.Count(readiness.Full) != 1 || tally.Count(readiness.WithoutSomething) != 2 || tally.Count(readiness.WillNotImport) != 1 {
		t.Errorf("tally: %+v", tally.Summary())
	}
	byID := journalByID(t, dir)
	if e := byID["a"]; e.Status != runfolder.StatusCreated || strings.Join(e.Dropped, ",") != "username" || strings.Join(e.Readiness, ",") != "username_off" {
		t.Errorf("a journaled %+v", e)
	}
	if e := byID["b"]; e.Dropped != nil || e.Readiness != nil {
		t.Errorf("b, imported whole, journaled %+v", e)
	}
	if e := byID["c"]; e.Status != runfolder.StatusFailed || e.Error == nil || e.Error.Code != "email_address_required" ||
		!strings.Contains(e.Error.Message, "make Email address optional at sign-up") {
		t.Errorf("c journaled %+v", e)
	}
	b, err := os.ReadFile(filepath.Join(dir, "failed.csv"))
	if err != nil || string(b) != "external_id,email_address,username\nc,,cy\n" {
		t.Errorf("failed.csv %q %v", b, err)
	}
}

func TestFitStrictRefusesRowsThatWouldLoseAField(t *testing.T) {
	tgt := &sentTarget{fakeTarget: newFake(), sent: map[string]mapping.CreateUserParams{}}
	dir := t.TempDir()
	sum := runOnce(t, dir, fitCSV, tgt, func(c *Config) { c.Fit = &Fit{Settings: fitSettings(t), Strict: true} })
	if sum.Counts[runfolder.StatusCreated] != 1 || sum.Counts[runfolder.StatusFailed] != 3 || len(tgt.sent) != 1 {
		t.Fatalf("counts %v, sent %d: want only b sent", sum.Counts, len(tgt.sent))
	}
	if e := journalByID(t, dir)["a"]; e.Error == nil || e.Error.Code != "username_off" || !strings.Contains(e.Error.Message, "--strict-fields") {
		t.Errorf("a journaled %+v", e)
	}
}

// Settings not read: nothing is flagged, dropped or refused; the instance answers for itself.
func TestFitWithoutSettingsChangesNothing(t *testing.T) {
	tgt := &sentTarget{fakeTarget: newFake(), sent: map[string]mapping.CreateUserParams{}}
	tally := readiness.NewTally(nil, os.ErrDeadlineExceeded, 5)
	sum := runOnce(t, t.TempDir(), fitCSV, tgt, func(c *Config) { c.Fit = &Fit{Tally: tally, Strict: true} })
	if sum.Counts[runfolder.StatusCreated] != 3 || sum.Counts[runfolder.StatusDuplicate] != 1 || tally.Rows() != 4 || tally.Count(readiness.WillNotImport) != 0 {
		t.Fatalf("counts %v, tally %+v", sum.Counts, tally.Summary())
	}
	if p := tgt.sent["a"]; p.Username == nil {
		t.Errorf("username dropped without settings")
	}
}

// Validate classifies as import would: refused rows are counted failed, with their reason.
func TestValidateWithFit(t *testing.T) {
	src, err := source.Open(strings.NewReader(fitCSV), source.Options{Format: source.CSV})
	if err != nil {
		t.Fatal(err)
	}
	s := fitSettings(t)
	tally := readiness.NewTally(s, nil, 5)
	sum, err := Validate(context.Background(), ValidateConfig{Source: src, Format: source.CSV, Mapping: mapping.Native(),
		Fit: &Fit{Settings: s, Tally: tally}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts["valid"] != 3 || sum.Counts[runfolder.StatusFailed] != 1 || sum.RunStatus != runfolder.RunWithFailures ||
		len(sum.Problems) != 1 || sum.Problems[0].Line != 4 || sum.Problems[0].Error.Code != "email_address_required" {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Fields["username"] != 0 {
		t.Errorf("fields in valid rows count %d usernames, which are dropped", sum.Fields["username"])
	}
	if tally.Rows() != 4 || tally.Count(readiness.WillNotImport) != 1 {
		t.Errorf("tally %+v", tally.Summary())
	}
}

func journalByID(t *testing.T, dir string) map[string]runfolder.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, runfolder.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]runfolder.Event{}
	if _, err := runfolder.ReadJournal(f, func(runfolder.Header) {}, func(e runfolder.Event) {
		if e.ExternalID != "" && e.Status != runfolder.StatusPending {
			out[e.ExternalID] = e
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The providers come from the export itself: an Auth0 user who signs in with Google, into an
// instance without Google, is imported without it, and the journal says so.
func TestFitReadsProvidersFromTheExport(t *testing.T) {
	const auth0 = `{"user_id":"google-oauth2|1034","email":"cy@gmail.example.com","email_verified":true,"identities":[{"provider":"google-oauth2","user_id":"1034","connection":"google-oauth2","isSocial":true}]}` + "\n" +
		`{"user_id":"auth0|5f7c","email":"ann@auth0.example.com","identities":[{"provider":"auth0","user_id":"5f7c","connection":"Username-Password-Authentication","isSocial":false}]}` + "\n"
	src, err := source.Open(strings.NewReader(auth0), source.Options{Format: source.JSONL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Preset("auth0", mapping.PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tgt := &sentTarget{fakeTarget: newFake(), sent: map[string]mapping.CreateUserParams{}}
	sum, err := Run(context.Background(), Config{OutDir: dir, Header: runfolder.Header{InputSHA256: "x", APIURL: "fake", KeyFingerprint: "k"},
		Source: src, Format: source.JSONL, Mapping: m, Target: tgt, Concurrency: 1, Fit: &Fit{Settings: fitSettings(t)}})
	if err != nil || sum.Counts[runfolder.StatusCreated] != 2 {
		t.Fatalf("run: %v %v", err, sum.Counts)
	}
	var google, ann runfolder.Event
	for _, e := range journalByID(t, dir) {
		switch e.Line {
		case 1:
			google = e
		case 2:
			ann = e
		}
	}
	if strings.Join(google.Readiness, ",") != "oauth_google_off" || google.Dropped != nil {
		t.Errorf("the Google user journaled %+v", google)
	}
	if ann.Readiness != nil {
		t.Errorf("a password user journaled %+v", ann)
	}
}
