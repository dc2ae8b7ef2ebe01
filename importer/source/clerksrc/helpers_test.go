package clerksrc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/importer/source/clerksrc"
	"github.com/userimport/userimport/internal/fixtures"
)

const sourceKey = "sk_test_sourceInstanceKey0123456789"

// instance is a sandbox standing in for the source Clerk instance.
type instance struct {
	t      *testing.T
	srv    *sandbox.Server
	url    string // base incl. /v1
	client *clerk.Client
}

func newInstance(t *testing.T, opts sandbox.Options) *instance {
	t.Helper()
	opts.Key = sourceKey
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	c, err := clerk.New(clerk.Config{URL: hs.URL + "/v1", Key: sourceKey, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return &instance{t: t, srv: s, url: hs.URL + "/v1", client: c}
}

// create makes a user through the instance's API, as a person or an app would, and returns its id.
func (in *instance) create(body map[string]any) string {
	in.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		in.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, in.url+"/users", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+sourceKey)
	req.Header.Set("Content-Type", "application/json")
	var out []byte
	var resp *http.Response
	for {
		req.Body = io.NopCloser(bytes.NewReader(b))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			in.t.Fatal(err)
		}
		out, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable { // a 503 did nothing: send it again
			break
		}
	}
	if resp.StatusCode != http.StatusOK {
		in.t.Fatalf("create %s: %d %s", b, resp.StatusCode, out)
	}
	var u struct{ ID string }
	if err := json.Unmarshal(out, &u); err != nil || u.ID == "" {
		in.t.Fatalf("create: no id in %s", out)
	}
	return u.ID
}

// createN makes n plain users named after prefix and returns their ids in creation order.
func (in *instance) createN(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = in.create(map[string]any{
			"email_address":             []string{prefix + "." + strconv.Itoa(i) + "@example.com"},
			"skip_password_requirement": true,
		})
	}
	return ids
}

// fixtureBody is a fixture user as its create request: every status, metadata and setting the
// source instance holds, a digest and TOTP secret where the fixture has them.
func fixtureBody(c fixtures.ClerkUser) map[string]any {
	b := map[string]any{
		"created_at":                  c.CreatedAt.Format(time.RFC3339Nano),
		"create_organization_enabled": c.CreateOrganizationEnabled,
		"delete_self_enabled":         c.DeleteSelfEnabled,
	}
	set := func(k, v string) {
		if v != "" {
			b[k] = v
		}
	}
	set("external_id", c.ExternalID)
	set("first_name", c.FirstName)
	set("last_name", c.LastName)
	set("username", c.Username)
	list := func(as []fixtures.Address) (vals, statuses []string) {
		for _, a := range as {
			vals = append(vals, a.Value)
			statuses = append(statuses, map[bool]string{true: "verified", false: "reserved"}[a.Verified])
		}
		return
	}
	if len(c.Emails) > 0 {
		b["email_address"], b["email_address_identification_status"] = list(c.Emails)
	}
	if len(c.Phones) > 0 {
		b["phone_number"], b["phone_number_identification_status"] = list(c.Phones)
	}
	for k, m := range map[string]map[string]any{"public_metadata": c.PublicMetadata, "private_metadata": c.PrivateMetadata, "unsafe_metadata": c.UnsafeMetadata} {
		if len(m) > 0 {
			b[k] = m
		}
	}
	if c.Banned {
		b["banned"] = true
	}
	if c.CreateOrganizationsLimit != nil {
		b["create_organizations_limit"] = *c.CreateOrganizationsLimit
	}
	if !c.LegalAcceptedAt.IsZero() {
		b["legal_accepted_at"] = c.LegalAcceptedAt.Format(time.RFC3339Nano)
	}
	if c.PasswordDigest != "" {
		b["password_digest"], b["password_hasher"] = c.PasswordDigest, c.PasswordHasher
	} else {
		b["skip_password_requirement"] = true
	}
	set("totp_secret", c.TOTPSecret)
	return b
}

// readAll drains r, failing on any stream or record error.
func readAll(t *testing.T, r source.Reader) []map[string]any {
	t.Helper()
	var out []map[string]any
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(out), err)
		}
		out = append(out, decode(t, rec))
	}
}

func decode(t *testing.T, rec source.Record) map[string]any {
	t.Helper()
	if rec.Err != nil {
		t.Fatalf("record %d: %v", rec.Num, rec.Err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("record %d is not a JSON object: %v: %s", rec.Num, err, rec.Raw)
	}
	return m
}

func ids(recs []map[string]any) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i], _ = r["id"].(string)
	}
	return out
}

// countingLister records every page asked for.
type countingLister struct {
	clerksrc.Lister
	mu    sync.Mutex
	calls []string // the cursor of each page asked for
	limit []int
	sizes []int // users in each page
}

func (c *countingLister) ListUsers(ctx context.Context, after string, limit int) ([]json.RawMessage, error) {
	page, err := c.Lister.ListUsers(ctx, after, limit)
	c.mu.Lock()
	c.calls = append(c.calls, after)
	c.limit = append(c.limit, limit)
	c.sizes = append(c.sizes, len(page))
	c.mu.Unlock()
	return page, err
}

// fakeLister serves fixed pages keyed by cursor, as a server that answers exactly these would.
type fakeLister struct {
	t     *testing.T
	pages map[string][]string // cursor -> users' JSON
	asked []string
}

func (f *fakeLister) ListUsers(_ context.Context, after string, limit int) ([]json.RawMessage, error) {
	f.asked = append(f.asked, after)
	p, ok := f.pages[after]
	if !ok {
		f.t.Errorf("page after %q asked for; the reader should have stopped", after)
	}
	var out []json.RawMessage
	for _, u := range p {
		out = append(out, json.RawMessage(u))
	}
	return out, nil
}
