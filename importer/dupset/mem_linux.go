package dupset

import "syscall"

// dropPages gives the whole pages within mem[from:to] back to the OS; they read as zero after.
func dropPages(mem []byte, from, to int) {
	page := syscall.Getpagesize()
	from = (from + page - 1) / page * page
	to = to / page * page
	if from < to {
		_ = syscall.Madvise(mem[from:to], syscall.MADV_DONTNEED)
	}
}
