package report

import (
	"net/url"
	"regexp"
	"strings"
)

// Secrets that must never reach the page, whatever field they hide in: Clerk secret keys and
// bcrypt digests (a journal should hold neither, but an input path or a message might).
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`sk_(live|test)_[A-Za-z0-9]+`),
	regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`),
}

const redacted = "[redacted]"

// redact blanks every secret-looking part of s.
func redact(s string) string {
	if !strings.Contains(s, "sk_") && !strings.Contains(s, "$2") {
		return s // the common case, without a regexp run
	}
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, redacted)
	}
	return s
}

var urlScheme = regexp.MustCompile(`(?i)\b(https?|ftp|wss?)://`)

// clean is what every journal string goes through before the page: secrets redacted, and
// URL schemes dropped so the file links nowhere (a message may quote a docs link).
func clean(s string) string {
	s = redact(s)
	if strings.Contains(s, "://") {
		s = urlScheme.ReplaceAllString(s, "")
	}
	return s
}

// shorten keeps messages to one readable line on the page.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// apiTarget names the API without a scheme, so the page holds no URL a browser could follow,
// and without any userinfo or query a URL might carry.
func apiTarget(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return clean(raw)
	}
	t := u.Host + u.EscapedPath()
	if u.Scheme != "" {
		t += " (" + u.Scheme + ")"
	}
	return redact(t)
}
