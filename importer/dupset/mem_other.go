//go:build !(linux || darwin || freebsd)

package dupset

// Elsewhere the table lives on the Go heap, and never in a file: an open file may not be
// unlinkable (Windows).
const fileTables = false

func mapMem(int) []byte { return nil }

func unmapMem([]byte) {}

func dropPages([]byte, int, int) {}
