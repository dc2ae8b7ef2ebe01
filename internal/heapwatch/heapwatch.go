// Package heapwatch measures how far the heap grows while a piece of code runs, for tests that
// hold memory to a bound (capped bodies, hostile servers).
package heapwatch

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Growth runs f and returns the most the heap in use (HeapAlloc) grew above where it started,
// after a GC, sampled every 2 ms while f ran.
func Growth(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-stopped
	return peak.Load()
}
