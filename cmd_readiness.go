package main

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
)

// readinessFirstRows is how many rows of each class and reason the readiness report names.
const readinessFirstRows = 5

// readinessRetries bounds the retries of the two settings reads.
const readinessRetries = 2

const strictFieldsHelp = "refuse rows that would lose a field the instance cannot store, rather than drop the field"

// registerStrictFields adds --strict-fields to import's and validate's flags.
func registerStrictFields(fs *flagSet, strict *bool) {
	fs.BoolVar(strict, "strict-fields", false, strictFieldsHelp)
}

// pacedInstance reads the instance's settings on the run's one call path: the Backend API's
// GET /v1/domains takes a slot of the run's pace; the Frontend API's GET /v1/environment does
// not count against the Backend API's limit, so it is only retried, not paced.
type pacedInstance struct {
	c        *clerk.Client
	api, fap *pacer.Caller
}

func newPacedInstance(c *clerk.Client, pc *pacer.Pacer) *pacedInstance {
	caller := func(p *pacer.Pacer) *pacer.Caller {
		return &pacer.Caller{Pacer: p, Gate: pacer.NewGate(1), Counters: &pacer.Counters{}}
	}
	return &pacedInstance{c: c, api: caller(pc), fap: caller(pacer.New(pacer.Config{}))}
}

func (p *pacedInstance) FrontendAPI(ctx context.Context) (url string, err error) {
	err = p.api.Call(ctx, pacer.Idempotent(readinessRetries), &pacer.Tries{}, func(ctx context.Context) error {
		url, err = p.c.FrontendAPI(ctx)
		return err
	})
	return url, err
}

func (p *pacedInstance) Environment(ctx context.Context, frontendAPI string) (body []byte, err error) {
	err = p.fap.Call(ctx, pacer.Idempotent(readinessRetries), &pacer.Tries{}, func(ctx context.Context) error {
		body, err = p.c.Environment(ctx, frontendAPI)
		return err
	})
	return body, err
}

// loadReadiness reads the instance's sign-up settings; on an error the settings are nil and
// the error says why (the report then flags nothing: "could not read" is not "switched off").
func loadReadiness(ctx context.Context, c *clerk.Client, pc *pacer.Pacer) (*readiness.Settings, error) {
	return readiness.Load(ctx, newPacedInstance(c, pc))
}

// readinessPass classifies every row of the input file once, as the import will, before the
// first create: the whole file is read and mapped a second time, nothing is sent. ok is false
// for stdin, which cannot be read twice: its rows are classified as they are sent.
func (e *environment) readinessPass(ctx context.Context, path, dupDir string, fl *inputFlags, m *mapping.Mapping,
	s *readiness.Settings, readErr error, strict bool, stop <-chan struct{}) (t *readiness.Tally, ok bool, err error) {
	if readOnce(path) {
		return nil, false, nil
	}
	in, err := openInput(path, nil, nil, fl, m, false)
	if err != nil {
		return nil, false, err
	}
	defer in.Close()
	t = readiness.NewTally(s, readErr, readinessFirstRows)
	if _, err := importer.Validate(ctx, importer.ValidateConfig{Source: in.reader, Format: in.format, Mapping: m, DupDir: dupDir,
		Stop: stop, Fit: &importer.Fit{Settings: s, Strict: strict, Tally: t}}); err != nil {
		return nil, false, fmt.Errorf("readiness check: %w", err)
	}
	return t, true, nil
}

// importReadiness is import's pre-flight readiness step, run once there is work to do: it reads
// the settings into fit (each row is then classified before it is sent), and prints the report
// for the whole file on stderr and into the log before the first create.
func (e *environment) importReadiness(ctx context.Context, fit *importer.Fit, c *clerk.Client, pc *pacer.Pacer,
	path, out string, fl *inputFlags, m *mapping.Mapping, stop <-chan struct{}, log *zap.Logger) error {
	s, readErr := loadReadiness(ctx, c, pc)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if readErr != nil {
		log.Warn("could not read the instance's settings: nothing is checked against them", zap.Error(readErr))
	}
	fit.Settings, fit.Tally = s, readiness.NewTally(s, readErr, readinessFirstRows)
	if s == nil {
		return nil
	}
	t, ok, err := e.readinessPass(ctx, path, out, fl, m, s, nil, fit.Strict, stop)
	if err != nil { // the run meets the input's problem itself, row by row or as it says
		log.Warn("no readiness report before the first create; each row is still checked as it is sent", zap.Error(err))
		return nil
	}
	select {
	case <-stop: // a signal during the pass: the report would count part of the file
		return nil
	default:
	}
	if !ok {
		log.Info("readiness: the input is read once (stdin), so its rows are checked as they are sent; the report comes at the end")
		return nil
	}
	e.logReadiness(t, log, "readiness before the first create")
	return nil
}

// logReadiness prints the report on stderr and keeps its counts and reasons in the log.
func (e *environment) logReadiness(t *readiness.Tally, log *zap.Logger, msg string) {
	var b strings.Builder
	_ = t.Render(&b)
	e.printf(e.stderr, "%s", b.String())
	sum := t.Summary()
	log.Info(msg, zap.Int("rows", sum.Rows), zap.Int("full", sum.Full), zap.Int("without_something", sum.WithoutSomething),
		zap.Int("will_not_import", sum.WillNotImport), zap.Any("reasons", sum.Reasons))
}

// importReadinessEnd reports, for an input read once (stdin), what the session's rows met.
func (e *environment) importReadinessEnd(fit *importer.Fit, path string, log *zap.Logger) {
	if readOnce(path) && fit.Settings != nil && fit.Tally != nil && fit.Tally.Rows() > 0 {
		e.logReadiness(fit.Tally, log, "readiness of the rows this session read")
	}
}

// validateReadiness is validate's: with a key, the settings are read once and every valid row is
// classified against them.
func validateReadiness(ctx context.Context, c *clerk.Client, pc *pacer.Pacer, strict bool) *importer.Fit {
	s, err := loadReadiness(ctx, c, pc)
	return &importer.Fit{Settings: s, Strict: strict, Tally: readiness.NewTally(s, err, readinessFirstRows)}
}
