package clerksrc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/importer/source/clerksrc"
	"github.com/userimport/userimport/internal/fixtures"
)

const millis = "2006-01-02T15:04:05.000Z07:00"

var (
	_ clerksrc.Lister  = (*clerk.Client)(nil)
	_ clerksrc.Counter = (*clerk.Client)(nil)
)

// expected is what a fixture user's record must hold, from the fixture's own facts.
func expected(t *testing.T, id string, c fixtures.ClerkUser, sourceIDAsExternal bool) map[string]any {
	t.Helper()
	m := map[string]any{
		"id":                          id,
		"external_id":                 id,
		"banned":                      c.Banned,
		"locked":                      false,
		"created_at":                  c.CreatedAt.UTC().Format(millis),
		"delete_self_enabled":         c.DeleteSelfEnabled,
		"create_organization_enabled": c.CreateOrganizationEnabled,
	}
	if c.ExternalID != "" && !sourceIDAsExternal {
		m["external_id"] = c.ExternalID
	}
	for k, v := range map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "username": c.Username} {
		if v != "" {
			m[k] = v
		}
	}
	lists := func(as []fixtures.Address, primaryKey, plural string) {
		if len(as) == 0 {
			return
		}
		m[primaryKey] = as[0].Value // the fixture lists the primary first
		var v, u []string
		for _, a := range as {
			if a.Verified {
				v = append(v, a.Value)
			} else {
				u = append(u, a.Value)
			}
		}
		if v != nil {
			m["verified_"+plural] = v
		}
		if u != nil {
			m["unverified_"+plural] = u
		}
	}
	lists(c.Emails, "primary_email_address", "email_addresses")
	lists(c.Phones, "primary_phone_number", "phone_numbers")
	for k, md := range map[string]map[string]any{"public_metadata": c.PublicMetadata, "private_metadata": c.PrivateMetadata, "unsafe_metadata": c.UnsafeMetadata} {
		if len(md) > 0 {
			m[k] = md
		}
	}
	if c.CreateOrganizationsLimit != nil {
		m["create_organizations_limit"] = *c.CreateOrganizationsLimit
	}
	if !c.LegalAcceptedAt.IsZero() {
		m["legal_accepted_at"] = c.LegalAcceptedAt.UTC().Format(millis)
	}
	return normalize(t, m)
}

// normalize gives m the types a decoded record has (json.Number, []any).
func normalize(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, source.Record{Raw: b})
}

// The fixtures' tricky users, created on a source instance through its API, each come out once,
// in created_at order, with every field the preset reads and no secret.
func TestFixturesReadOnceInOrderWithEveryField(t *testing.T) {
	for _, force := range []bool{false, true} {
		name := map[bool]string{false: "own external_id kept", true: "source id forced"}[force]
		t.Run(name, func(t *testing.T) {
			in := newInstance(t, sandbox.Options{})
			users := fixtures.ClerkUsers(fixtures.Users())
			byID := map[string]fixtures.ClerkUser{}
			for _, c := range users {
				byID[in.create(fixtureBody(c))] = c
			}
			lister := &countingLister{Lister: in.client}
			r := clerksrc.Open(lister, clerksrc.Options{PageSize: 4, SourceIDAsExternalID: force})
			recs := readAll(t, r)

			if len(recs) != len(users) {
				t.Fatalf("%d records for %d users", len(recs), len(users))
			}
			// Order: by the fixture's created_at, as the source holds it.
			want := slices.SortedFunc(func(yield func(string) bool) {
				for id := range byID {
					if !yield(id) {
						return
					}
				}
			}, func(a, b string) int { return byID[a].CreatedAt.Compare(byID[b].CreatedAt) })
			if got := ids(recs); !slices.Equal(got, want) {
				t.Fatalf("ids in order:\n%v\nwant:\n%v", got, want)
			}
			kept := 0
			for _, rec := range recs {
				id := rec["id"].(string)
				c := byID[id]
				if diff := cmp.Diff(expected(t, id, c, force), rec); diff != "" {
					t.Errorf("user %s (%s): record (-want +got):\n%s", id, c.Username+c.FirstName, diff)
				}
				if c.ExternalID != "" && rec["external_id"] == c.ExternalID {
					kept++
				}
				for _, k := range []string{"password", "password_digest", "password_hasher", "totp_secret", "backup_codes"} {
					if _, ok := rec[k]; ok {
						t.Errorf("user %s: record carries %s; the Backend API has none to give", id, k)
					}
				}
			}
			if wantKept := map[bool]int{false: 1, true: 0}[force]; kept != wantKept {
				t.Errorf("%d records kept their source external_id; want %d", kept, wantKept)
			}
			// 15-odd users at 4 a page: full pages, then a short one ends the stream.
			n := len(users)
			wantPages := n/4 + 1
			if len(lister.calls) != wantPages || lister.calls[0] != "" || lister.sizes[len(lister.sizes)-1] != n%4 {
				t.Errorf("pages %v of sizes %v; want %d, the last short", lister.calls, lister.sizes, wantPages)
			}
			for i := 1; i < len(lister.calls); i++ {
				if want := want[4*i-1]; lister.calls[i] != want {
					t.Errorf("page %d asked after %s; want after the previous page's last user %s", i+1, lister.calls[i], want)
				}
			}
		})
	}
}

// Fields the fixtures do not exercise: web3 wallets, locale, locked, a legal acceptance and
// an organization limit, all through the sandbox's User object.
func TestWalletsLocaleLockedLegal(t *testing.T) {
	in := newInstance(t, sandbox.Options{})
	id := in.create(map[string]any{
		"email_address":               []string{"max@example.com"},
		"web3_wallet":                 []string{"0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"},
		"locale":                      "fr-FR",
		"locked":                      true,
		"legal_accepted_at":           "2025-03-04T05:06:07.089Z",
		"create_organizations_limit":  7,
		"delete_self_enabled":         false,
		"create_organization_enabled": false,
		"skip_password_requirement":   true,
	})
	recs := readAll(t, clerksrc.Open(in.client, clerksrc.Options{}))
	if len(recs) != 1 {
		t.Fatalf("%d records; want 1", len(recs))
	}
	got := recs[0]
	for k, v := range map[string]any{
		"id": id, "external_id": id, "locale": "fr-FR", "locked": true, "banned": false,
		"legal_accepted_at": "2025-03-04T05:06:07.089Z", "create_organizations_limit": json.Number("7"),
		"delete_self_enabled": false, "create_organization_enabled": false,
		"web3_wallets": []any{"0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"},
	} {
		if !cmp.Equal(got[k], v) {
			t.Errorf("%s = %#v; want %#v", k, got[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, got["created_at"].(string)); err != nil {
		t.Errorf("created_at %v is not RFC 3339: %v", got["created_at"], err)
	}
}

// Users created on the source while the reader pages are read once: those after the cursor
// come in later pages, none twice, none lost, and the order holds.
func TestUsersCreatedMidRead(t *testing.T) {
	in := newInstance(t, sandbox.Options{})
	before := in.createN("before", 10)
	r := clerksrc.Open(in.client, clerksrc.Options{PageSize: 3})
	var got []string
	next := func() bool {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, decode(t, rec)["id"].(string))
		return true
	}
	for range 4 { // the second page (users 4 to 6) is in hand, the cursor at user 6
		next()
	}
	during := in.createN("during", 5)
	for range 4 { // users 7 to 10: the third and fourth pages see the new users after them
		next()
	}
	late := in.createN("late", 2)
	for next() {
	}
	want := slices.Concat(before, during, late)
	if !slices.Equal(got, want) {
		t.Fatalf("read %d ids:\n%v\nwant %d in creation order:\n%v", len(got), got, len(want), want)
	}
}

// At exactly a multiple of the page size, the stream ends on the empty page after the last full
// one; the default page is Clerk's 500, and every page goes through the caller's hook.
func TestDefaultPageSizeAndHook(t *testing.T) {
	in := newInstance(t, sandbox.Options{})
	all := in.createN("u", 1000)
	lister := &countingLister{Lister: in.client}
	var hooked atomic.Int32
	opts := clerksrc.Options{Call: func(ctx context.Context, op func(context.Context) error) error {
		hooked.Add(1)
		return op(ctx)
	}}
	recs := readAll(t, clerksrc.Open(lister, opts))
	if !slices.Equal(ids(recs), all) {
		t.Fatalf("read %d users, want the 1000 in order", len(recs))
	}
	if !slices.Equal(lister.limit, []int{500, 500, 500}) || !slices.Equal(lister.sizes, []int{500, 500, 0}) {
		t.Fatalf("limits %v sizes %v; want three pages of 500, the last empty", lister.limit, lister.sizes)
	}
	if lister.calls[1] != all[499] || lister.calls[2] != all[999] {
		t.Fatalf("cursors %v; want the last id of each page", lister.calls)
	}
	if hooked.Load() != 3 {
		t.Fatalf("the hook ran %d times for 3 pages", hooked.Load())
	}

	n, err := clerksrc.Count(context.Background(), in.client, opts)
	if err != nil || n != 1000 {
		t.Fatalf("Count = %d, %v; want 1000", n, err)
	}
	if hooked.Load() != 4 {
		t.Fatalf("Count did not go through the hook")
	}
}

// The paced path may run a page's request more than once (a retry after a 503): the reader
// keeps only the answer that succeeded and reads every user once.
func TestRetriedPagesReadOnce(t *testing.T) {
	in := newInstance(t, sandbox.Options{Fail503: 0.4, Seed: 7})
	all := in.createN("r", 23)
	var tries, failures int
	retry := func(ctx context.Context, op func(context.Context) error) error {
		for {
			tries++
			err := op(ctx)
			var e *clerk.Error
			if err == nil || !errors.As(err, &e) || !e.Retryable() {
				return err
			}
			failures++
		}
	}
	recs := readAll(t, clerksrc.Open(in.client, clerksrc.Options{PageSize: 5, Call: retry}))
	if !slices.Equal(ids(recs), all) {
		t.Fatalf("read %v\nwant %v", ids(recs), all)
	}
	if failures == 0 {
		t.Fatalf("no page failed in %d tries: the test proves nothing", tries)
	}
}

func TestShortPageStops(t *testing.T) {
	f := &fakeLister{t: t, pages: map[string][]string{
		"":       {user("user_a", 1), user("user_b", 2), user("user_c", 2)},
		"user_c": {user("user_d", 3), user("user_e", 4)},
	}}
	recs := readAll(t, clerksrc.Open(f, clerksrc.Options{PageSize: 3}))
	if got := ids(recs); !slices.Equal(got, []string{"user_a", "user_b", "user_c", "user_d", "user_e"}) {
		t.Fatalf("ids %v", got)
	}
	if !slices.Equal(f.asked, []string{"", "user_c"}) {
		t.Fatalf("pages asked %q; want two, the second after user_c, none after the short one", f.asked)
	}
	// Reading past the end asks for nothing more.
	r := clerksrc.Open(f, clerksrc.Options{PageSize: 3})
	readAll(t, r)
	if _, err := r.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v; want io.EOF", err)
	}
}

func user(id string, created int64, extra ...string) string {
	return `{"id":"` + id + `","object":"user","created_at":` + strings.TrimSpace(string(mustJSON(created))) + strings.Join(extra, "") + `}`
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// The User object as Clerk sends it: the primary need not be first in its array, and an
// address is verified only when not reserved and its verification says "verified".
func TestVerifiedAndReservedLists(t *testing.T) {
	u := `{"id":"user_2x","object":"user","created_at":1700000000123,"external_id":"",
	"primary_email_address_id":"idn_p","primary_phone_number_id":"idn_ph2","primary_web3_wallet_id":"idn_w2",
	"email_addresses":[
	 {"id":"idn_v","email_address":"second@example.com","reserved":false,"verification":{"status":"verified","strategy":"email_code"}},
	 {"id":"idn_r","email_address":"held@example.com","reserved":true,"verification":null},
	 {"id":"idn_p","email_address":"primary@example.com","reserved":false,"verification":{"status":"verified","strategy":"admin"}},
	 {"id":"idn_u","email_address":"pending@example.com","reserved":false,"verification":{"status":"unverified","strategy":"email_code"}},
	 {"id":"idn_x","email_address":"expired@example.com","reserved":false,"verification":{"status":"expired","strategy":"email_link"}},
	 {"id":"idn_n","email_address":"noverif@example.com","reserved":false,"verification":null}],
	"phone_numbers":[
	 {"id":"idn_ph1","phone_number":"+14155550100","reserved":false,"verification":{"status":"verified"}},
	 {"id":"idn_ph2","phone_number":"+14155550101","reserved":true,"verification":null}],
	"web3_wallets":[
	 {"id":"idn_w1","web3_wallet":"0x1111111111111111111111111111111111111111","verification":{"status":"unverified"}},
	 {"id":"idn_w2","web3_wallet":"0x2222222222222222222222222222222222222222","verification":{"status":"verified"}},
	 {"id":"idn_w3","web3_wallet":"0x3333333333333333333333333333333333333333","verification":{"status":"verified"}}],
	"public_metadata":{},"private_metadata":null,"unsafe_metadata":{ "a" : [1, {"b":"c\"d"}] },
	"banned":false,"locked":false,"delete_self_enabled":true,"create_organization_enabled":true,"create_organizations_limit":null,
	"password_enabled":true,"totp_enabled":true,"backup_code_enabled":true,"legal_accepted_at":null}`
	f := &fakeLister{t: t, pages: map[string][]string{"": {u}}}
	recs := readAll(t, clerksrc.Open(f, clerksrc.Options{}))
	want := normalize(t, map[string]any{
		"id": "user_2x", "external_id": "user_2x", // an empty external_id is none
		"primary_email_address":      "primary@example.com",
		"verified_email_addresses":   []string{"primary@example.com", "second@example.com"},
		"unverified_email_addresses": []string{"held@example.com", "pending@example.com", "expired@example.com", "noverif@example.com"},
		"primary_phone_number":       "+14155550101",
		"verified_phone_numbers":     []string{"+14155550100"},
		"unverified_phone_numbers":   []string{"+14155550101"}, // a reserved primary stays reserved, first in its list
		"web3_wallets":               []string{"0x2222222222222222222222222222222222222222", "0x3333333333333333333333333333333333333333"},
		"unverified_web3_wallets":    []string{"0x1111111111111111111111111111111111111111"},
		"unsafe_metadata":            map[string]any{"a": []any{1, map[string]any{"b": `c"d`}}},
		"banned":                     false, "locked": false, "delete_self_enabled": true, "create_organization_enabled": true,
		"created_at": "2023-11-14T22:13:20.123Z",
	})
	if diff := cmp.Diff(want, recs[0]); diff != "" {
		t.Fatalf("record (-want +got):\n%s", diff)
	}
	if !bytes.Contains(mustRaw(t, f), []byte(`"unsafe_metadata":{"a":[1,{"b":"c\"d"}]}`)) {
		t.Errorf("metadata not kept as sent (compacted)")
	}
}

func mustRaw(t *testing.T, l clerksrc.Lister) []byte {
	t.Helper()
	rec, err := clerksrc.Open(l, clerksrc.Options{}).Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rec.Raw
}

// A server that ignores the cursor or the order would make the reader loop or read users twice:
// it is refused, naming the user.
func TestCursorOrOrderNotHonouredIsRefused(t *testing.T) {
	for name, pages := range map[string]map[string][]string{
		"cursor ignored":     {"": {user("user_a", 1), user("user_b", 2)}, "user_b": {user("user_a", 1), user("user_b", 2)}},
		"same user twice":    {"": {user("user_a", 1), user("user_a", 1)}},
		"out of order":       {"": {user("user_a", 5), user("user_b", 2)}},
		"order across pages": {"": {user("user_a", 5), user("user_b", 6)}, "user_b": {user("user_c", 4)}},
		"too many":           {"": {user("user_a", 1), user("user_b", 2), user("user_c", 3)}},
		"no id":              {"": {`{"object":"user","created_at":1}`}},
		"not an object":      {"": {`"user_a"`}},
	} {
		t.Run(name, func(t *testing.T) {
			r := clerksrc.Open(&fakeLister{t: t, pages: pages}, clerksrc.Options{PageSize: 2})
			var err error
			for range 10 {
				if _, err = r.Next(context.Background()); err != nil {
					break
				}
			}
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("err = %v; want the stream refused", err)
			}
			if !strings.HasPrefix(err.Error(), "clerk source: listing users") {
				t.Errorf("error %q does not say where it failed", err)
			}
		})
	}
}

// A page that failed leaves the cursor where it was: calling Next again asks for the same page.
func TestFailedPageIsAskedAgain(t *testing.T) {
	fail := errors.New("boom")
	calls := 0
	l := listerFunc(func(ctx context.Context, after string, limit int) ([]json.RawMessage, error) {
		calls++
		switch {
		case after == "":
			return []json.RawMessage{json.RawMessage(user("user_a", 1)), json.RawMessage(user("user_b", 2))}, nil
		case after == "user_b" && calls == 2:
			return nil, fail
		case after == "user_b":
			return []json.RawMessage{json.RawMessage(user("user_c", 3))}, nil
		}
		t.Fatalf("asked after %q", after)
		return nil, nil
	})
	r := clerksrc.Open(l, clerksrc.Options{PageSize: 2})
	var got []string
	var errs int
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if !errors.Is(err, fail) || !strings.Contains(err.Error(), "after user_b") {
				t.Fatalf("err = %v; want the lister's error, naming the cursor", err)
			}
			errs++
			continue
		}
		got = append(got, decode(t, rec)["id"].(string))
	}
	if errs != 1 || !slices.Equal(got, []string{"user_a", "user_b", "user_c"}) {
		t.Fatalf("got %v with %d errors; want a, b, c and one error", got, errs)
	}
}

type listerFunc func(ctx context.Context, after string, limit int) ([]json.RawMessage, error)

func (f listerFunc) ListUsers(ctx context.Context, after string, limit int) ([]json.RawMessage, error) {
	return f(ctx, after, limit)
}

// An endless page from a hostile server is refused at the client's cap, fatally (the paced
// path must not retry it), and the reader's error says so.
func TestOversizePageRefused(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"id":"user_a","created_at":1,"unsafe_metadata":{"pad":"`)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	c, err := clerk.New(clerk.Config{URL: hs.URL + "/v1", Key: sourceKey, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = clerksrc.Open(c, clerksrc.Options{}).Next(context.Background())
	var e *clerk.Error
	if !errors.Is(err, clerk.ErrResponseTooLarge) || !errors.As(err, &e) || !e.Fatal() {
		t.Fatalf("err = %v; want a fatal clerk.ErrResponseTooLarge", err)
	}
}

// Cancelling the context ends a page wait: one held in the paced path, and one the server
// never answers.
func TestCancelEndsPageWait(t *testing.T) {
	t.Run("in the paced path", func(t *testing.T) {
		held := func(ctx context.Context, op func(context.Context) error) error {
			<-ctx.Done() // a rate limiter that never gives a token
			return ctx.Err()
		}
		r := clerksrc.Open(listerFunc(func(context.Context, string, int) ([]json.RawMessage, error) {
			t.Error("request made past a held pacer")
			return nil, nil
		}), clerksrc.Options{Call: held})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want the context's", err)
		}
	})
	t.Run("at the server", func(t *testing.T) {
		release := make(chan struct{})
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer hs.Close()
		defer close(release)
		c, err := clerk.New(clerk.Config{URL: hs.URL + "/v1", Key: sourceKey, RequestTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		if _, err := clerksrc.Open(c, clerksrc.Options{}).Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Next returned %s after the cancel", d)
		}
	})
}

func TestCheckKeys(t *testing.T) {
	const target = "sk_live_targetKeyABCDEFGHIJKLMNOP"
	if err := clerksrc.CheckKeys(sourceKey, target); err != nil {
		t.Fatalf("different keys refused: %v", err)
	}
	for name, src := range map[string]string{"same": target, "same with spaces": " " + target + "\n"} {
		err := clerksrc.CheckKeys(src, target)
		if err == nil {
			t.Fatalf("%s: the target's own key accepted as the source", name)
		}
		if strings.Contains(err.Error(), "targetKey") || strings.Contains(err.Error(), "sk_live_") {
			t.Fatalf("%s: error shows the key: %v", name, err)
		}
		if !strings.Contains(err.Error(), clerk.Fingerprint(target)) {
			t.Errorf("%s: error %q does not name the key by fingerprint", name, err)
		}
	}
	if err := clerksrc.CheckKeys("  ", target); err == nil || !strings.Contains(err.Error(), "CLERK_SOURCE_SECRET_KEY") {
		t.Fatalf("empty source key: %v; want a refusal naming where the key comes from", err)
	}
}

func TestReaderContract(t *testing.T) {
	r := clerksrc.Open(&fakeLister{t: t, pages: map[string][]string{"": {user("user_a", 1)}}}, clerksrc.Options{})
	var _ source.Reader = r
	if r.Header() != nil {
		t.Fatal("Header() not nil for JSON records")
	}
	if !strings.Contains(r.Notice(), "no password digests") {
		t.Fatalf("Notice %q", r.Notice())
	}
	rec, err := r.Next(context.Background())
	if err != nil || rec.Num != 1 || rec.Line != 1 {
		t.Fatalf("first record %+v, %v; want Num and Line 1", rec, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after Close: %v; want io.EOF", err)
	}
}

func TestIdentity(t *testing.T) {
	a := clerksrc.Identity("", sourceKey, clerksrc.Options{})
	if a != clerksrc.Identity(clerk.DefaultURL+"/", " "+sourceKey, clerksrc.Options{}) {
		t.Errorf("the default URL and a trailing slash or space give another identity")
	}
	if strings.Contains(a, sourceKey) || !strings.Contains(a, clerk.Fingerprint(sourceKey)) || !strings.Contains(a, clerk.DefaultURL) {
		t.Errorf("identity %q: want the URL and the key's fingerprint, never the key", a)
	}
	for name, other := range map[string]string{
		"another instance's key": clerksrc.Identity("", "sk_test_another", clerksrc.Options{}),
		"another URL":            clerksrc.Identity("http://127.0.0.1:1/v1", sourceKey, clerksrc.Options{}),
		"forced external_id":     clerksrc.Identity("", sourceKey, clerksrc.Options{SourceIDAsExternalID: true}),
	} {
		if other == a {
			t.Errorf("%s gives the same identity %q", name, a)
		}
	}
}

// A user the record cannot carry fails alone, named by id; the stream goes on past it.
func TestBadUserFailsAlone(t *testing.T) {
	big := user("user_big", 2, `,"public_metadata":{"pad":"`+strings.Repeat("p", 300)+`"}`)
	f := &fakeLister{t: t, pages: map[string][]string{"": {
		user("user_a", 1), big, user("user_m", 3, `,"private_metadata":["not","an","object"]`), user("user_z", 4),
	}}}
	r := clerksrc.Open(f, clerksrc.Options{PageSize: 10, MaxRecordSize: 200})
	var good []string
	bad := map[string]string{}
	for {
		rec, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var re *source.RecordError
		if errors.As(rec.Err, &re) {
			if rec.Raw != nil {
				t.Errorf("record %d has an error and bytes", rec.Num)
			}
			bad[strings.Fields(re.Msg)[1]] = re.Msg
			continue
		}
		good = append(good, decode(t, rec)["id"].(string))
	}
	if !slices.Equal(good, []string{"user_a", "user_z"}) || len(bad) != 2 ||
		!strings.Contains(bad["user_big:"], "larger than 200 bytes") || !strings.Contains(bad["user_m:"], "metadata is not a JSON object") {
		t.Fatalf("good %v, bad %v", good, bad)
	}
}

// A refused key is named as the source's: the run holds two keys.
func TestRefusedKeyIsNamedAsTheSources(t *testing.T) {
	in := newInstance(t, sandbox.Options{})
	wrong, err := clerk.New(clerk.Config{URL: in.url, Key: "sk_test_notTheSourceKey"})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.CloseIdleConnections()
	_, err = clerksrc.Open(wrong, clerksrc.Options{}).Next(context.Background())
	var e *clerk.Error
	if !errors.As(err, &e) || !e.Fatal() || !strings.Contains(err.Error(), "CLERK_SOURCE_SECRET_KEY") {
		t.Fatalf("err = %v; want a fatal refusal naming the source key's setting", err)
	}
	if strings.Contains(err.Error(), "notTheSourceKey") {
		t.Fatalf("error shows the key: %v", err)
	}
	if _, err := clerksrc.Count(context.Background(), wrong, clerksrc.Options{}); err == nil || !strings.Contains(err.Error(), "CLERK_SOURCE_SECRET_KEY") {
		t.Fatalf("Count: %v; want the same hint", err)
	}
}
