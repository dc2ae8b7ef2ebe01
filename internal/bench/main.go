// Command bench measures userimport's figures against sandboxes on loopback, each sandbox and
// each userimport run in its own process, and prints one line per figure with its target:
//
//	P1 pacing      --rate 100 under 1000/10s with 20 ms latency: achieved/--rate >= 0.97, no 429s
//	P2 adaptation  --rate 250 under 1000/10s: wall <= 1.10 x 30 s, every row created once
//	P3 overhead    no limit, 16 in flight: userimport users/s >= 1.10 x a loop through the SDK's
//	               user.Client.Create, and >= 0.70 x a plain net/http loop's
//	P4 memory      1M rows: peak RSS <= 100 MB and <= 1.2 x a 10k-row run's
//	P5 faults      500s, HTML 502s, lost responses: every row once, journal = sandbox, exit 0
//	P7 default     no --rate, 80 ms: sk_live_ 3,000 users under 1000/10s and sk_test_ 300 under
//	               100/10s, wall <= 1.05 x (requests - budget)/rate, <= 5 429s, every row once
//	P8 auto        --rate auto, 6,000 users under a raised 3000/10s, 80 ms: creates/s after the
//	               first 10 s >= 0.9 x 300, every row once
//	V1 validate    1M rows, no key: >= 150,000 rows/s, peak RSS <= 100 MB
//
// Notes on each run go to stderr. It exits 1 if any figure misses its target. Run it from the
// module root after `make build` (that is what `make bench` does); -only P1,P3 runs a subset,
// -quick a 10x smaller smoke check whose timings are dominated by start-up costs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// figure is one measured result: its checks against targets and the line that shows them.
type figure struct {
	id, name string
	checks   []check
	err      error // the case could not be measured
}

// check is one comparison against a target, already rendered.
type check struct {
	text string
	ok   bool
}

func (f *figure) add(ok bool, format string, args ...any) {
	f.checks = append(f.checks, check{text: fmt.Sprintf(format, args...), ok: ok})
}

func (f *figure) pass() bool {
	if f.err != nil || len(f.checks) == 0 {
		return false
	}
	for _, c := range f.checks {
		if !c.ok {
			return false
		}
	}
	return true
}

func (f *figure) String() string {
	parts := make([]string, 0, len(f.checks)+1)
	for _, c := range f.checks {
		parts = append(parts, c.text)
	}
	if f.err != nil {
		parts = append(parts, "error: "+f.err.Error())
	}
	verdict := "FAIL"
	if f.pass() {
		verdict = "PASS"
	}
	return fmt.Sprintf("%-3s %-12s %s   %s", f.id, f.name, strings.Join(parts, "   "), verdict)
}

// bcase is one benchmark case; run fills in the figure.
type bcase struct {
	id, name string
	run      func(ctx context.Context, e *env, f *figure) error
}

var cases = []bcase{
	{"P1", "pacing", runP1},
	{"P2", "adaptation", runP2},
	{"P3", "overhead", runP3},
	{"P4", "memory", runP4},
	{"P5", "faults", runP5},
	{"P7", "default", runP7},
	{"P8", "auto rate", runP8},
	{"V1", "validate", runV1},
	{"R1", "report", runR1},
}

// env is what every case shares: the binary, a scratch dir, the scale and where notes go.
type env struct {
	bin   string
	tmp   string
	scale int // divides row counts: 1, or 10 with -quick
	notes io.Writer
}

// n scales a row count down for -quick.
func (e *env) n(rows int) int { return rows / e.scale }

func (e *env) notef(format string, args ...any) {
	fmt.Fprintf(e.notes, "  "+format+"\n", args...)
}

func main() {
	os.Exit(run())
}

func run() int {
	only := flag.String("only", "", "comma-separated cases to run, e.g. P1,P3 (default all)")
	quick := flag.Bool("quick", false, "scale sizes down 10x for a smoke check")
	bin := flag.String("bin", "bin/userimport", "the userimport `binary` to measure")
	keep := flag.Bool("keep", false, "keep the scratch directory (inputs, run folders, logs)")
	cpuProfile := flag.String("cpuprofile", "", "write this program's CPU profile (P3's net/http loop) to `file`")
	flag.Parse()

	selected, err := selectCases(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if _, err := os.Stat(binPath); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v (run `make build` first)\n", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "userimport-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "bench: scratch directory %s is kept\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e := &env{bin: binPath, tmp: tmp, scale: 1, notes: os.Stderr}
	if *quick {
		e.scale = 10
	}
	printMachine(os.Stdout, binPath, *quick)

	began := time.Now()
	failed := 0
	for _, c := range selected {
		f := &figure{id: c.id, name: c.name}
		fmt.Fprintf(os.Stderr, "%s %s ... (load average %s on %d cores)\n", c.id, c.name, loadAvg(), runtime.NumCPU())
		f.err = c.run(ctx, e, f)
		if l, err := strconv.ParseFloat(loadAvg(), 64); err == nil && l > float64(runtime.NumCPU()) {
			fmt.Fprintf(os.Stderr, "  warning: load average %.2f on %d cores: other work on the machine skews %s's timing\n", l, runtime.NumCPU(), c.id)
		}
		fmt.Println(f)
		if !f.pass() {
			failed++
		}
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "bench: interrupted")
			return 130
		}
	}
	took := time.Since(began).Round(time.Second)
	if failed > 0 {
		fmt.Printf("%d of %d figures missed their targets (%s)\n", failed, len(selected), took)
		return 1
	}
	fmt.Printf("all %d figures met their targets (%s)\n", len(selected), took)
	return 0
}

func selectCases(only string) ([]bcase, error) {
	if only == "" {
		return cases, nil
	}
	var out []bcase
	for _, id := range strings.Split(only, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		found := false
		for _, c := range cases {
			if c.id == id {
				out = append(out, c)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("-only: unknown case %q (have %s)", id, caseIDs())
		}
	}
	return out, nil
}

// caseIDs lists the cases' ids, for an -only error.
func caseIDs() string {
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.id
	}
	return strings.Join(ids, " ")
}

// printMachine prints what the figures were measured on.
func printMachine(w io.Writer, bin string, quick bool) {
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "version").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(w, "machine: nproc=%d  %s  cpu=%q  %s/%s\n", runtime.NumCPU(), goVersion, cpuModel(), runtime.GOOS, runtime.GOARCH)
	mode := "full"
	if quick {
		mode = "quick (sizes / 10; fixed start-up costs weigh 10x more in P1, P2 and P3: a smoke check, not the figures)"
	}
	fmt.Fprintf(w, "binary: %s  mode: %s  load average: %s\n", bin, mode, loadAvg())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
