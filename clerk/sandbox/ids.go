package sandbox

import (
	"encoding/hex"
	"math/rand/v2"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix + 27 base62 characters, the shape of Clerk's ids.
// Ids need not be repeatable, so they come from the global (concurrency-safe) source.
func newID(prefix string) string {
	b := make([]byte, len(prefix)+27)
	copy(b, prefix)
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := len(b) - 1; i >= len(prefix); i-- {
		if i >= len(prefix)+14 {
			b[i] = base62[lo%62]
			lo /= 62
		} else {
			b[i] = base62[hi%62]
			hi /= 62
		}
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
