package sandbox

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"time"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix + 27 random base62 characters, the shape of Clerk's ids.
// Ids need not be repeatable, so they come from the global (concurrency-safe) source.
func newID(prefix string) string {
	b := make([]byte, len(prefix)+27)
	copy(b, prefix)
	var r uint64
	for i := len(prefix); i < len(b); i++ {
		if (i-len(prefix))%10 == 0 {
			r = rand.Uint64() // 10 base62 digits use under 60 of its 64 bits
		}
		b[i] = base62[r%62]
		r /= 62
	}
	return string(b)
}

func newTraceID() string {
	var b [16]byte
	for i := range 2 {
		v := rand.Uint64()
		for j := range 8 {
			b[i*8+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

// userIDs issues user ids that sort (as strings) in the order they were issued, as Clerk's
// time-ordered ids do: 10 base62 digits of a strictly increasing microsecond count, then 17
// random ones. Ties in created_at are broken by id, so a user created while a client pages with
// starting_after sorts after every user already listed, never before the cursor.
// Not safe for concurrent use: the store calls it under its write lock.
type userIDs struct{ last uint64 }

const orderedDigits = 10 // 62^10 microseconds is about 26,000 years

func (g *userIDs) next(now time.Time) string {
	n := max(uint64(now.UnixMicro()), g.last+1)
	g.last = n
	id := []byte(newID("user_"))
	for i := len("user_") + orderedDigits - 1; i >= len("user_"); i-- {
		id[i] = base62[n%62]
		n /= 62
	}
	return string(id)
}

// observe raises the floor past a loaded id, so ids issued after a restart sort after it.
func (g *userIDs) observe(id string) {
	rest, ok := strings.CutPrefix(id, "user_")
	if !ok || len(rest) < orderedDigits {
		return
	}
	var n uint64
	for _, c := range []byte(rest[:orderedDigits]) {
		d := strings.IndexByte(base62, c)
		if d < 0 {
			return
		}
		n = n*62 + uint64(d)
	}
	g.last = max(g.last, n)
}
