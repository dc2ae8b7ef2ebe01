package clerk

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Fingerprint names a secret key without revealing it: the first 12 hex chars of its sha256.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:12]
}

// DefaultRate is 80% of the instance's documented Backend API limit, in requests per second:
// production allows 1000 per 10 s, development 100 per 10 s.
func DefaultRate(key string) float64 {
	if strings.HasPrefix(key, "sk_live_") {
		return 80
	}
	return 8
}

// redact removes the key, and anything shaped like a Clerk secret key, from s.
func redact(s, key string) string {
	if key != "" {
		s = strings.ReplaceAll(s, key, "[redacted]")
	}
	for _, prefix := range []string{"sk_live_", "sk_test_"} {
		for {
			i := strings.Index(s, prefix)
			if i < 0 {
				break
			}
			j := i + len(prefix)
			for j < len(s) && isKeyChar(s[j]) {
				j++
			}
			s = s[:i] + "[redacted]" + s[j:]
		}
	}
	return s
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
