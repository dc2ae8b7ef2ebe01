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
	fs.Func("require", "identifier required on create (email_address, phone_number, username, password...); repeatable or comma-separated",
		func(v string) error {
			for _, r := range strings.Split(v, ",") {
				if r = strings.TrimSpace(r); r != "" {
					if _, ok := requirable[r]; !ok {
						return fmt.Errorf("cannot require %q", r)
					}
					o.Required = append(o.Required, r)
				}
			}
			return nil
		})
	fs.DurationVar(&o.Latency, "latency", o.Latency, "fixed latency added to every request")
	fs.DurationVar(&o.Jitter, "jitter", o.Jitter, "random extra latency up to this much")
	fs.Float64Var(&o.Fail500, "fail-500", o.Fail500, "rate of JSON 500 responses (user not created)")
	fs.Float64Var(&o.Fail503, "fail-503", o.Fail503, "rate of JSON 503 responses (user not created)")
	fs.Float64Var(&o.HTML502, "html-502", o.HTML502, "rate of HTML 502 responses from a 'proxy' (user not created)")
	fs.Float64Var(&o.DropAfterCommit, "drop-after-commit", o.DropAfterCommit, "rate of creates that commit, then drop the connection")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed for faults and jitter (same seed, same sequence)")
	fs.StringVar(&o.StateFile, "state", o.StateFile, "file to load users from and save them to, so a rehearsal survives a restart")
}
