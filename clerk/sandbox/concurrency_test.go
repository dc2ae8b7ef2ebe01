package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
)

// Racing creates of one identity: exactly one wins, the rest see form_identifier_exists.
func TestConcurrentCreatesOneWinner(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	const n = 16
	var wg sync.WaitGroup
	status := make([]int, n)
	for i := range n {
		wg.Go(func() {
			// Distinct emails, same external_id: uniqueness must hold across all of them.
			r := e.do("POST", "/users", map[string]any{"external_id": "same", "email_address": []string{fmt.Sprintf("c%d@example.com", i)}})
			status[i] = r.status
		})
	}
	for i := range n {
		wg.Go(func() { e.do("GET", fmt.Sprintf("/users?external_id=same&limit=%d", i+1), nil) })
	}
	wg.Wait()
	won := 0
	for _, s := range status {
		switch s {
		case 200:
			won++
		case 422:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if won != 1 || e.srv.Stats().Users != 1 {
		t.Errorf("%d creates won, %d users stored; want 1", won, e.srv.Stats().Users)
	}
}

func TestStateSavedPeriodically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	e := newEnv(t, sandbox.Options{StateFile: path, SaveEvery: 5 * time.Millisecond}, checkAll)
	e.mustCreate(map[string]any{"external_id": "p1"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			break // saved while the server still runs: a crash would not lose it
		}
		if time.Now().After(deadline) {
			t.Fatal("state file not written while serving")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
