package sandbox

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLimit parses a rate limit such as "1000/10s" or "100/s"; "", "0" and "none" mean unlimited.
func ParseLimit(s string) (n int, window time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || s == "none" || s == "unlimited" {
		return 0, 0, nil
	}
	num, win, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("limit %q: want N/DURATION, e.g. 1000/10s", s)
	}
	n, err = strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, 0, fmt.Errorf("limit %q: bad count", s)
	}
	if win != "" && (win[0] < '0' || win[0] > '9') {
		win = "1" + win // "100/s" means per one second
	}
	window, err = time.ParseDuration(win)
	if err != nil || window <= 0 {
		return 0, 0, fmt.Errorf("limit %q: bad window", s)
	}
	if n == 0 {
		return 0, 0, nil
	}
	return n, window, nil
}

// listFlag appends each comma-separated, checked value to *dst.
func listFlag(dst *[]string, check func(string) (string, error)) func(string) error {
	return func(v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			item, err := check(item)
			if err != nil {
				return err
			}
			*dst = append(*dst, item)
		}
		return nil
	}
}

// RegisterFlags adds the `userimport sandbox` flags to fs, writing into o. The key is not a
// flag: secrets never go on a command line.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Func("limit", "rate limit over all API calls, N/DURATION (Clerk production: 1000/10s, development: 100/10s); 0 = none",
		func(v string) error {
			n, w, err := ParseLimit(v)
			if err != nil {
				return err
			}
			o.Limit, o.Window = n, w
			return nil
		})
	fs.IntVar(&o.UserCap, "user-cap", o.UserCap, "maximum users (Clerk development instances: 100); 0 = unlimited")
	fs.Func("require", "attribute required at sign-up ("+attributeList+"): a create without it gets 422 form_data_missing; repeatable or comma-separated",
		listFlag(&o.Required, func(v string) (string, error) {
			if !knownAttribute(v) {
				return "", fmt.Errorf("cannot require %q (known: %s)", v, attributeList)
			}
			return v, nil
		}))
	fs.Func("disable", "attribute switched off in the instance (same names as --require): a create giving it gets 422 form_param_unknown; repeatable or comma-separated",
		listFlag(&o.Disabled, func(v string) (string, error) {
			if !knownAttribute(v) {
				return "", fmt.Errorf("cannot disable %q (known: %s)", v, attributeList)
			}
			return v, nil
		}))
	fs.Func("social", "social connection switched on, e.g. oauth_google or google (served in the Frontend API environment); repeatable or comma-separated",
		listFlag(&o.Social, func(v string) (string, error) {
			st, ok := normaliseSocial(v)
			if !ok {
				return "", fmt.Errorf("social connection %q: want a provider such as oauth_google", v)
			}
			return st, nil
		}))
	fs.BoolVar(&o.FailEnvironment, "fail-environment", o.FailEnvironment, "the Frontend API's GET /v1/environment answers 500, so instance settings cannot be read")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "fixed latency added to every request")
	fs.DurationVar(&o.Jitter, "jitter", o.Jitter, "random extra latency up to this much")
	fs.Float64Var(&o.Fail500, "fail-500", o.Fail500, "rate of JSON 500 responses (user not created)")
	fs.Float64Var(&o.Fail503, "fail-503", o.Fail503, "rate of JSON 503 responses (user not created)")
	fs.Float64Var(&o.HTML502, "html-502", o.HTML502, "rate of HTML 502 responses from a 'proxy' (user not created)")
	fs.Float64Var(&o.DropAfterCommit, "drop-after-commit", o.DropAfterCommit, "rate of creates that commit, then drop the connection")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed for faults and jitter (same seed, same sequence)")
	fs.StringVar(&o.StateFile, "state", o.StateFile, "file to load users from and save them to, so a rehearsal survives a restart")
}
