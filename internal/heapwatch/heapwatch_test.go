package heapwatch

import (
	"testing"
	"time"
)

var sink [][]byte

// Growth sees memory f holds while it runs, and nearly none for f that allocates nothing.
func TestGrowth(t *testing.T) {
	const want = 64 << 20
	got := Growth(func() {
		for range want >> 20 {
			sink = append(sink, make([]byte, 1<<20))
		}
		for i := range sink {
			sink[i][0] = 1 // touched, so the pages are really in use
		}
		time.Sleep(20 * time.Millisecond) // held across several samples
	})
	sink = nil
	if got < want {
		t.Errorf("Growth = %d MB while f held %d MB", got>>20, want>>20)
	}
	if idle := Growth(func() {}); idle > 8<<20 {
		t.Errorf("Growth of an empty f = %d MB", idle>>20)
	}
}
