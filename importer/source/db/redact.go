package db

import (
	"errors"
	"net/url"
	"os"
	"strings"
)

// splitURL cuts scheme://userinfo@rest. The userinfo ends at the LAST '@' before the query, so
// a password holding an unencoded '@' (or '/') is still all userinfo. at is -1 without one.
func splitURL(raw string) (prefix, userinfo, rest string, at int) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw, "", "", -1
	}
	prefix, after := raw[:i+3], raw[i+3:]
	q := strings.IndexAny(after, "?#")
	if q < 0 {
		q = len(after)
	}
	at = strings.LastIndex(after[:q], "@")
	if at < 0 {
		return prefix, "", after, -1
	}
	return prefix, after[:at], after[at+1:], at
}

// Redact hides a connection string's user and password: postgres://***@host/db. Query
// parameters that carry a password (password=, pass=, pwd=) are hidden too.
func Redact(raw string) string {
	prefix, _, rest, at := splitURL(raw)
	if prefix == raw {
		return raw // sqlite:PATH and the like: nothing secret
	}
	out := prefix
	if at >= 0 {
		out += "***@"
	}
	return out + redactParams(rest)
}

// stripPassword keeps the user but drops the password: the run identity must not depend on a
// password rotation, nor hold it.
func stripPassword(raw string) string {
	prefix, ui, rest, at := splitURL(raw)
	if prefix == raw {
		return raw
	}
	out := prefix
	if at >= 0 {
		user, _, _ := strings.Cut(ui, ":")
		if user != "" {
			out += user + "@"
		}
	}
	return out + stripParams(redactParams(rest))
}

// redactParams masks password-bearing query parameters.
func redactParams(rest string) string {
	base, query, ok := strings.Cut(rest, "?")
	if !ok {
		return rest
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if isSecretParam(k) {
			parts[i] = k + "=***"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// stripParams drops masked parameters altogether (Identity).
func stripParams(rest string) string {
	base, query, ok := strings.Cut(rest, "?")
	if !ok {
		return rest
	}
	var keep []string
	for p := range strings.SplitSeq(query, "&") {
		k, _, _ := strings.Cut(p, "=")
		if !isSecretParam(k) {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return base
	}
	return base + "?" + strings.Join(keep, "&")
}

func isSecretParam(k string) bool {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	switch strings.ToLower(k) {
	case "password", "pass", "pwd", "passwd", "sslpassword":
		return true
	}
	return false
}

// urlPassword is the password a URL carries, for scrubbing it out of driver messages.
func urlPassword(raw string) string {
	_, ui, _, at := splitURL(raw)
	if at < 0 {
		return ""
	}
	_, pw, ok := strings.Cut(ui, ":")
	if !ok {
		return ""
	}
	if u, err := url.PathUnescape(pw); err == nil {
		return u
	}
	return pw
}

// Cause is the likely reason a database could not be read.
type Cause string

// Causes a connection or query failure is sorted into.
const (
	Unreachable      Cause = "host unreachable"
	AuthFailed       Cause = "credentials refused"
	DatabaseMissing  Cause = "database missing"
	SchemaMissing    Cause = "schema missing"
	TableMissing     Cause = "table missing"
	PermissionDenied Cause = "permission denied"
	FileMissing      Cause = "file missing"
	NotADatabase     Cause = "not a database"
	BadURL           Cause = "bad connection string"
	QueryFailed      Cause = "query failed"
)

// Error is a database source failure. Its message names the source (redacted), the likely
// cause and what to do; it never holds a password.
type Error struct {
	Source string // redacted URL
	Cause  Cause
	Hint   string // what to try next
	Detail string // the driver's message, scrubbed
	err    error
}

func (e *Error) Error() string {
	s := e.Source + ": " + string(e.Cause)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap gives the driver's error, for errors.Is on context and network errors. Print e, not it:
// a driver message may echo connection parameters.
func (e *Error) Unwrap() error { return e.err }

func newError(cause Cause, hint string, err error) *Error {
	d := ""
	if err != nil {
		d = err.Error()
	}
	return &Error{Cause: cause, Hint: hint, Detail: d, err: err}
}

// withSource fills in the redacted source and scrubs secrets from the message.
func withSource(err error, red, raw, password string) error {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(QueryFailed, "", err)
	}
	if e.Source == "" {
		e.Source = red
	}
	e.Detail = scrub(e.Detail, raw, password)
	e.Hint = scrub(e.Hint, raw, password)
	return e
}

// scrub removes the URL and any known password from a message.
func scrub(s, raw, password string) string {
	if raw != "" && strings.Contains(s, raw) {
		s = strings.ReplaceAll(s, raw, Redact(raw))
	}
	for _, pw := range []string{urlPassword(raw), password, os.Getenv("PGPASSWORD")} {
		if len(pw) >= 1 && strings.Contains(s, pw) {
			s = strings.ReplaceAll(s, pw, "***")
		}
	}
	return s
}
