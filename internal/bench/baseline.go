package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/user"
)

// baseline POSTs bodies to the sandbox at sp from conc goroutines with plain net/http: the
// fastest a client can go, against which userimport's overhead is measured.
// It returns the wall time, the CPU this process spent, and how many creates got 200.
func baseline(ctx context.Context, sp *sandboxProc, bodies [][]byte, conc int) (wall, cpu time.Duration, created int64, err error) {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := sp.base + "/v1/users"
	return loop(ctx, len(bodies), conc, func(i int) error {
		return post(ctx, client, url, bodies[i])
	})
}

// sdkBaseline sends the same users with the official SDK's user.Client.Create, as the
// simplest program built on it would: not a target, but what the SDK alone costs a create,
// which no client held to the SDK can avoid.
func sdkBaseline(ctx context.Context, sp *sandboxProc, n, conc int) (wall, cpu time.Duration, created int64, err error) {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	users := user.NewClient(&sdk.ClientConfig{BackendConfig: sdk.BackendConfig{
		URL: sdk.String(sp.base + "/v1"), Key: sdk.String(benchKey),
		HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}})
	return loop(ctx, n, conc, func(i int) error {
		ext, email, first, last := rowExternalID(i), rowEmail(i), rowFirst(i), rowLast(i)
		meta := json.RawMessage(rowMeta(i))
		_, err := users.Create(ctx, &user.CreateParams{ExternalID: &ext, EmailAddresses: &[]string{email},
			FirstName: &first, LastName: &last, PublicMetadata: &meta})
		return err
	})
}

// loop runs send for 0..n-1 from conc goroutines and counts the successes.
func loop(ctx context.Context, n, conc int, send func(i int) error) (wall, cpu time.Duration, created int64, err error) {
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
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				if err := send(int(i)); err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), selfCPU() - cpu0, ok.Load(), firstErr
}

func post(ctx context.Context, client *http.Client, url string, b []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	// Drain the body so the connection is reused, as any client that keeps up would.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/users: status %d", resp.StatusCode)
	}
	return nil
}
