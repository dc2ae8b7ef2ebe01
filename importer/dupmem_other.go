//go:build !(linux || darwin || freebsd)

package importer

// Elsewhere the table lives on the Go heap.
func mapMem(int) []byte { return nil }

func unmapMem([]byte) {}

func dropPages([]byte, int, int) {}
