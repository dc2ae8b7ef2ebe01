package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

func (e *env) mustCreate(body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/users", body)
	if r.status != 200 {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var u struct{ ID string }
	r.decode(e.t, &u)
	return u.ID
}

func ids(t *testing.T, r resp) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var us []struct{ ID string }
	r.decode(t, &us)
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func TestListFiltersAndPaging(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	var id []string // id[i] created at day i+1, so newest last
	for i := range 5 {
		id = append(id, e.mustCreate(map[string]any{
			"external_id": fmt.Sprintf("x%d", i), "email_address": []string{fmt.Sprintf("u%d@example.com", i)},
			"phone_number": []string{fmt.Sprintf("+1555000000%d", i)}, "username": fmt.Sprintf("user%d", i),
			"created_at": fmt.Sprintf("2021-01-0%dT00:00:00Z", i+1),
		}))
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{id[4], id[3], id[2], id[1], id[0]}},
		{"?order_by=created_at", []string{id[0], id[1], id[2], id[3], id[4]}},
		{"?limit=2&offset=1", []string{id[3], id[2]}},
		{"?offset=9", []string{}},
		{"?external_id=%2Bx1&external_id=x3&external_id=%2Bnope", []string{id[3], id[1]}},
		{"?external_id=-x1&external_id=-x4", []string{id[3], id[2], id[0]}},
		{"?external_id=%2Bx1&external_id=%2Bx2&external_id=-x2", []string{id[1]}},
		{"?user_id=" + id[2] + "&user_id=-" + id[2], []string{}},
		{"?user_id=%2B" + id[0], []string{id[0]}},
		{"?email_address=U2@Example.com", []string{id[2]}},
		{"?phone_number=%2B15550000004", []string{id[4]}},
		{"?username=USER0&username=user1", []string{id[1], id[0]}},
		{"?username=user0&external_id=x1", []string{}}, // fields AND together
		{"?created_at_after=1609545600000&created_at_before=1609804800000", []string{id[3], id[2]}},
		{"?banned=true", []string{}},
		{"?banned=false&external_id=x0", []string{id[0]}},
	}
	for _, tc := range tests {
		got := ids(t, e.do("GET", "/users"+tc.query, nil))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q: got %v, want %v", tc.query, got, tc.want)
		}
		r := e.do("GET", "/users/count"+tc.query, nil)
		var c struct {
			Object     string `json:"object"`
			TotalCount int    `json:"total_count"`
		}
		r.decode(t, &c)
		if wantN := len(tc.want); !strings.Contains(tc.query, "offset") && !strings.Contains(tc.query, "limit") && (c.Object != "total_count" || c.TotalCount != wantN) {
			t.Errorf("count %q: %+v, want %d", tc.query, c, wantN)
		}
	}
}

func TestListRejectsBadParams(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkResponse)
	many := strings.Repeat("&external_id=a", 101)
	r := e.do("GET", "/users?query=ada", nil)
	if code, p := r.firstError(t); r.status != 422 || code != "sandbox_unsupported_param" || p != "query" {
		t.Errorf("unsupported filter answered: %d %s %s", r.status, code, p)
	}
	for q, param := range map[string]string{"?limit=501": "limit", "?limit=0": "limit", "?offset=-1": "offset", "?" + many[1:]: "external_id"} {
		r := e.do("GET", "/users"+q, nil)
		if code, p := r.firstError(t); r.status != 422 || code != "form_param_format_invalid" || p != param {
			t.Errorf("%.30s: %d %s %s", q, r.status, code, p)
		}
	}
}

func TestAuthAndRouting(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, noCheck)
	for _, auth := range []string{"", "Bearer ", "Bearer sk_live_x", "Basic sk_test_x", "sk_test_x"} {
		req, _ := http.NewRequest("GET", e.base+"/users", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("auth %q: %d", auth, res.StatusCode)
		}
	}
	r := e.do("GET", "/users", nil) // any sk_test_ key is accepted when Options.Key is ""
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("empty list: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/organizations", nil)
	if code, _ := r.firstError(t); r.status != 404 || code != "resource_not_found" {
		t.Errorf("unknown route: %d %s", r.status, code)
	}
	r = e.do("GET", "/users/user_nope", nil)
	if code, _ := r.firstError(t); r.status != 404 || code != "resource_not_found" {
		t.Errorf("unknown user: %d %s", r.status, code)
	}
	r = e.do("PUT", "/users", "{}")
	if code, _ := r.firstError(t); r.status != 405 || code == "" || r.header.Get("Allow") == "" {
		t.Errorf("wrong method: %d %s allow=%q", r.status, code, r.header.Get("Allow"))
	}
	r = e.do("POST", "/users/count", "{}")
	if r.status != 405 {
		t.Errorf("POST count: %d", r.status)
	}
}

func TestUserCapAndRequired(t *testing.T) {
	e := newEnv(t, sandbox.Options{UserCap: 2, Required: []string{"email_address", "password"}}, checkResponse)
	r := e.do("POST", "/users", map[string]any{"email_address": []string{"a@example.com"}})
	if code, p := r.firstError(t); r.status != 422 || code != "form_data_missing" || p != "password" {
		t.Errorf("missing password: %d %s %s", r.status, code, p)
	}
	e.mustCreate(map[string]any{"email_address": []string{"a@example.com"}, "skip_password_requirement": true})
	e.mustCreate(map[string]any{"username": "bobby", "skip_user_requirement": true, "password": "unusual-pass-phrase"})
	r = e.do("POST", "/users", map[string]any{"email_address": []string{"c@example.com"}, "skip_password_requirement": true})
	if code, _ := r.firstError(t); r.status != 403 || code != "user_quota_exceeded" {
		t.Errorf("over cap: %d %s", r.status, code)
	}
	if st := e.srv.Stats(); st.Users != 2 || st.Creates != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestSandboxEndpoints(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, noCheck)
	id := e.mustCreate(map[string]any{"external_id": "e1", "email_address": []string{"a@example.com", "b@example.com"}})
	e.mustCreate(map[string]any{"username": "noemail"})
	root := strings.TrimSuffix(e.base, "/v1")
	res, err := e.http.Get(root + "/_sandbox/users") // no auth needed
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var dump []sandbox.DumpUser
	if err := decodeJSON(res, &dump); err != nil || len(dump) != 2 {
		t.Fatalf("dump: %v %+v", err, dump)
	}
	if d := dump[0]; d.ID != id || d.ExternalID != "e1" || strings.Join(d.EmailAddresses, ",") != "a@example.com,b@example.com" {
		t.Errorf("dump[0] %+v", d)
	}
	res2, err := e.http.Get(root + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	var st sandbox.Stats
	if err := decodeJSON(res2, &st); err != nil || st.Users != 2 || st.Creates != 2 || st.Created != 2 {
		t.Errorf("stats: %v %+v", err, st)
	}
}

func TestIDShape(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, noCheck)
	r := e.do("POST", "/users", map[string]any{"email_address": []string{"id@example.com"}})
	var u struct {
		ID     string `json:"id"`
		Emails []struct {
			ID string `json:"id"`
		} `json:"email_addresses"`
	}
	r.decode(t, &u)
	for _, id := range []string{u.ID, u.Emails[0].ID} {
		_, rest, _ := strings.Cut(id, "_")
		if len(rest) != 27 || strings.Trim(rest, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("id %q: want prefix_ and 27 base62 characters", id)
		}
	}
}
