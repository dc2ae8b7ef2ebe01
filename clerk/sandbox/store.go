package sandbox

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"
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
	CreatedAt  int64           `json:"created_at"`
	UpdatedAt  int64           `json:"updated_at"`
	Seq        uint64          `json:"seq"`
	X          *extra          `json:"x,omitempty"` // nil for most imported users
}

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
	seq        uint64
	dirty      bool
}

func newStore() *store {
	return &store{
		byID:       map[string]*user{},
		byEmail:    map[string]*user{},
		byPhone:    map[string]*user{},
		byUsername: map[string]*user{},
		byExternal: map[string]*user{},
	}
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
	return ""
}

// insert indexes u. Caller holds the write lock and has checked conflicts.
func (s *store) insert(u *user) {
	if u.Seq == 0 {
		s.seq++
		u.Seq = s.seq
	} else if u.Seq > s.seq {
		s.seq = u.Seq
	}
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
	s.dirty = true
}

// filter is a parsed GET /v1/users query: values within a field are ORed, fields ANDed.
type filter struct {
	include map[string][]string // field -> values
	exclude map[string][]string // only external_id and user_id may exclude, per the spec
	before  int64               // created_at < before (unix ms), when non-zero
	after   int64               // created_at > after (unix ms), when non-zero
	none    bool                // matches nothing (banned=true)
	desc    bool
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

// sortUsers orders by created_at, then creation order. Stored users are never mutated,
// so this (and rendering) runs outside the lock.
func sortUsers(us []*user, desc bool) {
	slices.SortFunc(us, func(a, b *user) int {
		c := cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.Seq, b.Seq))
		if desc {
			return -c
		}
		return c
	})
}
