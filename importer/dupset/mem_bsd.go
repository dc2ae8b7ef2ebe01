//go:build darwin || freebsd

package dupset

// dropPages does nothing here (package syscall has no madvise): the old table goes at once
// when the new one is full.
func dropPages([]byte, int, int) {}
