package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// quietCLI runs the CLI against a server that counts requests: a usage error must send none.
func quietCLI(t *testing.T, key string) (func(args ...string) result, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, `{"errors":[]}`, http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"CLERK_API_URL": srv.URL + "/v1", "CLERK_SECRET_KEY": key}
	return func(args ...string) result {
		t.Helper()
		var stdout, stderr lockedBuffer
		code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
		return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}, &requests
}

// TestUsageErrors: every bad flag value or command line is refused before anything runs, with
// exit 2 and a short message naming the flag and what it takes, never the whole help.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("external_id,email_address\nu1,a@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	imp := func(flags ...string) []string { return append(append([]string{"import", "--out", out}, flags...), in) }
	cases := []struct {
		args []string
		want []string // each must appear in stderr
	}{
		{imp("--rate", "0"), []string{"--rate", "a number above 0", `got "0"`}},
		{imp("--rate", "-3"), []string{"--rate", "a number above 0", `got "-3"`}},
		{imp("--rate", "inf"), []string{"--rate", "a number above 0", `got "inf"`}},
		{imp("--rate", "+Inf"), []string{"--rate", "a number above 0"}},
		{imp("--rate", "NaN"), []string{"--rate", "a number above 0", `got "NaN"`}},
		{imp("--rate", "fast"), []string{"--rate", "or auto", `got "fast"`}},
		{[]string{"import", in, "--rate"}, []string{"--rate", "needs a value"}},
		{imp("--max-retries", "-1"), []string{"--max-retries", "from 0 to 100", `got "-1"`}},
		{imp("--max-retries", "1000"), []string{"--max-retries", "from 0 to 100"}},
		{imp("--max-retries", "x"), []string{"--max-retries", "whole number"}},
		{imp("--concurrency", "1000000"), []string{"--concurrency", "from 1 to 1024", `got "1000000"`}},
		{imp("--concurrency", "-1"), []string{"--concurrency", "from 1 to 1024"}},
		{imp("--max-duration", "5"), []string{"--max-duration", "a duration with a unit", `got "5"`}},
		{imp("--max-duration", "-1m"), []string{"--max-duration", "a duration with a unit"}},
		{imp("--max-duration", "soon"), []string{"--max-duration", "a duration with a unit"}},
		{imp("--request-timeout", "0s"), []string{"--request-timeout", "a duration with a unit"}},
		{imp("--request-timeout", "30"), []string{"--request-timeout", "a duration with a unit"}},
		{imp("--limit", "-1"), []string{"--limit", "whole number of rows"}},
		{imp("--limit", "ten"), []string{"--limit", "whole number of rows"}},
		{imp("--max-record-size", "0"), []string{"--max-record-size", "a size in bytes"}},
		{imp("--firebase-rounds", "-8"), []string{"--firebase-rounds", "whole number"}},
		{imp("--format", "xml"), []string{"--format", "csv, jsonl or json", `got "xml"`}},
		{imp("--preset", "auth0", "--mapping", "m.json"), []string{"--preset", "--mapping"}},
		{imp("--json=maybe"), []string{"--json", "bool"}},
		{imp("--rat", "5"), []string{"unknown flag --rat", "did you mean --rate?"}},
		{imp("--no-prechek"), []string{"did you mean --no-precheck?"}},
		{imp("-x"), []string{"unknown flag -x"}},
		{[]string{"import"}, []string{"one input file", "got 0"}},
		{[]string{"import", in, in}, []string{"one input file", "got 2"}},
		{[]string{"validate", in, "--out", out}, []string{"--out", "not a validate flag"}},
		{[]string{"validate", "--limit", "3", in}, []string{"--limit", "not a validate flag"}},
		{[]string{"validate", "--restart", in}, []string{"--restart", "not a validate flag"}},
		{[]string{"validate", "--metrics-file", "m.prom", in}, []string{"--metrics-file", "not a validate flag"}},
		{[]string{"validate", "--max-duration", "5m", in}, []string{"--max-duration", "not a validate flag"}},
		{[]string{"validate", "--rate", "0", in}, []string{"--rate", "a number above 0"}},
		{[]string{"validate"}, []string{"one input file"}},
		{[]string{"undo", "--rate", "NaN", out}, []string{"--rate", "a number above 0"}},
		{[]string{"undo"}, []string{"undo takes the run folder"}},
		{[]string{"undo", "--out", out}, []string{"unknown flag --out"}},
		{[]string{"report"}, []string{"report takes the run folder"}},
		{[]string{"report", "a", "b"}, []string{"report takes the run folder"}},
		{[]string{"presets", "a", "b"}, []string{"at most one preset"}},
		{[]string{"sandbox", "--fail-500", "often"}, []string{"--fail-500", "float"}},
		{[]string{"sandbox", "extra"}, []string{"no arguments"}},
		{[]string{"completion", "tcsh"}, []string{"bash, zsh or fish", `got "tcsh"`}},
		{[]string{"completion"}, []string{"bash, zsh or fish"}},
		{[]string{"imprt", in}, []string{`unknown command "imprt"`, `did you mean "import"?`}},
		{[]string{"help", "valdate"}, []string{`did you mean "validate"?`}},
		{[]string{"--rate", "5"}, []string{`unknown command "--rate"`}},
	}
	cli, requests := quietCLI(t, "sk_test_usage")
	for _, tc := range cases {
		res := cli(tc.args...)
		name := strings.Join(tc.args, " ")
		if res.code != exitRefused {
			t.Errorf("%s: exit %d, want %d (stderr %q)", name, res.code, exitRefused, res.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: stderr %q does not say %q", name, res.stderr, w)
			}
		}
		if strings.Contains(res.stderr, "panic") || strings.Contains(res.stderr, "goroutine ") {
			t.Errorf("%s: panicked: %s", name, res.stderr)
		}
		if n := strings.Count(res.stderr, "\n"); n > 3 || strings.Contains(res.stderr, "Examples:") {
			t.Errorf("%s: %d lines on stderr: a usage error is a short message, not the help:\n%s", name, n, res.stderr)
		}
		if res.stdout != "" {
			t.Errorf("%s: printed %q on stdout", name, res.stdout)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("usage errors sent %d requests: values must be checked before anything runs", n)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a usage error created the run folder (%v)", err)
	}
}

func TestPublishableKeyIsRefusedBeforeAnyRequest(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	os.WriteFile(in, []byte("email_address\na@example.com\n"), 0o600)
	cli, requests := quietCLI(t, "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k")
	for _, args := range [][]string{
		{"import", "--out", filepath.Join(dir, "run"), in},
		{"validate", in},
		{"undo", filepath.Join(dir, "run")},
	} {
		res := cli(args...)
		if res.code != exitRefused || !strings.Contains(res.stderr, "must be a secret key (sk_…)") {
			t.Errorf("%v: exit %d, stderr %q: want 2 and \"must be a secret key (sk_…)\"", args, res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "Y2xlcmsuZXhhbXBsZS5jb20k") {
			t.Errorf("%v: the key is printed: %q", args, res.stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("a publishable key sent %d requests", n)
	}
}

func TestHelp(t *testing.T) {
	cli, _ := quietCLI(t, "")
	for _, args := range [][]string{
		{"import", "--help"}, {"import", "-h"}, {"help", "import"}, {"import", "users.csv", "--help"},
		{"validate", "-h"}, {"undo", "-h"}, {"sandbox", "--help"}, {"completion", "-h"},
		{"presets", "-h"}, {"report", "-h"}, {"help", "report"},
	} {
		res := cli(args...)
		name := strings.Join(args, " ")
		if res.code != exitOK {
			t.Errorf("%s: exit %d, stderr %q", name, res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, "Usage:\n  userimport ") || !strings.Contains(res.stdout, "Examples:\n  ") {
			t.Errorf("%s: help lacks a usage line or examples:\n%s", name, res.stdout)
		}
		if strings.Count(res.stdout, "\n  userimport ")+strings.Count(res.stdout, "| userimport ") < 2 {
			t.Errorf("%s: want two or three examples:\n%s", name, res.stdout)
		}
	}
	res := cli("import", "-h")
	for _, group := range []string{"\nInput:\n", "\nRun folder:\n", "\nClerk:\n", "\nOutput:\n", "\nPassword hashes:\n"} {
		if !strings.Contains(res.stdout, group) {
			t.Errorf("import help has no %q group:\n%s", strings.TrimSpace(group), res.stdout)
		}
	}
	if strings.Contains(res.stdout, "Other flags") {
		t.Errorf("every import flag belongs to a group:\n%s", res.stdout)
	}
	res = cli("validate", "-h")
	for _, f := range importOnly {
		if strings.Contains(res.stdout, "--"+f+" ") {
			t.Errorf("validate's help lists the import-only flag --%s", f)
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"help", "help"}} {
		if res := cli(args...); res.code != 0 || !strings.Contains(res.stdout, "userimport import") {
			t.Errorf("%v: exit %d, %q", args, res.code, res.stdout)
		}
	}
}

func TestFlagsAfterArgumentsAndSingleDash(t *testing.T) {
	for _, argv := range [][]string{
		{"users.csv", "--rate", "12", "--max-duration", "2m"},
		{"--rate=12", "users.csv", "--max-duration=2m"},
		{"-rate", "12", "-max-duration=2m", "users.csv"}, // Go's flag package's form, still taken
	} {
		c := (&environment{}).importCommand()
		if err := c.flags.parse(argv); err != nil {
			t.Errorf("%v: %v", argv, err)
			continue
		}
		if got := c.flags.Args(); len(got) != 1 || got[0] != "users.csv" {
			t.Errorf("%v: arguments %v", argv, got)
		}
		if v := c.flags.Lookup("rate").Value.String(); v != "12" {
			t.Errorf("%v: --rate %s", argv, v)
		}
		if v := c.flags.Lookup("max-duration").Value.String(); v != (2 * time.Minute).String() {
			t.Errorf("%v: --max-duration %s", argv, v)
		}
	}
	// "--" ends the flags: a file named like a flag can still be imported.
	c := (&environment{}).importCommand()
	if err := c.flags.parse([]string{"--", "-rate"}); err != nil || c.flags.Arg(0) != "-rate" {
		t.Errorf("after --: %v, %v", err, c.flags.Args())
	}
}

func TestRateAuto(t *testing.T) {
	var f apiFlags
	fs := newFlagSet("t", nil)
	f.register(fs, true)
	if err := fs.parse([]string{"--rate", "auto"}); err != nil || !f.rateAuto || f.rate != 0 {
		t.Fatalf("--rate auto: %v, auto %v, rate %v", err, f.rateAuto, f.rate)
	}
	if got := f.pace("sk_live_x"); !got.Auto || got.Rate != 100 || got.Burst != 1000 {
		t.Errorf("auto starts at the documented limit with its burst and probes: got %+v", got)
	}
	if err := fs.parse([]string{"--rate", "2.5"}); err != nil || f.rateAuto || f.rate != 2.5 {
		t.Errorf("--rate 2.5 after auto: %v, auto %v, rate %v", err, f.rateAuto, f.rate)
	}
}
