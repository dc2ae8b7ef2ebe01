package clerk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint names a secret key without revealing it: the first 12 hex chars of its sha256.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:12]
}

// DocumentedLimit is Clerk's documented Backend API limit for the key's instance, all calls
// together: production (sk_live_) 1000 requests per 10 s, development 100 per 10 s, as a rate
// and the window's budget, which is the burst the default pace may spend at once.
func DocumentedLimit(key string) (perSecond float64, burst int) {
	if strings.HasPrefix(key, "sk_live_") {
		return 100, 1000
	}
	return 10, 100
}

// DefaultRate is the documented limit's rate, in requests per second.
func DefaultRate(key string) float64 {
	r, _ := DocumentedLimit(key)
	return r
}

// DefaultDevUserCap is how many users a development instance is taken to hold. Clerk's
// documents say 100 in one place and 500 in another (its CLI refuses above 500), so it only
// warns; the instance's own 403 user_quota_exceeded is what stops a run.
const DefaultDevUserCap = 500

// DevCapWarning is the warning to give before the first create when a development instance
// holding users cannot take the rows still to come (rows less doneBefore, those earlier
// sessions already finished) within cap; "" when they fit or cap <= 0 (no check).
func DevCapWarning(users, rows, doneBefore, cap int) string {
	toCome := max(0, rows-doneBefore)
	if cap <= 0 || users+toCome <= cap {
		return ""
	}
	return fmt.Sprintf("a development instance may hold only %d users (Clerk's documents say 100 in one place and 500 in another): "+
		"it has %d and the input %d more; going on, and stopping cleanly if the instance answers 403 user_quota_exceeded "+
		"(import into a production instance, sk_live_, or set --dev-user-cap to the instance's real cap)",
		cap, users, toCome)
}
