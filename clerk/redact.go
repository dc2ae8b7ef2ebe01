package clerk

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces every secret-shaped substring.
const redacted = "[redacted]"

// secretShapes are the substrings no message may carry: a server echoes what it refused (Clerk's
// 422 quotes a bad password_digest), and a mistyped setting may hold a key. Each is a token shape,
// not a known value, so a value the program never saw is caught too.
var secretShapes = regexp.MustCompile(strings.Join([]string{
	`\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9_-]*`,     // Clerk keys, whole or cut short
	`\b(?:sk|pk)_[A-Za-z0-9]{16,}`,                    // other services' keys of the same form
	`\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}`, // a JWT: base64url of '{"'
	`\b(?i:bearer)\s+[^\s"',;]+`,                      // an Authorization header's token
	`\$2[abxy]?\$[0-9]{1,2}\$[./A-Za-z0-9]*`,          // bcrypt
	`\$argon2(?:id|i|d)\$[^\s"';]*`,                   // argon2 PHC
	`[^\s"',;$]*\$[^\s"';$]*\$[^\s"';]*`,              // any $-separated digest: PHC, crypt(3), pbkdf2, scrypt_firebase
	`\bawscognito#[^\s"',;]*`,                         // Cognito lazy-migration marker with pool and client ids
	`\b[0-9A-Fa-f]{32,}\b`,                            // md5, sha256, hex-encoded hashes and secrets
	`[A-Za-z0-9+/_-]{40,}={0,2}`,                      // base64 runs: salts, hashes, signer keys (see isPlainRun)
}, "|"))

// Redact removes every digest-, secret- and token-shaped substring from s: Clerk keys (sk_, pk_),
// JWTs, bearer tokens, password digests (bcrypt, argon2, pbkdf2, scrypt, any $-separated form),
// and long hex or base64 runs. Every message built from a server's words or a setting passes
// through it before it leaves this package; others may call it on their own messages.
func Redact(s string) string {
	if s == "" {
		return s
	}
	return secretShapes.ReplaceAllStringFunc(s, func(m string) string {
		if isPlainRun(m) {
			return m
		}
		return redacted
	})
}

// isPlainRun spares a long run that is words, not a secret: a base64 run must mix upper case,
// lower case and digits (form_password_digest_invalid_code_and_more does not).
func isPlainRun(m string) bool {
	if len(m) < 40 || strings.ContainsAny(m, "$#.") || strings.HasPrefix(m, "eyJ") || strings.Contains(m, "_live_") || strings.Contains(m, "_test_") {
		return false
	}
	if isHex(m) {
		return false
	}
	var upper, lower, digit bool
	for _, c := range m {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return !(upper && lower && digit)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// redact removes the key itself, then every secret shape, from s.
func redact(s, key string) string {
	if key != "" {
		s = strings.ReplaceAll(s, key, redacted)
	}
	return Redact(s)
}

// DisplayURL is raw as it may be recorded or shown: scheme://host/path, without user info, query
// or fragment, which may carry a key or token; anything key-shaped left is redacted too. A value
// that is not a URL at all comes back redacted, so a key pasted into CLERK_API_URL is never shown.
func DisplayURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" && u.Host == "" {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			raw = raw[i+1:]
		}
		return Redact(raw)
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return Redact(out.String())
}
