// Package inplace boxes strings into interface values without copying them: a row's decoded
// texts are handed to the mapping as `any`, and the ordinary conversion allocates a copy of
// the string header for each (millions on a large import). Here the header lives in room the
// caller already holds.
package inplace

import "unsafe"

// Strings is room for n string headers, boxed where they lie.
type Strings struct {
	room []string
}

// Make returns room over buf (its length is how many strings it can box).
func Make(buf []string) Strings { return Strings{room: buf[:0:len(buf)]} }

// Box is any(s): in the room while it lasts (no allocation), else (or with no room, st nil)
// the ordinary conversion.
func (st *Strings) Box(s string) any {
	if st == nil || len(st.room) == cap(st.room) {
		return s
	}
	st.room = append(st.room, s)
	return String(&st.room[len(st.room)-1])
}

// String is *p as an interface value that refers to *p itself rather than a copy, which any(*p)
// would allocate. *p must never change after: an interface's value is immutable.
func String(p *string) any {
	v := any("") // the string type's interface word, and no allocation
	(*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] = unsafe.Pointer(p)
	return v
}
