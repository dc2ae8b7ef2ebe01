package sandbox_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

// BenchmarkCreate drives POST /v1/users through the handler in-process, in parallel.
func BenchmarkCreate(b *testing.B) {
	s, err := sandbox.New(sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"external_id":"b%d","email_address":["b%d@example.com"],"first_name":"B","password_hasher":"bcrypt","password_digest":"$2a$10$%s","public_metadata":{"i":%d}}`,
				i, i, strings.Repeat("x", 53), i)
			req := httptest.NewRequest("POST", "/v1/users", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// TestMemoryPerUser keeps a million users affordable: it measures the heap per stored user.
func TestMemoryPerUser(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap: skipped in -short and under -race, whose shadow memory distorts it")
	}
	s, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	const n = 20000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		body := fmt.Sprintf(`{"external_id":"legacy-%07d","email_address":["user%07d@example.com"],"first_name":"First","last_name":"Last","password_hasher":"bcrypt","password_digest":"$2a$10$%s"}`,
			i, i, strings.Repeat("x", 53))
		req := httptest.NewRequest("POST", "/v1/users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per user (%.0f MB per million)", per, per)
	if per > 700 {
		t.Errorf("%.0f bytes per stored user: a million users would need %.1f GB", per, per/1000)
	}
	runtime.KeepAlive(s)
}
