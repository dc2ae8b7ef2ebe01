package main

import (
	"strings"
	"testing"
)

func TestDevInstanceCap(t *testing.T) {
	if !isDevInstance("https://api.clerk.com/v1", "sk_test_abc") {
		t.Error("a test key against Clerk is a development instance")
	}
	if isDevInstance("https://api.clerk.com/v1", "sk_live_abc") || isDevInstance("http://127.0.0.1:9/v1", "sk_test_abc") {
		t.Error("live keys and other URLs are not held to the development cap")
	}
	if err := devCapCheck(40, 60, 0); err != nil {
		t.Errorf("40 users + 60 rows fit: %v", err)
	}
	err := devCapCheck(41, 60, 0)
	if err == nil || !strings.Contains(err.Error(), "at most 100 users: it has 41 and the input 60 more") {
		t.Errorf("41 + 60 must be refused, got %v", err)
	}
	if err := devCapCheck(90, 60, 50); err != nil {
		t.Errorf("rows done by an earlier run are already among the users: %v", err)
	}
}
