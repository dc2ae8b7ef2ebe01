package sandbox

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const maxBody = 1 << 20

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, drop bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, apiError{Code: "request_body_invalid",
			Message: "Request body invalid", LongMessage: "The request body could not be read or is too large."})
		return
	}
	b, errs, err := decodeCreate(raw)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, apiError{Code: "request_body_invalid",
			Message: "Request body invalid", LongMessage: "The request body is invalid. Please consult the API documentation for more information."})
		return
	}
	if len(errs) == 0 {
		errs = validateCreate(b, s.settings)
	}
	if len(errs) == 0 {
		if p := duplicateInBody(b); p != "" {
			errs = append(errs, identifierExists(p))
		}
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusUnprocessableEntity, errs...)
		return
	}
	u := toUser(b)
	st := s.store
	st.mu.Lock()
	if p := st.conflict(u); p != "" {
		st.mu.Unlock()
		writeErrors(w, http.StatusUnprocessableEntity, identifierExists(p))
		return
	}
	if s.opts.UserCap > 0 && len(st.byID) >= s.opts.UserCap {
		st.mu.Unlock()
		writeErrors(w, http.StatusForbidden, apiError{Code: "user_quota_exceeded",
			Message: "User quota exceeded", LongMessage: "You have reached your limit of " + strconv.Itoa(s.opts.UserCap) + " users. If you need more users, please use a Production instance."})
		return
	}
	st.stamp(u, s.now(), b.CreatedAt != nil)
	st.insert(u)
	st.mu.Unlock()
	s.created.Add(1)
	if drop {
		s.drops.Add(1)
		s.logf("sandbox: created %s then dropped the connection", u.ID)
		dropConnection(w)
		return
	}
	writeJSON(w, http.StatusOK, render(u))
}

// dropConnection closes the TCP connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server aborts the response without writing one
}

func identifierExists(param string) apiError {
	return paramError("form_identifier_exists", param, "That "+strings.ReplaceAll(param, "_", " ")+" is taken. Please try another.",
		"That "+strings.ReplaceAll(param, "_", " ")+" is taken. Please try another.")
}

// listFields are the GET /v1/users identifier filters the sandbox understands.
var listFields = []string{"email_address", "phone_number", "username", "web3_wallet", "external_id", "user_id"}

// unsupportedFilters are spec'd filters the sandbox refuses rather than ignores: ignoring one
// would answer a narrow look-up with every user. ending_before is not in the spec; it is refused
// so a client that pages backwards with it learns at once.
var unsupportedFilters = []string{"organization_id", "query", "email_address_query",
	"phone_number_query", "username_query", "name_query", "provider", "provider_user_id", "ending_before"}

// neverSignedIn are the activity bounds: no sandbox user is ever active or signs in, so each
// (a comparison with null) matches nobody.
var neverSignedIn = []string{"last_active_at_before", "last_active_at_after", "last_active_at_since",
	"last_sign_in_at_before", "last_sign_in_at_after"}

// parseOrder reads order_by: the first value only, as the spec says; "+" is implied, and a "+"
// sent unencoded arrives as a space.
func parseOrder(vals []string) (order, bool) {
	if len(vals) == 0 || vals[0] == "" {
		return order{field: "created_at", desc: true}, true
	}
	v := strings.TrimLeft(vals[0], " ")
	o := order{}
	switch {
	case strings.HasPrefix(v, "-"):
		o.desc, v = true, v[1:]
	case strings.HasPrefix(v, "+"):
		v = v[1:]
	}
	o.field = v
	return o, slices.Contains(orderFields, v)
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, count bool) {
	s.lists.Add(1)
	q := r.URL.Query()
	f := filter{include: map[string][]string{}, exclude: map[string][]string{}}
	for _, p := range unsupportedFilters {
		if q.Has(p) {
			writeErrors(w, http.StatusUnprocessableEntity, paramError("sandbox_unsupported_param", p,
				"is not supported by the sandbox", "The local sandbox does not implement the "+p+" filter."))
			return
		}
	}
	for _, p := range neverSignedIn {
		if v := q.Get(p); v != "" {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				writeErrors(w, http.StatusUnprocessableEntity, formatInvalid(p, "must be a unix time in milliseconds"))
				return
			}
			f.none = true
		}
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"created_at_before", &f.before}, {"created_at_after", &f.after}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeErrors(w, http.StatusUnprocessableEntity, formatInvalid(p.name, "must be a unix time in milliseconds"))
				return
			}
			*p.dst = n
		}
	}
	switch q.Get("banned") {
	case "true":
		f.banned = new(true)
	case "false":
		f.banned = new(false)
	case "":
	default:
		writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("banned", "must be true or false"))
		return
	}
	for _, field := range listFields {
		vals := q[field]
		if len(vals) > 100 {
			writeErrors(w, http.StatusUnprocessableEntity, formatInvalid(field, "accepts up to 100 values"))
			return
		}
		if len(vals) == 0 {
			continue
		}
		inc := []string{}
		for _, v := range vals {
			if field == "external_id" || field == "user_id" {
				if rest, ok := strings.CutPrefix(v, "-"); ok {
					f.exclude[field] = append(f.exclude[field], rest)
					continue
				}
				v = strings.TrimPrefix(v, "+")
			}
			inc = append(inc, v)
		}
		if len(inc) > 0 || len(f.exclude[field]) == 0 {
			f.include[field] = inc
		}
	}
	if count { // the count takes the filters only: no order, paging or cursor
		s.store.mu.RLock()
		n := len(s.store.match(f))
		s.store.mu.RUnlock()
		writeJSON(w, http.StatusOK, map[string]any{"object": "total_count", "total_count": n})
		return
	}
	ord, ok := parseOrder(q["order_by"])
	if !ok {
		writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("order_by",
			"must be one of "+strings.Join(orderFields, ", ")+", each optionally prefixed with + or -"))
		return
	}
	limit, ok := intParam(q.Get("limit"), 10, 1, 500)
	if !ok {
		writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("limit", "must be an integer between 1 and 500"))
		return
	}
	offset, ok := intParam(q.Get("offset"), 0, 0, -1)
	if !ok {
		writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("offset", "must be an integer of 0 or more"))
		return
	}
	after := q.Get("starting_after")
	if after != "" {
		// The spec: a cursor needs the created_at ordering (the others sort by values neither
		// unique nor immutable) and cannot be combined with a non-zero offset.
		if ord.field != "created_at" {
			writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("starting_after", "requires ordering by created_at, +created_at or -created_at"))
			return
		}
		if offset != 0 {
			writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("starting_after", "cannot be combined with a non-zero offset"))
			return
		}
	}
	s.store.mu.RLock()
	users := s.store.match(f)
	var cur *user
	if after != "" {
		cur, ok = s.store.cursor(after)
	}
	s.store.mu.RUnlock()
	if after != "" && !ok {
		writeErrors(w, http.StatusUnprocessableEntity, formatInvalid("starting_after", "must be the id of a user in this instance"))
		return
	}
	if cur != nil {
		users = slices.DeleteFunc(users, func(u *user) bool { return ord.compare(u, cur) <= 0 })
	}
	users = firstN(users, ord, offset+limit)
	users = users[min(offset, len(users)):]
	out := make([]*wireUser, len(users))
	for i, u := range users {
		out[i] = render(u)
	}
	writeJSON(w, http.StatusOK, out)
}

// firstN returns the first n of us in order o, sorted. A page needs only its own users in
// order, so a large instance is partly sorted rather than wholly.
func firstN(us []*user, o order, n int) []*user {
	if len(us) > 4*n && n < 1024 {
		// Keep a sorted window of n: each remaining user costs one comparison unless it belongs.
		top := slices.Clone(us[:n])
		sortUsers(top, o)
		for _, u := range us[n:] {
			if o.compare(u, top[n-1]) >= 0 {
				continue
			}
			i, _ := slices.BinarySearchFunc(top, u, o.compare)
			copy(top[i+1:], top[i:n-1])
			top[i] = u
		}
		return top
	}
	sortUsers(us, o)
	return us[:min(n, len(us))]
}

// intParam parses v, defaulting to def; hi < 0 means no upper bound.
func intParam(v string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi >= 0 && n > hi) {
		return 0, false
	}
	return n, true
}

func (s *Server) handleGet(w http.ResponseWriter, id string) {
	s.gets.Add(1)
	s.store.mu.RLock()
	u := s.store.byID[id]
	s.store.mu.RUnlock()
	if u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, render(u))
}

func (s *Server) handleDelete(w http.ResponseWriter, id string) {
	s.deletes.Add(1)
	st := s.store
	st.mu.Lock()
	u := st.byID[id]
	if u != nil {
		st.remove(u)
	}
	st.mu.Unlock()
	if u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "user", "deleted": true})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	writeJSON(w, http.StatusOK, s.Stats())
}

// DumpUser is one entry of GET /_sandbox/users.
type DumpUser struct {
	ID             string   `json:"id"`
	ExternalID     string   `json:"external_id"`
	EmailAddresses []string `json:"email_addresses"`
}

// handleDump streams every user's id, external_id and emails, oldest first.
func (s *Server) handleDump(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	s.store.mu.RLock()
	users := s.store.match(filter{})
	s.store.mu.RUnlock()
	sortUsers(users, byCreation)
	dump := make([]DumpUser, len(users))
	for i, u := range users {
		d := DumpUser{ID: u.ID, ExternalID: u.ExternalID, EmailAddresses: make([]string, len(u.Emails))}
		for j, e := range u.Emails {
			d.EmailAddresses[j] = e.Value
		}
		dump[i] = d
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	_ = bw.WriteByte('[')
	for i := range dump {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		if err := enc.Encode(&dump[i]); err != nil {
			return
		}
	}
	_, _ = bw.WriteString("]\n")
	_ = bw.Flush()
}
