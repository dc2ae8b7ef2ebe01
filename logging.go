package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/userimport/userimport/runfolder"
)

// newLogger logs warnings (info with -v) to stderr for the operator, and everything, unsampled,
// as JSON to the run folder's log.jsonl. The production preset is not used: it samples and
// would drop repeated row failures.
func newLogger(dir string, stderr io.Writer, verbose bool) (*zap.Logger, func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, runfolder.LogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open log: %w", err)
	}
	level := zapcore.WarnLevel
	if verbose {
		level = zapcore.InfoLevel
	}
	consoleCfg := zap.NewDevelopmentEncoderConfig()
	consoleCfg.TimeKey = ""
	consoleCfg.CallerKey = ""
	consoleCfg.NameKey = ""
	consoleCfg.StacktraceKey = ""
	jsonCfg := zap.NewProductionEncoderConfig()
	jsonCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	consoleCore := zapcore.NewCore(zapcore.NewConsoleEncoder(consoleCfg), zapcore.AddSync(stderr), level)
	if c, ok := stderr.(*console); ok { // a run's stderr: the first few bad rows, between bar redraws
		consoleCore = c.capRows(consoleCore)
	}
	core := zapcore.NewTee(
		consoleCore,
		zapcore.NewCore(zapcore.NewJSONEncoder(jsonCfg), zapcore.AddSync(f), zapcore.DebugLevel),
	)
	log := zap.New(core)
	return log, func() {
		_ = log.Sync() // Sync on a terminal returns an error: nothing to do about it
		f.Close()
	}, nil
}
