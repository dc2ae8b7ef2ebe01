package sandbox

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
)

// user is the compact stored form; the wire User is rendered from it on demand so
// a million users stay small.
type user struct {
	ID         string          `json:"id"`
	ExternalID string          `json:"external_id,omitempty"`
	Username   string          `json:"username,omitempty"`
	FirstName  string          `json:"first_name,omitempty"`
	LastName   string          `json:"last_name,omitempty"`
	Emails     []ident         `json:"emails,omitempty"`
	Phones     []ident         `json:"phones,omitempty"`
	PublicMD   json.RawMessage `json:"public_metadata,omitempty"`
	Password   bool            `json:"password,omitempty"`
	TOTP       bool            `json:"totp,omitempty"`
	Backup     bool            `json:"backup,omitempty"`
	DeleteSelf bool            `json:"delete_self,omitempty"`
	CreateOrg  bool            `json:"create_org,omitempty"`
	Flags      userFlags       `json:"flags,omitempty"`
	CreatedAt  int64           `json:"created_at"`
	UpdatedAt  int64           `json:"updated_at"`
	X          *extra          `json:"x,omitempty"` // nil for most imported users
}

// userFlags are the create-time switches a User reports back.
type userFlags uint8

const (
	flagBanned userFlags = 1 << iota
	flagLocked
	flagBypassClientTrust
)

// extra holds the fields few users have, kept out of line to keep user small.
type extra struct {
	Locale    string          `json:"locale,omitempty"`
	Wallets   []ident         `json:"wallets,omitempty"`
	PrivateMD json.RawMessage `json:"private_metadata,omitempty"`
	UnsafeMD  json.RawMessage `json:"unsafe_metadata,omitempty"`
	OrgLimit  *int            `json:"org_limit,omitempty"`
	LegalAt   int64           `json:"legal_at,omitempty"`
}

var noExtra = &extra{}

// x returns u's extra fields, or a shared empty set; callers must not modify it.
func (u *user) x() *extra {
	if u.X == nil {
		return noExtra
	}
	return u.X
}

// ident is one email address, phone number or web3 wallet with its own id.
type ident struct {
	ID       string `json:"id"`
	Value    string `json:"v"`
	Reserved bool   `json:"r,omitempty"`
}

// store holds users and the unique indexes Clerk enforces.
type store struct {
	mu         sync.RWMutex
	byID       map[string]*user
	byEmail    map[string]*user // lower-cased
	byPhone    map[string]*user
	byUsername map[string]*user // lower-cased
	byExternal map[string]*user
	byWallet   map[string]*user // lower-cased
	// deleted keeps recently deleted users' created_at (a bounded ring), so a cursor naming one
	// still places the next page.
	deleted     map[string]int64
	deletedRing []string
	deletedNext int
	ids         userIDs
	lastCreated int64 // the latest server-assigned created_at, which never runs backwards
	dirty       bool
}

func newStore() *store {
	return &store{
		byID:       map[string]*user{},
		byEmail:    map[string]*user{},
		byPhone:    map[string]*user{},
		byUsername: map[string]*user{},
		byExternal: map[string]*user{},
		byWallet:   map[string]*user{},
		deleted:    map[string]int64{},
	}
}

// stamp gives a new user its id and, unless the request set one, its created_at. Caller holds the
// write lock, so ids and server times follow insertion order: a client paging by +created_at
// then never finds a user inserted after its page sorting before its cursor.
func (s *store) stamp(u *user, now time.Time, createdGiven bool) {
	u.ID = s.ids.next(now)
	ms := max(now.UnixMilli(), s.lastCreated)
	s.lastCreated = ms
	if !createdGiven {
		u.CreatedAt = ms
	}
	u.UpdatedAt = ms
}

// conflict returns the param whose identifier another user already holds, or "".
// Caller holds the lock.
func (s *store) conflict(u *user) string {
	for _, e := range u.Emails {
		if _, ok := s.byEmail[strings.ToLower(e.Value)]; ok {
			return "email_address"
		}
	}
	for _, p := range u.Phones {
		if _, ok := s.byPhone[p.Value]; ok {
			return "phone_number"
		}
	}
	if u.Username != "" {
		if _, ok := s.byUsername[strings.ToLower(u.Username)]; ok {
			return "username"
		}
	}
	if u.ExternalID != "" {
		if _, ok := s.byExternal[u.ExternalID]; ok {
			return "external_id"
		}
	}
	for _, w := range u.x().Wallets {
		if _, ok := s.byWallet[strings.ToLower(w.Value)]; ok {
			return "web3_wallet"
		}
	}
	return ""
}

// insert indexes u. Caller holds the write lock and has checked conflicts.
func (s *store) insert(u *user) {
	s.byID[u.ID] = u
	for _, e := range u.Emails {
		s.byEmail[strings.ToLower(e.Value)] = u
	}
	for _, p := range u.Phones {
		s.byPhone[p.Value] = u
	}
	if u.Username != "" {
		s.byUsername[strings.ToLower(u.Username)] = u
	}
	if u.ExternalID != "" {
		s.byExternal[u.ExternalID] = u
	}
	for _, w := range u.x().Wallets {
		s.byWallet[strings.ToLower(w.Value)] = u
	}
	s.ids.observe(u.ID)
	s.lastCreated = max(s.lastCreated, u.UpdatedAt)
	delete(s.deleted, u.ID)
	s.dirty = true
}

// remove drops u from every index. Caller holds the write lock.
func (s *store) remove(u *user) {
	delete(s.byID, u.ID)
	for _, e := range u.Emails {
		delete(s.byEmail, strings.ToLower(e.Value))
	}
	for _, p := range u.Phones {
		delete(s.byPhone, p.Value)
	}
	if u.Username != "" {
		delete(s.byUsername, strings.ToLower(u.Username))
	}
	if u.ExternalID != "" {
		delete(s.byExternal, u.ExternalID)
	}
	for _, w := range u.x().Wallets {
		delete(s.byWallet, strings.ToLower(w.Value))
	}
	if len(s.deletedRing) < maxDeletedCursors {
		s.deletedRing = append(s.deletedRing, u.ID)
	} else {
		delete(s.deleted, s.deletedRing[s.deletedNext])
		s.deletedRing[s.deletedNext] = u.ID
		s.deletedNext = (s.deletedNext + 1) % maxDeletedCursors
	}
	s.deleted[u.ID] = u.CreatedAt
	s.dirty = true
}

// maxDeletedCursors bounds the deleted users remembered for cursors: a mass delete stays cheap.
const maxDeletedCursors = 4096

// cursor returns the sort position of the user with this id, deleted ones included.
// Caller holds the read lock.
func (s *store) cursor(id string) (*user, bool) {
	if u := s.byID[id]; u != nil {
		return u, true
	}
	if c, ok := s.deleted[id]; ok {
		return &user{ID: id, CreatedAt: c}, true
	}
	return nil, false
}

// filter is a parsed GET /v1/users query: values within a field are ORed, fields ANDed.
type filter struct {
	include map[string][]string // field -> values
	exclude map[string][]string // only external_id and user_id may exclude, per the spec
	before  int64               // created_at < before (unix ms), when non-zero
	after   int64               // created_at > after (unix ms), when non-zero
	banned  *bool               // banned users only (true) or unbanned only (false)
	none    bool                // matches nothing (e.g. a last_sign_in_at bound: no sandbox user signs in)
}

func (s *store) lookup(field, v string) *user {
	switch field {
	case "email_address":
		return s.byEmail[strings.ToLower(v)]
	case "phone_number":
		return s.byPhone[v]
	case "username":
		return s.byUsername[strings.ToLower(v)]
	case "external_id":
		return s.byExternal[v]
	case "user_id":
		return s.byID[v]
	case "web3_wallet":
		return s.byWallet[strings.ToLower(v)]
	}
	return nil
}

// match returns the users f selects, unordered. Caller holds the read lock.
func (s *store) match(f filter) []*user {
	var out []*user
	if f.none {
		return out
	}
	if len(f.include) == 0 {
		out = make([]*user, 0, len(s.byID))
		for _, u := range s.byID {
			out = append(out, u)
		}
	} else {
		var cand map[*user]bool
		for field, vals := range f.include {
			set := map[*user]bool{}
			for _, v := range vals {
				if u := s.lookup(field, v); u != nil && (cand == nil || cand[u]) {
					set[u] = true
				}
			}
			cand = set
		}
		for u := range cand {
			out = append(out, u)
		}
	}
	if f.before != 0 || f.after != 0 {
		out = slices.DeleteFunc(out, func(u *user) bool {
			return (f.before != 0 && u.CreatedAt >= f.before) || (f.after != 0 && u.CreatedAt <= f.after)
		})
	}
	if f.banned != nil {
		out = slices.DeleteFunc(out, func(u *user) bool { return (u.Flags&flagBanned != 0) != *f.banned })
	}
	if len(f.exclude) > 0 {
		out = slices.DeleteFunc(out, func(u *user) bool {
			for field, vals := range f.exclude {
				for _, v := range vals {
					if s.lookup(field, v) == u {
						return true
					}
				}
			}
			return false
		})
	}
	return out
}

// order is a parsed order_by: a User field and a direction.
type order struct {
	field string
	desc  bool
}

var byCreation = order{field: "created_at"}

// orderFields are the spec's order_by fields.
var orderFields = []string{"created_at", "updated_at", "email_address", "web3wallet", "first_name",
	"last_name", "phone_number", "username", "last_active_at", "last_sign_in_at"}

// sortKey is u's value for a string field (primary identifiers, names); false when it has none.
func sortKey(u *user, field string) (string, bool) {
	var v string
	switch field {
	case "email_address":
		if len(u.Emails) > 0 {
			v = strings.ToLower(u.Emails[0].Value)
		}
	case "phone_number":
		if len(u.Phones) > 0 {
			v = u.Phones[0].Value
		}
	case "web3wallet":
		if w := u.x().Wallets; len(w) > 0 {
			v = strings.ToLower(w[0].Value)
		}
	case "username":
		v = strings.ToLower(u.Username)
	case "first_name":
		v = u.FirstName
	case "last_name":
		v = u.LastName
	}
	return v, v != ""
}

// compare orders a before b (<0) or after (>0), never equal for two users: ties fall back to
// created_at, then id. A user without the field sorts last ascending and first descending, as
// NULLs do in PostgreSQL. last_active_at and last_sign_in_at are null for every sandbox user
// (none ever signs in), so those orderings are the created_at one.
func (o order) compare(a, b *user) int {
	c := 0
	switch o.field {
	case "created_at", "last_active_at", "last_sign_in_at":
	case "updated_at":
		c = cmp.Compare(a.UpdatedAt, b.UpdatedAt)
	default:
		av, aok := sortKey(a, o.field)
		bv, bok := sortKey(b, o.field)
		switch {
		case aok && !bok:
			c = -1
		case bok && !aok:
			c = 1
		default:
			c = strings.Compare(av, bv)
		}
	}
	c = cmp.Or(c, cmp.Compare(a.CreatedAt, b.CreatedAt), strings.Compare(a.ID, b.ID))
	if o.desc {
		return -c
	}
	return c
}

// sortUsers orders us by o. Stored users are never mutated, so this (and rendering) runs
// outside the lock.
func sortUsers(us []*user, o order) {
	slices.SortFunc(us, o.compare)
}
