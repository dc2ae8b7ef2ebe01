package sandbox_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

// Every spec'd order_by, both ways: values compare as Clerk's would, a user without the field
// sorts last ascending and first descending, and ties fall back to created_at then id.
func TestOrderByEveryField(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	wallet := func(c string) string { return "0x" + strings.Repeat(c, 40) }
	// a..d created on days 1..4; each field's values are arranged so its order differs.
	a := e.mustCreate(map[string]any{"created_at": "2021-01-01T00:00:00Z", "email_address": []string{"carol@example.com"},
		"phone_number": []string{"+15550000003"}, "username": "dave", "first_name": "Bea", "last_name": "Zed",
		"web3_wallet": []string{wallet("b")}})
	b := e.mustCreate(map[string]any{"created_at": "2021-01-02T00:00:00Z", "email_address": []string{"Alice@example.com"},
		"username": "Bobby", "first_name": "Cy"})
	c := e.mustCreate(map[string]any{"created_at": "2021-01-03T00:00:00Z", "email_address": []string{"bob@example.com"},
		"phone_number": []string{"+15550000001"}, "last_name": "Amos", "web3_wallet": []string{wallet("a")}})
	d := e.mustCreate(map[string]any{"created_at": "2021-01-04T00:00:00Z",
		"phone_number": []string{"+15550000002"}, "username": "carl", "first_name": "Abe", "last_name": "Amos"})
	asc := map[string][]string{
		"created_at":      {a, b, c, d},
		"updated_at":      {a, b, c, d}, // updated_at is the server's insert time: creation order
		"email_address":   {b, c, a, d}, // case-insensitive; d has none
		"phone_number":    {c, d, a, b},
		"username":        {b, d, a, c}, // case-insensitive, like username uniqueness
		"first_name":      {d, a, b, c},
		"last_name":       {c, d, a, b}, // c and d tie on Amos: created_at decides
		"web3wallet":      {c, a, b, d},
		"last_active_at":  {a, b, c, d}, // nobody is ever active: all tie, created_at decides
		"last_sign_in_at": {a, b, c, d},
	}
	for field, want := range asc {
		for _, dir := range []string{"", "+", "-"} {
			w := want
			if dir == "-" {
				w = slices.Clone(want)
				slices.Reverse(w)
			}
			got := ids(t, e.do("GET", "/users?order_by="+url.QueryEscape(dir+field), nil))
			if !slices.Equal(got, w) {
				t.Errorf("order_by=%s%s: got %v, want %v", dir, field, got, w)
			}
		}
	}
	// A "+" sent unencoded arrives as a space; only the first order_by counts.
	if got := ids(t, e.do("GET", "/users?order_by=+username&order_by=-created_at", nil)); !slices.Equal(got, asc["username"]) {
		t.Errorf("order_by=+username (raw +) then -created_at: %v", got)
	}
	if got := ids(t, e.do("GET", "/users", nil)); !slices.Equal(got, []string{d, c, b, a}) {
		t.Errorf("default order is -created_at: %v", got)
	}
	if got := ids(t, e.do("GET", "/users?order_by=first_name&limit=2&offset=1", nil)); !slices.Equal(got, []string{a, b}) {
		t.Errorf("limit and offset over an order: %v", got)
	}
}

func TestOrderByRefusesUnknownField(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkResponse)
	for _, ob := range []string{"nickname", "-email", "web3_wallet", "++created_at"} {
		r := e.do("GET", "/users?order_by="+url.QueryEscape(ob), nil)
		if code, p := r.firstError(t); r.status != 422 || code != "form_param_format_invalid" || p != "order_by" {
			t.Errorf("order_by=%s: %d %s %s", ob, r.status, code, p)
		}
	}
}

// page walks the list with the starting_after cursor, calling between(page number) after each
// page, and returns every id read.
func (e *env) page(query string, limit int, between func(int)) []string {
	e.t.Helper()
	var all []string
	cursor := ""
	for n := 0; ; n++ {
		q := fmt.Sprintf("/users?%s&limit=%d", query, limit)
		if cursor != "" {
			q += "&starting_after=" + cursor
		}
		got := ids(e.t, e.do("GET", q, nil))
		all = append(all, got...)
		if len(got) < limit {
			return all
		}
		cursor = got[len(got)-1]
		if between != nil {
			between(n)
		}
		if n > 1000 {
			e.t.Fatal("paging never ended")
		}
	}
}

// A client paging by +created_at with starting_after reads every user exactly once, users
// created while it pages included, with ties in created_at ordered by id.
func TestCursorPagingNeitherSkipsNorRepeats(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	var want []string
	for i := range 13 {
		body := map[string]any{"external_id": fmt.Sprintf("old%d", i)}
		body["created_at"] = "2020-06-01T00:00:00Z" // all tie: page edges fall inside the tie

		want = append(want, e.mustCreate(body))
	}
	added, late := 0, ""
	got := e.page("order_by=%2Bcreated_at", 4, func(n int) {
		if n >= 3 {
			return // the cursor is still among the tied users (12 of 19 read)
		}
		for i := range 3 { // created during paging: two tie the cursor's created_at, one is now
			body := map[string]any{"external_id": fmt.Sprintf("new%d", added)}
			if i < 2 {
				body["created_at"] = "2020-06-01T00:00:00Z"
			}
			want = append(want, e.mustCreate(body))
			added++
		}
		if n == 2 { // and one back-dated before them all: it sorts behind the cursor
			late = e.mustCreate(map[string]any{"external_id": "late", "created_at": "2019-01-01T00:00:00Z"})
		}
	})
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("user %s read %d times", id, seen[id])
		}
	}
	if late == "" || seen[late] != 0 {
		t.Errorf("a user back-dated behind the cursor was read (%d times): the cursor is a position", seen[late])
	}
	// The order read is (created_at, id): fetch it again in one page to compare.
	full := ids(t, e.do("GET", "/users?order_by=created_at&limit=500", nil))
	var fullKept []string
	for _, id := range full {
		if seen[id] > 0 {
			fullKept = append(fullKept, id)
		}
	}
	if !slices.Equal(got, fullKept) {
		t.Errorf("paged order differs from the one-page order:\n%v\n%v", got, fullKept)
	}
	var cs []struct {
		ID        string `json:"id"`
		CreatedAt int64  `json:"created_at"`
	}
	e.do("GET", "/users?order_by=created_at&limit=500", nil).decode(t, &cs)
	for i := 1; i < len(cs); i++ {
		if cs[i-1].CreatedAt == cs[i].CreatedAt && cs[i-1].ID >= cs[i].ID {
			t.Errorf("tie in created_at not ordered by id: %s before %s", cs[i-1].ID, cs[i].ID)
		}
	}
}

func TestCursorDescendingAndDeletedCursor(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	var made []string
	for i := range 7 {
		made = append(made, e.mustCreate(map[string]any{"external_id": fmt.Sprintf("u%d", i),
			"created_at": fmt.Sprintf("2022-01-0%dT00:00:00Z", i+1)}))
	}
	got := e.page("order_by=-created_at", 3, nil)
	want := slices.Clone(made)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("-created_at pages: %v, want %v", got, want)
	}
	// The cursor user is deleted between pages: the next page still starts right after it.
	if r := e.do("DELETE", "/users/"+made[2], nil); r.status != 200 {
		t.Fatal(r.status)
	}
	if got := ids(t, e.do("GET", "/users?order_by=created_at&limit=2&starting_after="+made[2], nil)); !slices.Equal(got, made[3:5]) {
		t.Errorf("after a deleted cursor: %v, want %v", got, made[3:5])
	}
	// Filters apply to the page; the cursor need not match them.
	if got := ids(t, e.do("GET", "/users?order_by=created_at&external_id=u5&external_id=u1&starting_after="+made[0], nil)); !slices.Equal(got, []string{made[1], made[5]}) {
		t.Errorf("cursor with a filter: %v", got)
	}
}

func TestCursorRefusals(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkResponse)
	id := e.mustCreate(map[string]any{"external_id": "x"})
	for q, why := range map[string]string{
		"order_by=username&starting_after=" + id:    "a cursor over a non-created_at order",
		"order_by=-updated_at&starting_after=" + id: "a cursor over updated_at",
		"offset=1&starting_after=" + id:             "a cursor with a non-zero offset",
		"starting_after=user_nobody":                "a cursor naming no user",
	} {
		r := e.do("GET", "/users?"+q, nil)
		if code, p := r.firstError(t); r.status != 422 || code != "form_param_format_invalid" || p != "starting_after" {
			t.Errorf("%s: %d %s %s", why, r.status, code, p)
		}
	}
	if r := e.do("GET", "/users?offset=0&order_by=%2Bcreated_at&starting_after="+id, nil); r.status != 200 {
		t.Errorf("offset=0 with a cursor: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/users?ending_before="+id, nil)
	if code, p := r.firstError(t); r.status != 422 || code != "sandbox_unsupported_param" || p != "ending_before" {
		t.Errorf("ending_before (not in the spec): %d %s %s", r.status, code, p)
	}
}

// New ids sort in creation order, also after a restart from the state file.
func TestUserIDsSortInCreationOrder(t *testing.T) {
	path := t.TempDir() + "/state.jsonl"
	e := newEnv(t, sandbox.Options{StateFile: path}, noCheck)
	var made []string
	for i := range 50 {
		made = append(made, e.mustCreate(map[string]any{"external_id": fmt.Sprint(i)}))
	}
	if !slices.IsSorted(made) {
		t.Fatalf("ids out of creation order: %v", made)
	}
	if err := e.srv.Save(); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, sandbox.Options{StateFile: path}, noCheck)
	if next := e2.mustCreate(map[string]any{"external_id": "after-restart"}); next <= made[len(made)-1] {
		t.Errorf("id after restart %s sorts before %s", next, made[len(made)-1])
	}
}

// The count takes the list's filters, the new ones included.
func TestCountFilters(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	w := "0x" + strings.Repeat("C", 40)
	e.mustCreate(map[string]any{"external_id": "w", "web3_wallet": []string{w}, "banned": true})
	e.mustCreate(map[string]any{"external_id": "p", "email_address": []string{"p@example.com"}})
	e.mustCreate(map[string]any{"external_id": "q", "email_address": []string{"q@example.com"}, "banned": false})
	for q, want := range map[string]int{
		"":                                   3,
		"?web3_wallet=" + strings.ToLower(w): 1,
		"?banned=true":                       1,
		"?banned=false":                      2,
		"?banned=false&email_address=p@example.com":         1,
		"?last_active_at_after=0":                           0,
		"?last_sign_in_at_before=99999999999999":            0,
		"?created_at_after=0&external_id=p&external_id=w":   2,
		"?user_id=-nobody&external_id=-w&order_by=username": 2,
	} {
		var c struct {
			TotalCount int `json:"total_count"`
		}
		r := e.do("GET", "/users/count"+q, nil)
		if r.status != 200 {
			t.Fatalf("count%s: %d %s", q, r.status, r.body)
		}
		r.decode(t, &c)
		if c.TotalCount != want {
			t.Errorf("count%s = %d, want %d", q, c.TotalCount, want)
		}
		if n := len(ids(t, e.do("GET", "/users"+q, nil))); n != want {
			t.Errorf("list%s: %d users, count says %d", q, n, want)
		}
	}
	r := e.do("POST", "/users", map[string]any{"web3_wallet": []string{strings.ToLower(w)}})
	if code, p := r.firstError(t); r.status != 422 || code != "form_identifier_exists" || p != "web3_wallet" {
		t.Errorf("a taken wallet in another case: %d %s %s", r.status, code, p)
	}
}
