package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/userimport/userimport/runfolder"
)

// loadJSONSchema reads docs/json-output.schema.json, the documented contract of --json.
func loadJSONSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("docs", "json-output.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s openapi3.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return &s
}

// oneJSONObject decodes stdout as exactly one JSON object, nothing before or after it.
func oneJSONObject(t *testing.T, stdout string) (map[string]any, jsonOutput) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	var rest any
	if err := dec.Decode(&rest); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON value (%v)\n%s", err, stdout)
	}
	var o jsonOutput
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatal(err)
	}
	return m, o
}

// Every exit of import and validate with --json prints one object, valid against the documented
// schema, whose exit_code is the process's: usage errors, refusals, fatal runs and finished ones.
func TestJSONOnEveryExit(t *testing.T) {
	schema := loadJSONSchema(t)
	c := newCLI(t, testKey)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	users := write("users.csv", "external_id,email_address\nj1,j1@example.com\nj2,j2@example.com\n")
	dirty := write("dirty.csv", "external_id,email_address\nd1,d1@example.com\nd2,not-an-email\n")
	mapping := write("m.json", `{"fields": {"external_id": "external_id", "email_address": "email_address"}}`)
	run := func(name string) string { return filepath.Join(dir, name) }

	held, _, err := runfolder.AcquireLock(mustDir(t, run("held")))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	type want struct {
		status   string
		code     int
		folder   bool   // run_folder is set
		summary  bool   // summary_file names a file that exists
		errHas   string // error contains it; "" means no error field
		failed   bool   // failed_file and refeed_command are set
		noFolder string // this path must not exist afterwards
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want want
	}{
		{"usage error", nil, []string{"import", "--json", "--rate", "0", users},
			want{status: jsonUsageError, code: 2, errHas: "--rate takes"}},
		{"usage error after a bad flag", nil, []string{"import", "--max-duration", "5", "--json", users},
			want{status: jsonUsageError, code: 2, errHas: "--max-duration"}},
		{"no key", map[string]string{"CLERK_SECRET_KEY": ""}, []string{"import", "--json", "--out", run("nokey"), users},
			want{status: jsonRefused, code: 2, errHas: "no secret key", noFolder: run("nokey")}},
		{"unreadable input", nil, []string{"import", "--json", "--out", run("missing"), run("nosuch.csv")},
			want{status: jsonRefused, code: 2, errHas: "open input"}},
		{"folder locked", nil, []string{"import", "--json", "--out", run("held"), users},
			want{status: jsonRefused, code: 2, folder: true, errHas: "lock"}},
		{"refused key", map[string]string{"CLERK_SECRET_KEY": "sk_test_not_the_sandboxes_key"}, []string{"import", "--json", "--out", run("badkey"), users},
			want{status: "fatal", code: 2, folder: true, summary: true, errHas: "refused the key"}},
		{"complete", nil, []string{"import", "--json", "--rate", "500", "--out", run("ok"), users},
			want{status: "complete", code: 0, folder: true, summary: true}},
		{"already complete", nil, []string{"import", "--json", "--rate", "500", "--out", run("ok"), users},
			want{status: "already_complete", code: 0, folder: true, summary: true}},
		{"another mapping", nil, []string{"import", "--json", "--rate", "500", "--mapping", mapping, "--out", run("ok"), users},
			want{status: jsonRefused, code: 2, folder: true, summary: true, errHas: "was made with --preset native"}},
		{"with failures", nil, []string{"import", "--json", "--rate", "500", "--out", run("dirty"), dirty},
			want{status: "complete_with_failures", code: 1, folder: true, summary: true, failed: true}},
		{"stopped", nil, []string{"import", "--json", "--rate", "500", "--limit", "1", "--out", run("limit"), users},
			want{status: "stopped", code: 75, folder: true, summary: true}},
		{"validate", nil, []string{"validate", "--json", users},
			want{status: "complete", code: 0}},
		{"validate with failures", nil, []string{"validate", dirty, "--json"},
			want{status: "complete_with_failures", code: 1}},
		{"unknown command", nil, []string{"imprt", "--json", users},
			want{status: jsonUsageError, code: 2, errHas: `did you mean "import"`}},
		{"validate usage error", nil, []string{"validate", "--json", "--out", run("v"), dirty},
			want{status: jsonUsageError, code: 2, errHas: "--out is not a validate flag"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := c.env
			c.env = map[string]string{}
			for k, v := range saved {
				c.env[k] = v
			}
			for k, v := range tc.env {
				c.env[k] = v
			}
			defer func() { c.env = saved }()
			r := c.run(nil, tc.args...)
			m, o := oneJSONObject(t, r.stdout)
			if err := schema.VisitJSON(m, openapi3.MultiErrors()); err != nil {
				t.Errorf("does not match docs/json-output.schema.json: %v\n%s", err, r.stdout)
			}
			if o.ExitCode != r.code || r.code != tc.want.code {
				t.Errorf("exit_code %d, process exit %d, want %d\nstderr: %s", o.ExitCode, r.code, tc.want.code, r.stderr)
			}
			if o.Status != tc.want.status || o.Command != tc.args[0] {
				t.Errorf("status %q command %q, want %q %q", o.Status, o.Command, tc.want.status, tc.args[0])
			}
			if tc.want.errHas == "" && o.Error != "" || !strings.Contains(o.Error, tc.want.errHas) {
				t.Errorf("error %q, want it to hold %q", o.Error, tc.want.errHas)
			}
			if (o.RunFolder != "") != tc.want.folder {
				t.Errorf("run_folder %q, want set: %v", o.RunFolder, tc.want.folder)
			}
			if tc.want.summary {
				if _, err := os.Stat(o.SummaryFile); err != nil || o.SummaryFile != filepath.Join(o.RunFolder, runfolder.SummaryFile) {
					t.Errorf("summary_file %q: %v", o.SummaryFile, err)
				}
			} else if o.SummaryFile != "" {
				t.Errorf("summary_file %q for a command that wrote none", o.SummaryFile)
			}
			if tc.want.failed {
				if _, err := os.Stat(o.FailedFile); err != nil || !strings.Contains(o.RefeedCommand, "--out "+o.RunFolder+"-refeed") {
					t.Errorf("failed_file %q (%v), refeed_command %q", o.FailedFile, err, o.RefeedCommand)
				}
				if !strings.Contains(r.stderr, "fix them and run: "+o.RefeedCommand) {
					t.Errorf("the terminal's hint is not refeed_command %q:\n%s", o.RefeedCommand, r.stderr)
				}
			} else if o.FailedFile != "" || o.RefeedCommand != "" {
				t.Errorf("failed_file %q refeed %q with nothing failed", o.FailedFile, o.RefeedCommand)
			}
			if o.Report != "" {
				if _, err := os.Stat(o.Report); err != nil {
					t.Errorf("report %q: %v", o.Report, err)
				}
			}
			if tc.want.noFolder != "" {
				if _, err := os.Stat(tc.want.noFolder); err == nil {
					t.Errorf("%s was made by a refused run", tc.want.noFolder)
				}
			}
			counts, _ := m["counts"].(map[string]any)
			for _, k := range []string{"created", "exists", "failed", "invalid", "duplicate", "skipped", "valid"} {
				if _, ok := counts[k]; !ok {
					t.Errorf("counts lacks %q (zeros must be present): %v", k, counts)
				}
			}
			if strings.Contains(r.stdout, "run folder:") || strings.Contains(r.stdout, "report:") {
				t.Errorf("human lines on stdout with --json:\n%s", r.stdout)
			}
		})
	}
}

// With --json the counts are this command's, and the summary.json a refused run rewrites says so.
func TestJSONCountsAndRefusedSummary(t *testing.T) {
	c := newCLI(t, testKey)
	dir := t.TempDir()
	in := filepath.Join(dir, "dirty.csv")
	os.WriteFile(in, []byte("external_id,email_address\nd1,d1@example.com\nd2,not-an-email\nd3,d3@example.com\n"), 0o600)
	out := filepath.Join(dir, "run")
	_, o := oneJSONObject(t, c.run(nil, "import", "--json", "--rate", "500", "--out", out, in).stdout)
	if o.Counts != (jsonCounts{Created: 2, Invalid: 1}) || o.Rows != 3 || len(o.Problems) != 1 || o.Problems[0].Line != 3 {
		t.Errorf("counts %+v rows %d problems %+v", o.Counts, o.Rows, o.Problems)
	}
	r := c.run(nil, "import", "--json", "--preset", "auth0", "--out", out, in)
	if r.code != 2 {
		t.Fatalf("another preset in the folder: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, runfolder.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum runfolder.Summary
	if err := json.Unmarshal(b, &sum); err != nil || sum.RunStatus != runRefused || sum.ExitCode != 2 ||
		!bytes.Contains(b, []byte("--preset auth0")) {
		t.Errorf("summary.json after the refusal: %v\n%s", err, b)
	}
}

func mustDir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Help is not a run: --help with --json prints the help alone, no object after it.
func TestJSONNotForHelp(t *testing.T) {
	c := newCLI(t, testKey)
	r := c.run(nil, "import", "--help", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || strings.Contains(r.stdout, `"schema_version"`) {
		t.Errorf("exit %d stdout:\n%s", r.code, r.stdout)
	}
}

// undo --json prints one object on every exit too — usage errors, refusals, a dry run and real
// deletes — valid against the documented schema, its exit_code the process's; --help prints none.
func TestUndoJSONOnEveryExit(t *testing.T) {
	schema := loadJSONSchema(t)
	c := newCLI(t, testKey)
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("external_id,email_address\nu1,u1@example.com\nu2,u2@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if r := c.run(nil, "import", "--rate", "500", "--out", run, in); r.code != 0 {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	var last map[string]any
	for _, tc := range []struct {
		name              string
		key               string // "" keeps the sandbox's
		args              []string
		status            string
		code              int
		errHas            string
		deleted, toDelete int
	}{
		{"no folder given", "", []string{"--json"}, jsonUsageError, 2, "takes the run folder", 0, 0},
		{"unknown flag", "", []string{"--json", "--bogus", run}, jsonUsageError, 2, "unknown flag --bogus", 0, 0},
		{"no --yes off a terminal", "", []string{"--json", run}, jsonUsageError, 2, "--yes is required", 0, 0},
		{"not a run folder", "", []string{"--json", "--yes", filepath.Join(dir, "nosuch")}, jsonRefused, 2, "not a run folder", 0, 0},
		{"another instance's key", "sk_test_another_instance", []string{"--json", "--yes", run}, jsonRefused, 2, "not the one this run used", 0, 0},
		{"dry run", "", []string{"--json", "--dry-run", run}, "dry_run", 0, "", 0, 2},
		{"deletes", "", []string{"--yes", run, "--json"}, "complete", 0, "", 2, 2},
		{"nothing left", "", []string{"--json", "--yes", run}, "complete", 0, "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := c.env["CLERK_SECRET_KEY"]
			if tc.key != "" {
				c.env["CLERK_SECRET_KEY"] = tc.key
			}
			defer func() { c.env["CLERK_SECRET_KEY"] = saved }()
			r := c.run(nil, append([]string{"undo"}, tc.args...)...)
			m, _ := oneJSONObject(t, r.stdout)
			if err := schema.VisitJSON(m, openapi3.MultiErrors()); err != nil {
				t.Errorf("does not match docs/json-output.schema.json: %v\n%s", err, r.stdout)
			}
			var o undoResult
			if err := json.Unmarshal([]byte(r.stdout), &o); err != nil {
				t.Fatal(err)
			}
			if o.ExitCode != r.code || r.code != tc.code || o.Status != tc.status || o.Command != "undo" || o.SchemaVersion != 1 {
				t.Errorf("status %q exit_code %d, process exit %d; want %q %d\nstderr: %s", o.Status, o.ExitCode, r.code, tc.status, tc.code, r.stderr)
			}
			if tc.errHas == "" && o.Error != "" || !strings.Contains(o.Error, tc.errHas) {
				t.Errorf("error %q, want it to hold %q", o.Error, tc.errHas)
			}
			if o.Counts["deleted"] != tc.deleted || o.ToDelete != tc.toDelete {
				t.Errorf("deleted %d to_delete %d, want %d %d", o.Counts["deleted"], o.ToDelete, tc.deleted, tc.toDelete)
			}
			last = m
		})
	}
	// The schema is not vacuous: an undo object without its counts, or named import, fails it.
	for _, broken := range []func(map[string]any){
		func(m map[string]any) { delete(m, "counts") },
		func(m map[string]any) { m["command"] = "import" },
		func(m map[string]any) { m["status"] = "stopped" },
	} {
		m := map[string]any{}
		for k, v := range last {
			m[k] = v
		}
		broken(m)
		if err := schema.VisitJSON(m); err == nil {
			t.Errorf("the schema accepts a broken undo object: %v", m)
		}
	}
	if r := c.run(nil, "undo", "--help", "--json"); r.code != 0 || strings.Contains(r.stdout, `"schema_version"`) {
		t.Errorf("undo --help --json: exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

// The schema holds import's object to its fields: one without a count, with a count it does not
// know, or with an unknown status fails it (so the tests above could fail).
func TestJSONSchemaIsNotVacuous(t *testing.T) {
	schema := loadJSONSchema(t)
	good := func() map[string]any {
		o := (&runResult{cmd: "import"}).output(errors.New("no secret key"), 2, "no secret key")
		b, _ := json.Marshal(o)
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	if err := schema.VisitJSON(good()); err != nil {
		t.Fatalf("a refusal's object fails the schema: %v", err)
	}
	for name, broken := range map[string]func(map[string]any){
		"no counts.valid": func(m map[string]any) { delete(m["counts"].(map[string]any), "valid") },
		"a count unknown": func(m map[string]any) { m["counts"].(map[string]any)["lost"] = 1 },
		"unknown status":  func(m map[string]any) { m["status"] = "ok" },
		"exit code 3":     func(m map[string]any) { m["exit_code"] = 3 },
		"no run_folder":   func(m map[string]any) { delete(m, "run_folder") },
	} {
		m := good()
		broken(m)
		if err := schema.VisitJSON(m); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
