//go:build linux || darwin || freebsd

package dupset

import "syscall"

// fileTables: a large import's duplicate table may move to an unlinked file of the run folder.
const fileTables = true

// mapMem maps size bytes of zeroed memory from the OS, outside the Go heap, or returns nil.
func mapMem(size int) []byte {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return mem
}

func unmapMem(mem []byte) { _ = syscall.Munmap(mem) }
