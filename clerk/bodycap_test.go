package clerk

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/userimport/userimport/internal/heapwatch"
)

// endless writes a body that never ends (until the client goes away), starting with head.
func endless(status int, head string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, head)
		chunk := []byte(strings.Repeat(`"xxxxxxxxxxxxxxx",`, 4096))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// huge sends a finite body of n bytes, declared in Content-Length.
func huge(n int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.WriteHeader(200)
		io.WriteString(w, "[")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for left := n - 2; left > 0; left -= int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
				return
			}
		}
		io.WriteString(w, "]")
	}
}

// A body that never ends, or one far bigger than any answer of Clerk's, is cut at the cap: the
// heap stays bounded; a create's answer is ambiguous (the user may exist), a look-up fails.
func TestBodiesAreCapped(t *testing.T) {
	const bound = 96 << 20 // a few capped reads; unbounded, these servers send gigabytes in the timeout
	for _, tc := range []struct {
		name      string
		handler   http.HandlerFunc
		call      func(c *Client) error
		ambiguous bool
	}{
		{"create endless", endless(200, `{"object":"user","first_name":"`), func(c *Client) error {
			_, err := c.Create(context.Background(), fullParams())
			return err
		}, true},
		{"create endless after the id", endless(200, `{"id":"user_1","first_name":"`), func(c *Client) error {
			_, err := c.Create(context.Background(), fullParams())
			return err
		}, true},
		{"create huge", huge(8 << 30), func(c *Client) error {
			_, err := c.Create(context.Background(), fullParams())
			return err
		}, true},
		{"look-up endless", endless(200, `[`), func(c *Client) error {
			_, err := c.FindByExternalID(context.Background(), []string{"a", "b"})
			return err
		}, false},
		{"look-up huge", huge(8 << 30), func(c *Client) error {
			_, _, err := c.FindByEmail(context.Background(), "ada@example.com")
			return err
		}, false},
		{"error endless", endless(502, `<html>`), func(c *Client) error {
			_, err := c.FindByExternalID(context.Background(), []string{"a"})
			return err
		}, true}, // a 502 is ambiguous by its status
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			c := newTestClient(t, srv.URL, 20*time.Second)
			var err error
			grew := heapwatch.Growth(func() {
				for range 3 {
					runtime.GC() // each capped read is measured, not the garbage of the ones before
					if err = tc.call(c); err == nil {
						break
					}
				}
			})
			if err == nil {
				t.Fatal("an over-size answer was taken")
			}
			e := asError(t, err)
			if e.Ambiguous() != tc.ambiguous || e.Retryable() || e.Fatal() {
				t.Errorf("%v: class %s, want ambiguous=%v", err, e.Class(), tc.ambiguous)
			}
			if e.Status < 500 && !strings.Contains(e.Message, "response body over") {
				t.Errorf("message %q does not say the answer was too large", e.Message)
			}
			if grew > bound {
				t.Errorf("heap grew %d MiB reading capped bodies; want under %d MiB", grew>>20, bound>>20)
			}
			c.CloseIdleConnections()
		})
	}
}

// A list page just under the cap is read whole: the cap refuses only what Clerk never sends.
func TestBodyUnderCapIsRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		pad := strings.Repeat(" ", MaxListBody-100)
		io.WriteString(w, `[{"id":"user_1","external_id":"a"}`+pad+`]`)
	}))
	defer srv.Close()
	m, err := newTestClient(t, srv.URL, 20*time.Second).FindByExternalID(context.Background(), []string{"a"})
	if err != nil || m["a"] != "user_1" {
		t.Fatalf("FindByExternalID = %v, %v; want a -> user_1", m, err)
	}
}
