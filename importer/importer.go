// Package importer is the pipeline: source -> mapping -> paced pool -> target -> journal.
// It declares the Target it consumes; main wires in Clerk or the sandbox.
package importer

import (
	"context"
	"errors"
	"fmt"
	"github.com/userimport/userimport/runfolder"
	"io"
	"math/bits"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/userimport/userimport/importer/dupset"
	"github.com/userimport/userimport/importer/pacer"
	"github.com/userimport/userimport/importer/source"
	"github.com/userimport/userimport/mapping"
)

// Target is where users are created: Clerk's Backend API, or the sandbox.
type Target interface {
	Create(ctx context.Context, p *mapping.CreateUserParams) (userID string, err error)
	// FindByExternalID maps each given external_id (at most LookupBatch) to its user's id.
	FindByExternalID(ctx context.Context, ids []string) (map[string]string, error)
	FindByEmail(ctx context.Context, email string) (userID string, found bool, err error)
	Count(ctx context.Context) (int, error)
	// LookupBatch is how many external_ids FindByExternalID takes in one call.
	LookupBatch() int
}

// The error behaviours the pipeline acts on besides pacer.ClassOf's (retryable, throttled,
// ambiguous, fatal, Retry-After); the target decides each once, where the response is seen.
type (
	// conflictError: another user holds an identifier the create carried (param names it).
	conflictError interface {
		Conflict() (param string, ok bool)
	}
	// notFoundError: a delete's user is gone already.
	notFoundError interface{ NotFound() bool }
	// detailedError: what the journal keeps of a refusal.
	detailedError interface {
		Details() (status int, code, param, message string)
	}
)

// rowError turns an error into what the journal keeps of it.
func rowError(err error) *runfolder.RowError {
	if err == nil { // never for a real outcome; a journal line must not take the run down
		return &runfolder.RowError{Code: "error", Message: "no error recorded"}
	}
	var d detailedError
	if errors.As(err, &d) {
		status, code, param, msg := d.Details()
		if code == "" {
			code = "http_error"
		}
		return &runfolder.RowError{Code: code, Param: param, HTTP: status, Message: msg}
	}
	var fe *mapping.FieldError
	if errors.As(err, &fe) {
		return &runfolder.RowError{Code: fe.Code, Param: fe.Field, Message: fe.Message}
	}
	return &runfolder.RowError{Code: "error", Message: err.Error()}
}

// Config is one run.
type Config struct {
	OutDir string
	Header runfolder.Header // the session header; StartedAt is filled in
	Source source.Reader
	Format source.Format
	// HeaderlessCSV: the input has no header line (the mapping names its columns), so the
	// failed file is written without one either.
	HeaderlessCSV bool
	Mapping       *mapping.Mapping
	Joins         Joiner // the --join files' rows, attached to each record before it is mapped; nil for none
	Target        Target
	// Precheck looks rows up by external_id in batches (Target.LookupBatch) before sending
	// them: users already in the instance become `exists` for one request a batch.
	Precheck    bool
	Pacer       *pacer.Pacer
	Concurrency int             // requests in flight; 0: adapt to the latency observed, to sustain the pace
	MaxRetries  int             // failed attempts a row may make after its first; below 0 counts as 0
	Limit       int             // rows to take this session; 0 = all
	MaxDuration time.Duration   // 0 = no limit
	MaxPause    time.Duration   // a 429's Retry-After beyond it stops the run (runfolder.RunStopped); 0 = no limit
	Unreachable time.Duration   // this long with no answer at all stops the run (runfolder.RunStopped); 0 = never
	Stop        <-chan struct{} // closed on the first signal: stop taking rows, drain, flush
	// Preflight runs once there is work to do, before any row: a wrong key costs one request.
	// doneBefore is how many rows earlier sessions finished. An error stops the run as fatal.
	Preflight func(ctx context.Context, doneBefore int) error
	Log       *zap.Logger
	Progress  Progress // optional
	// Fit, when set, checks each row against the instance's sign-up settings (fit.go).
	Fit *Fit
	// Counters, when given, are updated live (for metrics written during the run).
	Counters *Counters
	// Sleep waits between retries; tests replace it. It must return early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// AllowNoExternalID silences the warning for an input whose first rows map no external_id.
	AllowNoExternalID bool
	// Keyed: the input has no stable lines (a database, another Clerk instance, stdin), so its
	// rows are matched to the journal by key (external_id, else the primary identifier), never
	// by number; a session of the same run is never "already complete" (the source may have grown).
	Keyed bool
}

// statusLeft counts, never journals, a row taken from the input but given back unsent on a stop.
const statusLeft runfolder.Status = "left"

// maxProblems bounds the problems kept for the summary; the journal has them all.
const maxProblems = 20

// Counters count a run's API traffic as it goes: the call path's (requests, 429s, retries)
// and the creates among the requests.
type Counters struct {
	pacer.Counters
	Creates atomic.Int64
}

// Progress hears about every settled row; main supplies a bar or periodic log lines.
type Progress interface {
	Row(status runfolder.Status)
}

type nopProgress struct{}

func (nopProgress) Row(runfolder.Status) {}

// job is a row on its way to the target.
type job struct {
	rec        source.Record
	params     *mapping.CreateUserParams
	extID      string
	wasPending bool     // an earlier session sent it and did not hear back: settle first
	dropped    []string // create fields the instance cannot store, left out (fit.go)
	readiness  []string // the instance settings' reason codes for the row
	// key is the row's rowKey, set when extID is not.
	key string
}

// dupChecker is the duplicate table the ordered stage consults: a dupset.Set.
type dupChecker interface {
	Check(p *mapping.CreateUserParams, line int) (firstLine int, field string, err error)
	Reserve(rows int) error // sized for rows up front (see dupset.Set.Reserve)
	Close()
}

// dupFileMin is where an import's duplicate table moves to a file; a variable for the tests.
var dupFileMin = dupset.FileMin

// runner carries one session's shared state.
type runner struct {
	cfg     Config
	journal *runfolder.Writer
	failed  *failedFile
	resume  *resumeState
	dups    dupChecker

	mu     sync.Mutex
	counts map[runfolder.Status]int

	*Counters

	workers int           // goroutines in the pool
	calls   *pacer.Caller // the one path of every request: pace, gate, retries
	pol     policies
	lookupN int // external_ids a look-up takes

	problems []runfolder.Event        // the first maxProblems rows not imported
	fieldN   [len(coverageFields)]int // validate only: rows carrying each coverage field
	dryRun   bool                     // validate: rows are counted "valid", never sent (see Validate)
	recycle  recycler                 // takes back valid rows once counted (see Validate); nil: none

	// tracker learns the columns no record's mapping reads, and rows without external_id.
	tracker     *mapping.KeyTracker
	warnedKeys  bool // warnMissing has spoken
	warnedExtID bool // the ordered stage looked at the first chunk's external_ids
	accepted    bool // the ordered stage has seen a record: the next ambiguous one is not the first
	badHeader   bool // the first record's keys were ambiguous: the run takes no row

	fatalOnce  sync.Once
	fatalErr   error
	halt       chan struct{} // closed on a fatal error: stop taking rows
	stopIntake func()        // gives back rows not yet sent
}

// ErrFatal wraps the error that stopped a run (401, 403, quota, journal I/O).
var ErrFatal = errors.New("run stopped")

// Run imports every row of cfg.Source, resuming the run in cfg.OutDir. ctx ends only on a hard
// abort (a second signal); a graceful stop comes through cfg.Stop, --limit or --max-duration.
func Run(ctx context.Context, cfg Config) (*runfolder.Summary, error) {
	start := time.Now()
	r := newRunner(cfg, start)
	sum := &runfolder.Summary{StartedAt: start.UTC(), Counts: map[runfolder.Status]int{}}
	defer func() { r.resume.close() }() // open replaces the empty state with the journal's
	if done, err := r.open(ctx, sum); done || err != nil {
		sum.FinishedAt = time.Now().UTC()
		return sum, err
	}
	status, runErr := r.run(ctx)
	r.dups.Close()
	r.warnMissing() // a JSON input's keys are known once it has been read
	r.summarize(sum, status, runErr, start)

	ferr := r.failed.Close()
	if r.failed != nil && r.failed.n > 0 {
		sum.FailedFile = r.failed.path
		sum.FailedReasonsFile = r.failed.reasonsPath
	}
	jerr := r.journal.Write(runfolder.Event{Event: runfolder.EventEnd, RunStatus: status})
	if cerr := r.journal.Close(); jerr == nil {
		jerr = cerr
	}
	return sum, errors.Join(runErr, ferr, jerr)
}

func newRunner(cfg Config, start time.Time) *runner {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Progress == nil {
		cfg.Progress = nopProgress{}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = pacer.Sleep
	}
	if cfg.Counters == nil {
		cfg.Counters = &Counters{}
	}
	if cfg.Pacer == nil {
		cfg.Pacer = pacer.New(pacer.Config{}) // unlimited: a validate's pre-check has no --rate
	}
	cfg.Header.Event = "run"
	cfg.Header.StartedAt = start.UTC()
	r := &runner{cfg: cfg, Counters: cfg.Counters, dups: dupset.NewFileMin(cfg.OutDir, dupFileMin), counts: map[runfolder.Status]int{},
		halt: make(chan struct{}), resume: newResumeState()}
	var gate *pacer.Gate
	if cfg.Concurrency > 0 {
		r.workers, gate = cfg.Concurrency, pacer.NewGate(cfg.Concurrency)
	} else {
		// Adaptive: the in-flight gate, not the pool, bounds the requests.
		r.workers, gate = pacer.MaxInflight, pacer.NewAdaptiveGate(cfg.Pacer.Rate())
	}
	r.calls, r.pol = r.newCaller(gate), newPolicies(cfg.MaxRetries)
	if cfg.Target != nil {
		r.lookupN = max(1, cfg.Target.LookupBatch())
	}
	if cfg.Mapping != nil {
		r.tracker = cfg.Mapping.NewKeyTracker(maxUnread)
		if cfg.Source != nil {
			r.observeHeader()
			if cfg.Source.Header() != nil { // a CSV's columns are known up front
				r.warnMissing()
			}
		}
	}
	return r
}

// open reads what earlier sessions left in the run folder and starts this session's journal.
// done: the run was already complete, and there is nothing to do.
func (r *runner) open(ctx context.Context, sum *runfolder.Summary) (done bool, err error) {
	cfg := r.cfg
	journalPath := filepath.Join(cfg.OutDir, runfolder.ResultsFile)
	st, err := loadResumeKeyed(journalPath, cfg.Header, cfg.Keyed)
	if err != nil {
		return false, err
	}
	r.resume = st
	sum.DoneBefore = st.doneN
	if st.same > 0 && st.lastEnd == runfolder.RunComplete && len(st.pending) == 0 && st.undoneN == 0 && !cfg.Keyed {
		sum.RunStatus = runfolder.RunAlready
		return true, nil
	}
	if cfg.Preflight != nil {
		if err := cfg.Preflight(ctx, st.doneN); err != nil {
			sum.RunStatus, sum.Fatal = runfolder.RunFatal, err.Error()
			return false, fmt.Errorf("%w: %w", ErrFatal, err)
		}
	}
	if sk, ok := cfg.Progress.(interface{ Skipped(int) }); ok {
		sk.Skipped(st.doneN)
	}
	if st.same > 0 {
		cfg.Log.Info("resuming run", zap.Int("done_before", st.doneN), zap.Int("pending", len(st.pending)))
	} else if st.doneIDs.len() > 0 {
		cfg.Log.Info("new input in a used run folder: users it already holds are skipped", zap.Int("known_external_ids", st.doneIDs.len()))
	}
	for _, w := range st.damage {
		cfg.Log.Warn("the journal's end is damaged (a crash or a full disk); it is cut off before this session appends", zap.String("damage", w.String()))
	}
	if r.journal, err = runfolder.OpenWriter(journalPath); err != nil {
		return false, err
	}
	if rep := r.journal.Repaired(); rep != nil {
		cfg.Log.Warn("repaired the journal: "+rep.String(), zap.Int64("offset", rep.Offset), zap.Int64("bytes", rep.Bytes))
	}
	if err := r.journal.WriteHeader(cfg.Header); err != nil {
		r.journal.Close()
		return false, err
	}
	header := cfg.Source.Header()
	if cfg.HeaderlessCSV {
		header = nil // so the re-fed file reads like the original, without a header line
	}
	det, _ := source.DetectedOf(cfg.Source)
	r.failed = newFailedFile(cfg.OutDir, cfg.Format, header, det.Dialect)
	return false, nil
}

// summarize fills sum from the finished session.
func (r *runner) summarize(sum *runfolder.Summary, status runfolder.RunStatus, runErr error, start time.Time) {
	sum.RunStatus = status
	sum.Counts = r.snapshotCounts()
	sum.Requests, sum.Creates = r.Requests.Load(), r.Creates.Load()
	sum.Status429, sum.Retries = r.Status429.Load(), r.Retries.Load()
	limit, latency := r.calls.Gate.Current()
	sum.Concurrency, sum.LatencyMS = limit, float64(latency.Microseconds())/1000
	sum.Left = sum.Counts[runfolder.StatusPending] + sum.Counts[statusLeft]
	sum.DoneBefore += sum.Counts[statusDoneBefore]
	delete(sum.Counts, runfolder.StatusPending)
	delete(sum.Counts, statusLeft)
	delete(sum.Counts, statusDoneBefore)
	for _, n := range sum.Counts {
		sum.Rows += n
	}
	el := time.Since(start)
	sum.Elapsed, sum.ElapsedSec = el.Round(time.Millisecond).String(), el.Seconds()
	if s := el.Seconds(); s > 0 {
		sum.RequestRate = float64(sum.Requests) / s
		sum.CreateRate = float64(sum.Counts[runfolder.StatusCreated]) / s
	}
	if (status == runfolder.RunFatal || status == runfolder.RunStopped) && runErr != nil { // why it stopped
		sum.Fatal = strings.TrimPrefix(runErr.Error(), ErrFatal.Error()+": ")
	}
	sum.UnreadFields = r.unread()
	if r.dryRun {
		sum.Fields = map[string]int{}
		for i, n := range r.fieldN {
			if n > 0 {
				sum.Fields[coverageFields[i]] = n
			}
		}
	}
	sum.Problems = r.problems
	sum.Joins = r.joinCounts(sum)
	sum.FinishedAt = time.Now().UTC()
}

// run streams rows through the pool and says how the session ended.
func (r *runner) run(ctx context.Context) (runfolder.RunStatus, error) {
	// intake ends on a graceful stop (signal, --max-duration, fatal error): rows not yet sent
	// are given back; ctx ends only on a hard abort.
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	r.stopIntake = stopIntake
	var deadline <-chan time.Time
	if r.cfg.MaxDuration > 0 {
		t := time.NewTimer(r.cfg.MaxDuration)
		defer t.Stop()
		deadline = t.C
	}
	var why atomic.Int32 // the stopReason that ended intake
	go func() {
		select {
		case <-r.cfg.Stop:
			why.CompareAndSwap(int32(stopNone), int32(stopSignal))
		case <-deadline:
			why.CompareAndSwap(int32(stopNone), int32(stopDeadline))
		case <-intake.Done():
		}
		stopIntake()
	}()
	jobs := make(chan job, min(r.workers, 64))
	var wg sync.WaitGroup
	for range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				r.importRow(ctx, intake, jb)
			}
		}()
	}

	if err := r.settlePending(ctx, intake); err != nil {
		r.setFatal(err)
	}
	limited, readErr := r.feed(intake, jobs)
	close(jobs)
	wg.Wait()

	stopped := stopReason(why.Load())
	if (limited || stopped == stopDeadline || r.fatalErr != nil) && readErr == nil {
		readErr = r.countRest(ctx) // a time-boxed or stopped run says how much is left
	}
	switch {
	case pacer.ClassOf(r.fatalErr) == pacer.Halted: // a clean stop: nothing sent is left undone
		return runfolder.RunStopped, r.fatalErr
	case r.fatalErr != nil:
		return runfolder.RunFatal, fmt.Errorf("%w: %w", ErrFatal, r.fatalErr)
	case readErr != nil && intake.Err() == nil:
		return runfolder.RunFatal, readErr
	case ctx.Err() != nil, stopped == stopSignal:
		return runfolder.RunInterrupted, nil
	case limited, stopped == stopDeadline:
		return runfolder.RunStopped, nil
	}
	c := r.snapshotCounts()
	if c[runfolder.StatusPending]+c[statusLeft] > 0 {
		return runfolder.RunInterrupted, nil
	}
	if c[runfolder.StatusFailed]+c[runfolder.StatusInvalid]+c[runfolder.StatusDuplicate] > 0 {
		return runfolder.RunWithFailures, nil
	}
	return runfolder.RunComplete, nil
}

type stopReason int32

const (
	stopNone stopReason = iota
	stopSignal
	stopDeadline
)

// recycler is a source that can read a later record into the memory of one nobody holds any
// more (a database row: its allocation is most of what a row costs the GC).
type recycler interface {
	Recycle(source.Record)
}

// chunk is a run of consecutive records mapped together: handing rows to the mapping
// goroutines in chunks keeps the synchronisation cost per row small.
type chunk struct {
	rows []mapped
	done chan struct{} // closed once every row is mapped
}

const chunkRows = 128

// feed reads rows, maps them on every core, takes them back in input order, checks them, and
// hands the sendable ones to the workers until the input ends, intake ends, or --limit rows are
// taken (limited).
func (r *runner) feed(intake context.Context, jobs chan<- job) (limited bool, err error) {
	// Rows are taken back in input order: while the OS runs something else on a mapper's core
	// (a database server, say), its chunk holds up the others. For validate, which only maps,
	// eight chunks of slack (about 5 ms of mapping) left a PostgreSQL read's cores a quarter
	// less idle than four, for ~8 MB more; an import, paced by Clerk, keeps four and its memory.
	slack := 4
	if r.dryRun {
		slack = 8
	}
	work := make(chan *chunk, slack)
	ordered := make(chan *chunk, slack)
	var mappers sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		mappers.Add(1)
		go func() {
			defer mappers.Done()
			for c := range work {
				for i := range c.rows {
					r.mapRow(&c.rows[i])
				}
				close(c.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(ordered)
		defer close(work)
		limited, readErr = r.read(intake, work, ordered)
	}()

	var batch []job // rows waiting for the pre-check
	for c := range ordered {
		<-c.done
		if !r.dryRun {
			r.warnExternalID(c) // the first chunk only
		}
		for i := range c.rows {
			jb, ok := r.accept(&c.rows[i])
			if !ok {
				continue
			}
			if r.cfg.Precheck && r.cfg.Target != nil && jb.extID != "" && !jb.wasPending {
				if batch = append(batch, jb); len(batch) == r.lookupN {
					r.flushBatch(intake, jobs, batch)
					batch = batch[:0]
				}
				continue
			}
			r.dispatch(intake, jobs, jb)
			if r.recycle != nil {
				r.recycle.Recycle(jb.rec)
			}
		}
	}
	mappers.Wait()
	r.flushBatch(intake, jobs, batch)
	return limited, readErr
}

// read fills chunks from the source, skipping rows finished by an earlier session.
func (r *runner) read(intake context.Context, work, ordered chan<- *chunk) (limited bool, err error) {
	taken := 0
	c := &chunk{done: make(chan struct{})}
	send := func() bool {
		if len(c.rows) == 0 {
			return true
		}
		select {
		case ordered <- c:
		case <-intake.Done():
			for range c.rows {
				r.tally(statusLeft) // read but never handed on: given back
			}
			c.rows = c.rows[:0]
			return false
		}
		work <- c // mappers never stop before work is closed, so this cannot block for good
		c = &chunk{rows: make([]mapped, 0, chunkRows), done: make(chan struct{})}
		return true
	}
	defer func() { send() }()
	for intake.Err() == nil {
		rec, err := r.cfg.Source.Next(intake)
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			select {
			case <-r.cfg.Stop: // a stop ended a read blocked on stdin: intake ends, not the input
				<-intake.Done()
				return false, nil
			default:
			}
			return false, fmt.Errorf("read input: %w", err)
		}
		// Done before: mapped only for its identifiers, which a later row may repeat (keyed rows
		// done before are otherwise found after the parallel mapping); not counted by --limit.
		done := r.resume.done.has(rec.Num) || r.cfg.Limit > 0 && r.keyedDone(rec)
		if !done {
			if r.cfg.Limit > 0 && taken >= r.cfg.Limit {
				r.tally(statusLeft)
				return true, nil
			}
			taken++
		}
		c.rows = append(c.rows, mapped{rec: rec, done: done})
		if len(c.rows) == chunkRows && !send() {
			return false, nil
		}
	}
	return false, nil
}

// flushBatch looks the batch's rows up by external_id in one request: those found are already
// in the instance (adopted as `exists`); the rest go on to be created.
func (r *runner) flushBatch(intake context.Context, jobs chan<- job, batch []job) {
	if len(batch) == 0 {
		return
	}
	if intake.Err() != nil {
		for range batch {
			r.count(statusLeft)
		}
		return
	}
	ids := make([]string, len(batch))
	for i, jb := range batch {
		ids[i] = jb.extID
	}
	var found map[string]string
	var t pacer.Tries
	err := r.calls.Call(intake, r.pol.precheck, &t, func(ctx context.Context) error { // a stop cancels it: it creates nothing
		var err error
		found, err = r.cfg.Target.FindByExternalID(ctx, ids)
		return err
	})
	if err != nil && r.stopOn(err) {
		for range batch {
			r.count(statusLeft)
		}
		return
	}
	if err != nil && intake.Err() == nil {
		// The pre-check is an optimisation: each row still meets its own 422-then-look-up path.
		r.cfg.Log.Warn("pre-check look-up failed; sending the rows anyway", zap.Error(err))
	}
	for _, jb := range batch {
		if id, ok := found[jb.extID]; ok {
			r.settle(jb, runfolder.Event{Status: runfolder.StatusExists, UserID: id, Settled: "precheck"})
			continue
		}
		r.dispatch(intake, jobs, jb)
	}
}

// dispatch hands a checked row to the workers, or in a dry run counts it as valid.
func (r *runner) dispatch(intake context.Context, jobs chan<- job, jb job) {
	if r.dryRun {
		r.count("valid")
		return
	}
	select {
	case jobs <- jb:
	case <-intake.Done():
		r.count(statusLeft)
	}
}

// countRest reads the rest of the input, counting the rows still to do as left.
func (r *runner) countRest(ctx context.Context) error {
	for ctx.Err() == nil {
		rec, err := r.cfg.Source.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if !r.resume.done.has(rec.Num) && !r.keyedDone(rec) {
			r.tally(statusLeft)
		}
	}
	return nil
}

// mapped is a record after the parallel stage: its create body, or why it has none.
type mapped struct {
	rec    source.Record
	params *mapping.CreateUserParams
	err    *runfolder.RowError
	skip   bool  // err says why the mapping left the row out on purpose: journaled skipped
	done   bool  // finished by an earlier session of this run: only its identifiers count
	header error // a *HeaderError: the record's keys match one mapped key twice
	// providers are the social providers the source says the user signs in with (fit.go)
	providers []string
}

// mapRow maps and validates one record. It touches no shared state, so rows are mapped on
// every core while the ordered stage (accept) keeps the input's order for duplicates.
func (r *runner) mapRow(m *mapped) {
	if m.rec.Err != nil {
		m.err = &runfolder.RowError{Code: "unreadable_row", Message: m.rec.Err.Error()}
		return
	}
	var mrec mapping.Record
	if d, ok := m.rec.Decoded.(mapping.Record); ok { // a database row: no JSON round trip
		mrec, m.rec.Decoded = d, nil // not held while the chunk waits for its turn
	} else if r.cfg.Format == source.CSV {
		mrec = mapping.CSVRecord(r.cfg.Source.Header(), m.rec.Cells)
	} else {
		var err error
		if mrec, err = mapping.JSONRecord(m.rec.Raw); err != nil {
			m.err = &runfolder.RowError{Code: "invalid_record", Message: err.Error()}
			return
		}
	}
	if r.cfg.Joins != nil {
		var err error
		if mrec, err = r.cfg.Joins.Wrap(mrec); err != nil { // the run folder's disk failed
			r.setFatal(err) // the row stays unfinished: the next session takes it again
			m.err = &runfolder.RowError{Code: "join_unreadable", Message: err.Error()}
			return
		}
	}
	p, err, verr := r.cfg.Mapping.ApplyValid(mrec)
	r.tracker.Observe(mrec, p)
	if err != nil { // errors.As costs an allocation: not on the common path
		if m.err = skipOf(err); m.err != nil {
			m.skip = true
			return
		}
		var ae *mapping.AmbiguousError
		if errors.As(err, &ae) {
			m.header = &HeaderError{Err: ae}
		}
	}
	if err == nil {
		err = verr
	}
	m.params = p
	if err != nil {
		m.err = rowError(err)
	} else if r.cfg.Fit.active() {
		m.providers = providersOf(mrec)
	}
}

// accept takes mapped rows in input order: the invalid, the already imported and the in-file
// duplicates are settled here; the rest are returned to be sent.
func (r *runner) accept(m *mapped) (job, bool) {
	jb := job{rec: m.rec, params: m.params}
	first := !r.accepted
	r.accepted = true
	if m.header != nil && first {
		// The header (a JSON input's first record's keys) cannot be read safely: no row can.
		r.badHeader = true
		r.setFatal(m.header)
	}
	if r.badHeader {
		r.count(statusLeft) // not settled: the run stops before any row
		return jb, false
	}
	if m.done {
		r.noteDone(m)
		return jb, false // counted in done_before from the journal
	}
	if m.params != nil {
		jb.extID, jb.key = m.params.ExternalIDValue(), rowKey(m.params)
	}
	if m.skip {
		r.settle(jb, runfolder.Event{Status: runfolder.StatusSkipped, Error: m.err})
		return jb, false
	}
	if m.err != nil {
		r.settle(jb, runfolder.Event{Status: runfolder.StatusInvalid, Error: m.err})
		return jb, false
	}
	if r.resume.doneBefore(jb.matchKey()) {
		r.noteDone(m)
		return jb, false // a session of this run finished it: counted in done_before
	}
	if k := jb.matchKey(); k != "" && r.resume.doneIDs.has(k) {
		// An earlier session (perhaps of another export) created or adopted this user.
		r.noteDone(m)
		r.doneBefore()
		return jb, false
	}
	if err := r.resume.err(); err != nil { // a resume set on disk could not be read: fatal, as a journal read's failure is
		r.setFatal(err)
		r.count(statusLeft) // not settled: the next session takes it again
		return jb, false
	}
	if !r.fit(&jb, m) {
		return jb, false
	}
	firstLine, field, err := r.dups.Check(jb.params, m.rec.Line)
	if err != nil { // the run folder's disk failed: fatal, as a journal write's failure is
		r.setFatal(err)
		r.count(statusLeft) // not settled: the next session takes it again
		return jb, false
	}
	if firstLine > 0 {
		r.settle(jb, runfolder.Event{Status: runfolder.StatusDuplicate, DupOfLine: firstLine, Error: &runfolder.RowError{
			Code: "duplicate_in_input", Param: field,
			Message: fmt.Sprintf("same %s as line %d", field, firstLine)}})
		return jb, false
	}
	jb.wasPending = r.resume.wasPending(m.rec.Num, jb.matchKey())
	if r.dryRun {
		r.mu.Lock()
		for m := presentFields(jb.params); m != 0; m &= m - 1 {
			r.fieldN[bits.TrailingZeros32(m)]++
		}
		r.mu.Unlock()
	}
	return jb, true
}

// noteDone enters a row finished before into the duplicate table, as the session that
// created it did: a later row with the same email is still a duplicate, not a create that
// Clerk refuses.
func (r *runner) noteDone(m *mapped) {
	if m.params == nil || m.err != nil {
		return
	}
	if _, _, err := r.dups.Check(m.params, m.rec.Line); err != nil {
		r.setFatal(err) // the run folder's disk failed, as a journal write's failure is fatal
	}
}

// settle journals a row's final state, keeps failed rows for failed.<ext>, and counts it.
func (r *runner) settle(jb job, e runfolder.Event) {
	e.Row, e.Line = jb.rec.Num, jb.rec.Line
	if e.ExternalID == "" {
		e.ExternalID = jb.extID
	}
	if e.ExternalID == "" && e.Key == "" {
		e.Key = jb.key
	}
	if e.Dropped == nil && e.Readiness == nil && e.Settled != "precheck" { // what was sent, or refused
		e.Dropped, e.Readiness = jb.dropped, jb.readiness
	}
	if err := r.journal.Write(e); err != nil {
		r.setFatal(err)
	}
	switch e.Status {
	case runfolder.StatusFailed, runfolder.StatusInvalid, runfolder.StatusDuplicate:
		r.mu.Lock()
		if len(r.problems) < maxProblems {
			r.problems = append(r.problems, e)
		}
		r.mu.Unlock()
		if err := r.failed.Write(jb.rec, e); errors.Is(err, source.ErrNoContent) {
			r.cfg.Log.Warn("row too large to write back to the failed file", zap.Int("line", jb.rec.Line))
		} else if err != nil {
			r.setFatal(fmt.Errorf("write failed rows: %w", err))
		}
		fields := []zap.Field{zap.Int("line", e.Line), zap.String("status", string(e.Status))}
		if e.ExternalID != "" {
			fields = append(fields, zap.String("external_id", e.ExternalID))
		}
		if e.Error != nil {
			fields = append(fields, zap.String("code", e.Error.Code))
			if e.Error.Param != "" {
				fields = append(fields, zap.String("param", e.Error.Param))
			}
			fields = append(fields, zap.String("message", e.Error.Message))
		}
		r.cfg.Log.Warn("row not imported", fields...)
	}
	r.count(e.Status)
}

func (r *runner) count(status runfolder.Status) {
	r.tally(status)
	r.cfg.Progress.Row(status)
}

// tally counts a row without showing it as progress.
func (r *runner) tally(status runfolder.Status) {
	r.mu.Lock()
	r.counts[status]++
	r.mu.Unlock()
}

func (r *runner) snapshotCounts() map[runfolder.Status]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(map[runfolder.Status]int, len(r.counts))
	for k, v := range r.counts {
		c[k] = v
	}
	return c
}

func (r *runner) setFatal(err error) {
	r.fatalOnce.Do(func() {
		r.fatalErr = err
		close(r.halt)
		if r.stopIntake != nil {
			r.stopIntake()
		}
		r.cfg.Log.Error("stopping the run", zap.Error(err))
	})
}

func (r *runner) halted() bool {
	select {
	case <-r.halt:
		return true
	default:
		return false
	}
}
