package clerk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListUsersSendsCursorQuery(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/users" {
			t.Errorf("request %s %s; want GET /v1/users", r.Method, r.URL.Path)
		}
		got = append(got, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"id":"user_1","object":"user","public_metadata":{"a":[1,2]}},{"id":"user_2"}]`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)

	page, err := c.ListUsers(context.Background(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || string(page[0]) != `{"id":"user_1","object":"user","public_metadata":{"a":[1,2]}}` || string(page[1]) != `{"id":"user_2"}` {
		t.Fatalf("page = %q; want each User exactly as sent", page)
	}
	if _, err := c.ListUsers(context.Background(), "user_2", PageSize); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"limit=2&order_by=%2Bcreated_at",
		"limit=500&order_by=%2Bcreated_at&starting_after=user_2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("queries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.PageSize() != 500 {
		t.Fatalf("PageSize() = %d; want 500", c.PageSize())
	}
}

func TestListUsersRefusesBadPageSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("no request may be sent for a bad page size")
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	for _, n := range []int{0, -1, PageSize + 1} {
		_, err := c.ListUsers(context.Background(), "", n)
		if e := asError(t, err); e.Class() != "permanent" || !strings.Contains(e.Error(), strconv.Itoa(n)) {
			t.Errorf("limit %d: %v (%s); want a permanent error naming it", n, err, e.Class())
		}
	}
}

// An endless body is cut at MaxPageBytes: the call fails fatally instead of growing memory.
func TestListUsersRefusesEndlessBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"id":"user_1","public_metadata":{"x":"`)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 30*time.Second)
	start := time.Now()
	_, err := c.ListUsers(context.Background(), "", PageSize)
	e := asError(t, err)
	if !errors.Is(err, ErrResponseTooLarge) || !e.Fatal() || !strings.Contains(e.Error(), "larger than 16 MiB") {
		t.Fatalf("err = %v (%s); want a fatal ErrResponseTooLarge naming the cap", err, e.Class())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %s: the body was not cut at the cap", d)
	}
}

// A declared Content-Length over the cap is refused before the body is read.
func TestListUsersRefusesDeclaredOversize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(MaxPageBytes+1))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `[]`) // short of its length: a client that read it would see EOF, not the cap
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	_, err := c.ListUsers(context.Background(), "", 10)
	if e := asError(t, err); !errors.Is(err, ErrResponseTooLarge) || !e.Fatal() {
		t.Fatalf("err = %v; want fatal ErrResponseTooLarge", err)
	}
}

func TestListUsersNotAnArrayIsFatal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[],"total_count":0}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 5*time.Second)
	_, err := c.ListUsers(context.Background(), "", 10)
	if e := asError(t, err); !e.Fatal() || !strings.Contains(e.Error(), "not a JSON array") {
		t.Fatalf("err = %v (%s); want fatal, naming the shape", err, e.Class())
	}
}

func TestListUsersErrorsClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		class  string
	}{{http.StatusTooManyRequests, "retryable"}, {http.StatusUnauthorized, "fatal"}, {http.StatusUnprocessableEntity, "permanent"}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			clerkError(w, tc.status, "some_code", "starting_after", "nope")
		}))
		c := newTestClient(t, srv.URL, 5*time.Second)
		_, err := c.ListUsers(context.Background(), "user_x", 10)
		if e := asError(t, err); e.Class() != tc.class || e.Status != tc.status {
			t.Errorf("%d: %v (%s); want %s", tc.status, err, e.Class(), tc.class)
		}
		srv.Close()
	}
}

// Cancelling the caller's context ends a page that never comes.
func TestListUsersCancelEndsWait(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv.URL, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ListUsers(ctx, "", 10)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s after cancel", d)
	}
}
