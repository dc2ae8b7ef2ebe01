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
