package main

import "testing"

func TestClipList(t *testing.T) {
	if got := clipList([]string{"a", "b"}, 3); got != "a, b" {
		t.Errorf("short list: %q", got)
	}
	if got := clipList([]string{"a", "b", "c", "d"}, 2); got != "a, b … and 2 more" {
		t.Errorf("long list: %q", got)
	}
}
