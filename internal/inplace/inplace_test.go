package inplace

import (
	"fmt"
	"runtime"
	"testing"
)

// Boxed strings read, compare and hash as ordinary ones, past the room's end too, and stay
// right through garbage collections.
func TestBox(t *testing.T) {
	buf := make([]string, 3)
	st := Make(buf)
	var got []any
	for i := range 5 {
		got = append(got, st.Box(fmt.Sprint("text-", i)))
	}
	runtime.GC()
	set := map[any]int{}
	for i, v := range got {
		want := fmt.Sprint("text-", i)
		if s, ok := v.(string); !ok || s != want || v != any(want) {
			t.Fatalf("box %d = %#v, want %q", i, v, want)
		}
		set[v] = i
	}
	if set[any("text-1")] != 1 || len(set) != 5 {
		t.Fatalf("boxes hash unlike strings: %v", set)
	}
	if n := testing.AllocsPerRun(100, func() { st = Make(buf); _ = st.Box("x"); _ = st.Box("y") }); n != 0 {
		t.Fatalf("boxing in the room allocates %v times", n)
	}
}
