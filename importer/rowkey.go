package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// A row is matched to the journal by who it is, not where it is, whenever its position says
// nothing: a database or another Clerk instance has no stable lines, stdin is never known to be
// the same bytes, and a re-exported file shifts every line. Its key is its external_id, else a
// digest of its primary identifier, normalised as Clerk compares it: the first email address
// lower-cased, else the first phone number as E.164, else the username lower-cased. The journal
// keeps the digest (Event.Key), not the address: the key only has to match, never to be read.

// rowKey is the journal key of a row without an external_id ("" when it has one, or nothing
// to name it by).
func rowKey(p *mapping.CreateUserParams) string {
	if p == nil || p.ExternalIDValue() != "" {
		return ""
	}
	switch {
	case len(p.EmailAddresses) > 0 && strings.TrimSpace(p.EmailAddresses[0]) != "":
		return keyDigest("email", strings.ToLower(strings.TrimSpace(p.EmailAddresses[0])))
	case len(p.PhoneNumbers) > 0 && e164(p.PhoneNumbers[0]) != "":
		return keyDigest("phone", e164(p.PhoneNumbers[0]))
	case p.Username != nil && strings.TrimSpace(*p.Username) != "":
		return keyDigest("username", strings.ToLower(strings.TrimSpace(*p.Username)))
	}
	return ""
}

// keyDigest is kind, a colon and 24 hex digits of the value's sha256: 96 bits, so two users
// of a run never share one, and no address is written to the journal.
func keyDigest(kind, v string) string {
	s := sha256.Sum256([]byte(kind + "\x00" + v))
	return kind + ":" + hex.EncodeToString(s[:12])
}

// e164 spells a phone number as Clerk keeps it: a leading + and digits only, the spaces,
// dashes, dots and brackets of a human spelling dropped; "" when no digit is left.
func e164(s string) string {
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range strings.TrimPrefix(strings.TrimSpace(s), "+") {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 1 {
		return ""
	}
	return b.String()
}

// matchKey is what the resume sets know the row by: its external_id, else its rowKey.
func (jb *job) matchKey() string {
	if jb.extID != "" {
		return jb.extID
	}
	return jb.key
}

// keyedDone reports, for a keyed run, whether a session of the same run finished rec's user:
// the rest of a stopped run is counted without them.
func (r *runner) keyedDone(rec source.Record) bool {
	if !r.resume.keyed || r.resume.sameKeys.len() == 0 {
		return false
	}
	m := mapped{rec: rec}
	r.mapRow(&m)
	if m.params == nil {
		return false
	}
	jb := job{extID: m.params.ExternalIDValue(), key: rowKey(m.params)}
	return r.resume.doneBefore(jb.matchKey())
}
