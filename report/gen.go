package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/userimport/userimport/runfolder"
)

// genFailures are the refusals GenerateJournal sprinkles over its rows, with how often (per 10,000).
var genFailures = []struct {
	per10k int
	status runfolder.Status
	err    runfolder.RowError
}{
	{60, runfolder.StatusFailed, runfolder.RowError{Code: "form_identifier_exists", Param: "email_address", HTTP: 422, Message: "That email address is taken. Please try another."}},
	{25, runfolder.StatusFailed, runfolder.RowError{Code: "form_password_pwned", Param: "password", HTTP: 422, Message: "Password has been found in an online data breach."}},
	{15, runfolder.StatusInvalid, runfolder.RowError{Code: "form_param_format_invalid", Param: "phone_number", Message: "phone_number must be in E.164 format"}},
	{10, runfolder.StatusDuplicate, runfolder.RowError{Code: "duplicate_in_input", Param: "external_id", Message: "same external_id as an earlier line"}},
}

// GenerateJournal writes dir/results.jsonl and dir/summary.json for a realistic run of rows
// rows: one session at about 80 creates a second, ~1% refusals of a few kinds, some adopted
// users and a burst of 429s with retries every few minutes. Benchmarks time Build on it.
func GenerateJournal(dir string, rows int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, runfolder.ResultsFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(w)

	start := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(uint64(rows), 2026))
	h := runfolder.Header{Event: "run", Tool: "userimport", Version: "v1.0.0", Input: "exports/users.csv",
		InputSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Format: "csv",
		Mapping: "preset:auth0", MappingSHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		APIURL: "https://api.clerk.com/v1", KeyFingerprint: "3c9a1f0e7b2d", StartedAt: start}
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	counts := map[runfolder.Status]int{}
	var throttled, retries int64
	at := start
	for row := 1; row <= rows; row++ {
		at = at.Add(time.Duration(8+rng.IntN(9)) * time.Millisecond) // ~80 rows a second
		ext := fmt.Sprintf("auth0|%08d", row)
		ev := runfolder.Event{Row: row, Line: row + 1, ExternalID: ext, At: at}
		// A 429 storm every ~20,000 rows: the pacer halves, every worker waits, calls retry.
		if row%20000 == 0 {
			for i := 0; i < 8; i++ {
				at = at.Add(50 * time.Millisecond)
				if err := enc.Encode(runfolder.Event{Event: runfolder.EventThrottled, At: at}); err != nil {
					return fmt.Errorf("generate journal: %w", err)
				}
				if err := enc.Encode(runfolder.Event{Event: runfolder.EventRetry, Attempts: 1, At: at,
					Error: &runfolder.RowError{Code: "too_many_requests", HTTP: 429, Message: "Too many requests"}}); err != nil {
					return fmt.Errorf("generate journal: %w", err)
				}
				throttled++
				retries++
			}
			at = at.Add(2 * time.Second) // Retry-After
		}
		status, rerr := runfolder.StatusCreated, (*runfolder.RowError)(nil)
		roll := rng.IntN(10000)
		for _, g := range genFailures {
			if roll < g.per10k {
				status, rerr = g.status, &g.err
				break
			}
			roll -= g.per10k
		}
		if status == runfolder.StatusCreated && roll < 30 {
			status = runfolder.StatusExists
		}
		sent := status == runfolder.StatusCreated || status == runfolder.StatusExists || status == runfolder.StatusFailed
		if sent {
			pend := ev
			pend.Status = runfolder.StatusPending
			if err := enc.Encode(pend); err != nil {
				return fmt.Errorf("generate journal: %w", err)
			}
			ev.Attempts = 1
			ev.At = at.Add(40 * time.Millisecond)
		}
		ev.Status, ev.Error = status, rerr
		if status == runfolder.StatusCreated || status == runfolder.StatusExists {
			ev.UserID = fmt.Sprintf("user_%016x", rng.Uint64())
		}
		if err := enc.Encode(ev); err != nil {
			return fmt.Errorf("generate journal: %w", err)
		}
		counts[status]++
	}
	end := at.Add(time.Second)
	runStatus := runfolder.RunComplete
	if counts[runfolder.StatusFailed]+counts[runfolder.StatusInvalid]+counts[runfolder.StatusDuplicate] > 0 {
		runStatus = runfolder.RunWithFailures
	}
	if err := enc.Encode(runfolder.Event{Event: runfolder.EventEnd, RunStatus: runStatus, At: end}); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("generate journal: %w", err)
	}

	el := end.Sub(start)
	requests := int64(rows) + throttled
	exit := 0
	if runStatus != runfolder.RunComplete {
		exit = 1
	}
	sum := &runfolder.Summary{RunStatus: runStatus, ExitCode: exit, Counts: counts, Rows: rows,
		Requests: requests, Creates: int64(counts[runfolder.StatusCreated]), Status429: throttled, Retries: retries,
		Elapsed: el.String(), ElapsedSec: el.Seconds(), RequestRate: float64(requests) / el.Seconds(),
		CreateRate: float64(counts[runfolder.StatusCreated]) / el.Seconds(), StartedAt: start, FinishedAt: end,
		FailedFile: filepath.Join(dir, "failed.csv")}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("generate summary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, runfolder.SummaryFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("generate summary: %w", err)
	}
	return nil
}
