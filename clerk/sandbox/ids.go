package sandbox

import (
	"encoding/hex"
	"math/rand/v2"
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
