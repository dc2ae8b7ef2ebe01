// Command prof runs userimport's validate or import pipeline in process under pprof, to find
// where the time and memory of a missed bench figure go. It wires the packages as main.go does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/clerk/sandbox"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/runfolder"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "prof:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "validate", "validate, import, or sandbox (serve one under the CPU profiler until interrupted)")
	cpu := flag.String("cpu", "", "write a CPU profile to `file`")
	heap := flag.String("heap", "", "write a heap profile (in use at the end) to `file`")
	api := flag.String("api", "", "sandbox API URL for -mode import (http://127.0.0.1:PORT/v1)")
	out := flag.String("out", "", "run folder for -mode import")
	conc := flag.Int("concurrency", 16, "in-flight requests for -mode import")
	addr := flag.String("addr", "127.0.0.1:18800", "listen address for -mode sandbox")
	flag.Parse()
	if *mode == "sandbox" {
		return serveSandbox(*addr, *cpu)
	}
	if flag.NArg() != 1 {
		return fmt.Errorf("want one input CSV")
	}
	m, err := mapping.Preset("native", mapping.PresetOptions{})
	if err != nil {
		return err
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	src, err := source.Open(f, source.Options{Format: source.CSV, MaxRecordSize: 1 << 20, Header: m.CSVHeader()})
	if err != nil {
		return err
	}
	defer src.Close()

	cfg := importer.Config{Source: src, Format: source.CSV, Mapping: m}
	if *mode == "import" {
		key := "sk_test_userimport_bench"
		target, err := clerk.New(clerk.Config{URL: *api, Key: key, RequestTimeout: 30 * time.Second})
		if err != nil {
			return err
		}
		if err := runfolder.MakeDir(*out); err != nil {
			return err
		}
		cfg.OutDir, cfg.Target, cfg.Concurrency, cfg.MaxRetries = *out, target, *conc, 5
		cfg.Pacer = pacer.New(pacer.Config{Rate: 1e6})
		cfg.Header = runfolder.Header{Tool: "prof", Input: filepath.Base(flag.Arg(0)), APIURL: *api,
			KeyFingerprint: clerk.Fingerprint(key)}
	}
	stop, err := startCPUProfile(*cpu)
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	sum, err := importer.Run(context.Background(), cfg)
	if sum == nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s: %d rows in %.2fs (%.0f rows/s), counts %v; heap in use %.1f MB, sys %.1f MB, GCs %d\n",
		*mode, sum.Rows, time.Since(start).Seconds(), float64(sum.Rows)/time.Since(start).Seconds(), sum.Counts,
		float64(ms.HeapInuse)/1e6, float64(ms.Sys)/1e6, ms.NumGC)
	if *heap != "" {
		hf, err := os.Create(*heap)
		if err != nil {
			return err
		}
		defer hf.Close()
		if err := pprof.Lookup("heap").WriteTo(hf, 0); err != nil {
			return err
		}
	}
	return err
}

// serveSandbox serves a default sandbox under the CPU profiler until SIGINT or SIGTERM.
func serveSandbox(addr, cpu string) error {
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		return err
	}
	stop, err := startCPUProfile(cpu)
	if err != nil {
		return err
	}
	defer stop()
	url, err := sb.Start(addr)
	if err != nil {
		return err
	}
	fmt.Println("sandbox at", url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return sb.Close()
}

// startCPUProfile profiles this process into path ("" for none) until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
