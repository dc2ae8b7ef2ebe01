package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The sandbox's keys: a development instance's, and a production-shaped one for the cases
// whose default pace follows the key. Neither is real.
const (
	benchKey     = "sk_test_userimport_bench"
	benchLiveKey = "sk_live_userimport_bench"
)

// sandboxProc is a `userimport sandbox` child process.
type sandboxProc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT, without /v1
	done chan struct{}
	log  *os.File
}

// startSandbox starts a sandbox on a free loopback port and waits until it says where it serves.
func startSandbox(ctx context.Context, e *env, name string, args ...string) (*sandboxProc, error) {
	return startSandboxKey(ctx, e, name, benchKey, args...)
}

// startSandboxKey is startSandbox accepting key.
func startSandboxKey(ctx context.Context, e *env, name, key string, args ...string) (*sandboxProc, error) {
	logf, err := os.Create(filepath.Join(e.tmp, name+".sandbox.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.bin, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = childEnv("CLERK_SECRET_KEY=" + key)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	resetPeakRSS()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	sp := &sandboxProc{cmd: cmd, done: make(chan struct{}), log: logf}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "http://"); i >= 0 && !sent {
				urls <- strings.Fields(line[i:])[0]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(urls)
	}()
	go func() {
		_ = cmd.Wait()
		close(sp.done)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			sp.stop()
			return nil, fmt.Errorf("sandbox exited before serving (see %s)", logf.Name())
		}
		sp.base = strings.TrimSuffix(strings.TrimSuffix(u, "/"), "/v1")
		return sp, nil
	case <-time.After(15 * time.Second):
		sp.stop()
		return nil, errors.New("sandbox did not start within 15s")
	case <-ctx.Done():
		sp.stop()
		return nil, ctx.Err()
	}
}

// usage is a finished child's resource use.
type usage struct {
	rssKiB int64         // peak RSS
	cpu    time.Duration // user + system
}

// stop ends the sandbox (SIGTERM, then SIGKILL) and returns what it used. It is idempotent.
func (sp *sandboxProc) stop() usage {
	if sp.cmd.Process == nil {
		return usage{}
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sp.done:
	case <-time.After(10 * time.Second):
		_ = sp.cmd.Process.Kill()
		<-sp.done
	}
	sp.log.Close()
	return usageOf(sp.cmd.ProcessState)
}

// sandboxStats mirrors GET /_sandbox/stats.
type sandboxStats struct {
	Creates   int64 `json:"creates"`
	Created   int64 `json:"created"`
	Lists     int64 `json:"lists"`
	Gets      int64 `json:"gets"`
	Deletes   int64 `json:"deletes"`
	Status429 int64 `json:"status_429"`
	Status5xx int64 `json:"status_5xx"`
	Drops     int64 `json:"drops"`
	Users     int64 `json:"users"`
}

func (sp *sandboxProc) stats(ctx context.Context) (sandboxStats, error) {
	var st sandboxStats
	return st, sp.getJSON(ctx, "/_sandbox/stats", &st)
}

// dumpUser is one entry of GET /_sandbox/users.
type dumpUser struct {
	ID             string   `json:"id"`
	ExternalID     string   `json:"external_id"`
	EmailAddresses []string `json:"email_addresses"`
}

func (sp *sandboxProc) users(ctx context.Context) ([]dumpUser, error) {
	var us []dumpUser
	return us, sp.getJSON(ctx, "/_sandbox/users", &us)
}

func (sp *sandboxProc) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sp.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// summary is the part of `import --json` the figures use.
type summary struct {
	Status      string         `json:"status"`
	ExitCode    int            `json:"exit_code"`
	Counts      map[string]int `json:"counts"`
	Rows        int            `json:"rows"`
	Requests    int64          `json:"requests"`
	Creates     int64          `json:"creates"`
	Status429   int64          `json:"status_429"`
	Retries     int64          `json:"retries"`
	ElapsedSec  float64        `json:"elapsed_seconds"`
	RequestRate float64        `json:"request_rate"`
	CreateRate  float64        `json:"create_rate"`
}

// procRun is a finished userimport child: its exit, wall time and peak RSS.
type procRun struct {
	usage
	exit     int
	wall     time.Duration
	floorKiB int64 // this process's peak RSS when the child started: the least its Maxrss can read
	stdout   []byte
	stderr   string
}

// peakKnown reports whether the child's Maxrss is its own, not the floor it inherited.
func (p *procRun) peakKnown() bool { return p.rssKiB > p.floorKiB }

// runUserimport runs bin with args (and extra environment) to completion.
func runUserimport(ctx context.Context, e *env, extraEnv []string, args ...string) (*procRun, error) {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = childEnv(extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	floor := resetPeakRSS()
	start := time.Now()
	err := cmd.Run()
	return ranUserimport(ctx, cmd, err, time.Since(start), floor, &stdout, &stderr)
}

// ranUserimport is the run of cmd that ended with err after wall: an error when it could not
// run at all or ctx ended, else its exit, usage and output.
func ranUserimport(ctx context.Context, cmd *exec.Cmd, err error, wall time.Duration, floor int64, stdout, stderr *bytes.Buffer) (*procRun, error) {
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return nil, fmt.Errorf("run userimport: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return &procRun{
		exit: cmd.ProcessState.ExitCode(), wall: wall, usage: usageOf(cmd.ProcessState),
		floorKiB: floor, stdout: stdout.Bytes(), stderr: stderr.String(),
	}, nil
}

// importRun is an `import --json` run and its summary.
type importRun struct {
	*procRun
	sum summary
	out string // run folder
}

// runImport imports file into the sandbox at sp with the given rate and concurrency.
func runImport(ctx context.Context, e *env, sp *sandboxProc, name, file string, rate float64, conc int) (*importRun, error) {
	flags := []string{"--rate", fmt.Sprint(rate)}
	if conc > 0 {
		flags = append(flags, "--concurrency", fmt.Sprint(conc))
	}
	return runImportFlags(ctx, e, sp, name, file, benchKey, flags...)
}

// runImportFlags imports file into the sandbox at sp with key and the given flags (none: the
// key's default pace).
func runImportFlags(ctx context.Context, e *env, sp *sandboxProc, name, file, key string, flags ...string) (*importRun, error) {
	out := filepath.Join(e.tmp, name+".run")
	args := append([]string{"import", "--json", "--no-progress", "--out", out}, flags...)
	args = append(args, file)
	env := []string{"CLERK_API_URL=" + sp.base + "/v1", "CLERK_SECRET_KEY=" + key}
	pr, err := runUserimport(ctx, e, env, args...)
	if err != nil {
		return nil, err
	}
	r := &importRun{procRun: pr, out: out}
	if err := json.Unmarshal(pr.stdout, &r.sum); err != nil {
		return r, fmt.Errorf("import exited %d without a JSON summary: %s", pr.exit, lastLine(pr.stderr))
	}
	e.notef("%s: exit %d, %s, wall %.2fs, elapsed %.2fs, created %d, requests %d, 429s %d, retries %d, peak RSS %.1f MB, CPU %.2fs",
		name, pr.exit, r.sum.Status, pr.wall.Seconds(), r.sum.ElapsedSec, r.sum.Counts["created"], r.sum.Requests,
		r.sum.Status429, r.sum.Retries, mb(pr.rssKiB), pr.cpu.Seconds())
	return r, nil
}

// childEnv is this process's environment without any CLERK_ setting (a real key in the
// caller's shell must never reach a bench child), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLERK_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func usageOf(ps *os.ProcessState) usage {
	if ps == nil {
		return usage{}
	}
	u := usage{cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.rssKiB = ru.Maxrss // KiB on Linux
	}
	return u
}

// resetPeakRSS shrinks this process and resets its peak RSS, returning the peak after. A child
// starts as a vfork of this process, and Linux carries the pre-exec peak into the child's
// Maxrss: without this, every child would report at least this process's own high-water mark.
func resetPeakRSS() (floorKiB int64) {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // 5: reset the peak RSS (Linux >= 4.0)
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// selfCPU is this process's user + system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1-minute load average: other work on the machine skews every timed figure.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// mb turns KiB into MB (10^6 bytes), the unit of the targets.
func mb(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
