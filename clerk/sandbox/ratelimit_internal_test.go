package sandbox

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Retry-After tells the truth: after waiting it out on the server's clock, the call goes through.
func TestRetryAfterIsWhenATokenFrees(t *testing.T) {
	s, err := New(Options{Limit: 10, Window: 20 * time.Second}) // one token per 2s
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return clock }
	call := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v1/users/count", nil)
		req.Header.Set("Authorization", "Bearer sk_test_x")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		return w
	}
	for i := range 10 {
		if w := call(); w.Code != http.StatusOK {
			t.Fatalf("call %d within the burst: %d", i, w.Code)
		}
	}
	w := call()
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("over the burst: %d Retry-After=%q, want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	clock = clock.Add(1500 * time.Millisecond)
	if w := call(); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("0.5s before the token: %d Retry-After=%q, want 429 and 1 (rounded up)", w.Code, w.Header().Get("Retry-After"))
	}
	clock = clock.Add(500 * time.Millisecond)
	if w := call(); w.Code != http.StatusOK {
		t.Fatalf("after Retry-After: %d", w.Code)
	}
	if w := call(); w.Code != http.StatusTooManyRequests {
		t.Fatalf("the freed token was spent: %d", w.Code)
	}
	if got := s.Stats().Status429; got != 3 {
		t.Errorf("Status429 = %d, want 3", got)
	}
}
