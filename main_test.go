package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/clerk/sandbox/spectest"
	"github.com/userimport/userimport/runfolder"
)

// testKey is the key the scripts' sandbox accepts; a script sets another to test refusal.
const testKey = "sk_test_userimport_e2e_0123456789"

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"userimport": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own sandbox, in this process,
// reached over loopback exactly as Clerk would be: CLERK_API_URL and CLERK_SECRET_KEY point at it.
func TestScripts(t *testing.T) {
	spec, ok := spectest.SpecPath()
	if !ok {
		t.Log("Clerk's spec (../shared/clerk/bapi-2025-04-10.yml) is absent: traffic is not checked against it")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			sb, err := sandbox.New(sandbox.Options{Key: testKey})
			if err != nil {
				return err
			}
			// Every request the client sends and every answer the sandbox gives in these
			// scripts is held to Clerk's published spec.
			handler := sb.Handler()
			var contract *spectest.Validator
			if spec != "" {
				if contract, err = spectest.Load(spec); err != nil {
					return err
				}
				handler = contract.Middleware(handler)
			}
			srv := httptest.NewServer(handler)
			env.Defer(func() {
				srv.Close()
				sb.Close()
				if contract != nil {
					for _, v := range contract.Violations() {
						env.T().Fatal("spec violation: " + v)
					}
				}
			})
			env.Setenv("CLERK_API_URL", srv.URL+"/v1")
			env.Setenv("CLERK_SECRET_KEY", testKey)
			samples, err := filepath.Abs("samples")
			if err != nil {
				return err
			}
			env.Setenv("SAMPLES", samples)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox-stat": cmdSandboxStat,
			"freeport":     cmdFreePort,
			"wait-sandbox": cmdWaitSandbox,
			"hold-lock":    cmdHoldLock,
			"stale-lock":   cmdStaleLock,
			"mode":         cmdMode,
			"gzip-file":    cmdGzipFile,
		},
		RequireExplicitExec: true,
	})
}

// sandboxStats reads /_sandbox/stats from the sandbox behind $CLERK_API_URL, in or out of process.
func sandboxStats(ts *testscript.TestScript) map[string]any {
	base := strings.TrimSuffix(ts.Getenv("CLERK_API_URL"), "/v1")
	resp, err := http.Get(base + "/_sandbox/stats")
	ts.Check(err)
	defer resp.Body.Close()
	var stats map[string]any
	ts.Check(json.NewDecoder(resp.Body).Decode(&stats))
	return stats
}

// sandbox-stat NAME OP N: compare a sandbox counter (e.g. creates, users) with N; OP is == or >=.
func cmdSandboxStat(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: sandbox-stat NAME ==|>= N")
	}
	want, err := strconv.ParseFloat(args[2], 64)
	ts.Check(err)
	stats := sandboxStats(ts)
	v, ok := stats[args[0]]
	if !ok {
		ts.Fatalf("sandbox has no stat %q (have %v)", args[0], stats)
	}
	got, _ := v.(float64)
	var holds bool
	switch args[1] {
	case "==":
		holds = got == want
	case ">=":
		holds = got >= want
	default:
		ts.Fatalf("unknown op %q", args[1])
	}
	if holds == neg {
		ts.Fatalf("sandbox %s = %v, want %s %v (negated: %v)", args[0], got, args[1], want, neg)
	}
}

// freeport VAR: set VAR to a free loopback port.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// wait-sandbox URL: wait until a sandbox started in the background answers.
func cmdWaitSandbox(ts *testscript.TestScript, neg bool, args []string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(strings.TrimSuffix(args[0], "/v1") + "/_sandbox/stats")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("no sandbox at %s", args[0])
}

// hold-lock DIR: a live process (this test) holds DIR's lock until the script ends.
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	l, _, err := runfolder.AcquireLock(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Defer(func() { l.Release() })
}

// gzip-file SRC DST: DST is SRC gzipped, as a nightly export job leaves it.
func cmdGzipFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: gzip-file SRC DST")
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o600))
}

// stale-lock DIR: DIR's lock names a process that no longer exists.
func cmdStaleLock(ts *testscript.TestScript, neg bool, args []string) {
	cmd := exec.Command("true")
	ts.Check(cmd.Run())
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+"/lock"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600))
}
