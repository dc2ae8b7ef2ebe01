package main

import (
	"testing"
)

func TestDevInstanceCap(t *testing.T) {
	if !isDevInstance("https://api.clerk.com/v1", "sk_test_abc") {
		t.Error("a test key against Clerk is a development instance")
	}
	if isDevInstance("https://api.clerk.com/v1", "sk_live_abc") || isDevInstance("http://127.0.0.1:9/v1", "sk_test_abc") {
		t.Error("live keys and other URLs are not held to the development cap")
	}

}
