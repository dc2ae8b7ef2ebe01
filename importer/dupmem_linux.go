package importer

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

// dropPages gives the whole pages within mem[from:to] back to the OS; they read as zero after.
func dropPages(mem []byte, from, to int) {
	page := syscall.Getpagesize()
	from = (from + page - 1) / page * page
	to = to / page * page
	if from < to {
		_ = syscall.Madvise(mem[from:to], syscall.MADV_DONTNEED)
	}
}
