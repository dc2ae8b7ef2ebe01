package sandbox_test

import (
	"flag"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/userimport/userimport/clerk/sandbox"
)

func TestParseLimit(t *testing.T) {
	good := map[string]struct {
		n int
		w time.Duration
	}{
		"1000/10s": {1000, 10 * time.Second}, "100/s": {100, time.Second}, "5/1m": {5, time.Minute},
		"": {0, 0}, "0": {0, 0}, "none": {0, 0}, "0/10s": {0, 0},
	}
	for in, want := range good {
		n, w, err := sandbox.ParseLimit(in)
		if err != nil || n != want.n || w != want.w {
			t.Errorf("ParseLimit(%q) = %d, %v, %v", in, n, w, err)
		}
	}
	for _, in := range []string{"1000", "x/10s", "10/0s", "10/abc", "-1/s"} {
		if _, _, err := sandbox.ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) accepted", in)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	var o sandbox.Options
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.RegisterFlags(fs)
	err := fs.Parse([]string{"--limit", "100/10s", "--user-cap", "100", "--require", "email_address,username",
		"--require", "password", "--latency", "5ms", "--jitter", "2ms", "--fail-500", "0.1", "--fail-503", "0.05",
		"--html-502", "0.01", "--drop-after-commit", "0.02", "--seed", "7", "--state", "s.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Limit != 100 || o.Window != 10*time.Second || o.UserCap != 100 ||
		!slices.Equal(o.Required, []string{"email_address", "username", "password"}) ||
		o.Latency != 5*time.Millisecond || o.Jitter != 2*time.Millisecond || o.Fail500 != 0.1 ||
		o.Fail503 != 0.05 || o.HTML502 != 0.01 || o.DropAfterCommit != 0.02 || o.Seed != 7 || o.StateFile != "s.jsonl" {
		t.Errorf("options %+v", o)
	}
	if err := fs.Parse([]string{"--require", "shoe_size"}); err == nil {
		t.Error("unknown requirement accepted")
	}
}
