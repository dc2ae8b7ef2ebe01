package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// baseline POSTs bodies to the sandbox at sp from conc goroutines with plain net/http: the
// fastest a client can go, against which userimport's overhead is measured.
// It returns the wall time, the CPU this process spent, and how many creates got 200.
func baseline(ctx context.Context, sp *sandboxProc, bodies [][]byte, conc int) (wall, cpu time.Duration, created int64, err error) {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := sp.base + "/v1/users"

	var next, ok atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), selfCPU()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(bodies)) || ctx.Err() != nil {
					return
				}
				code, err := post(ctx, client, url, bodies[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				if code == http.StatusOK {
					ok.Add(1)
				} else {
					errOnce.Do(func() { firstErr = fmt.Errorf("POST /v1/users: status %d", code) })
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), selfCPU() - cpu0, ok.Load(), firstErr
}

func post(ctx context.Context, client *http.Client, url string, b []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	// Drain the body so the connection is reused, as any client that keeps up would.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
