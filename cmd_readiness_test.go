package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/userimport/userimport/clerk/sandbox"
)

const readinessKey = "sk_live_readinessWiring42"

// newReadinessCLI is newCLI against a sandbox with the instance settings given: the instance
// requires an email address and has usernames switched off, unless opts says otherwise.
func newReadinessCLI(t *testing.T, opts sandbox.Options) *cli {
	t.Helper()
	opts.Key = readinessKey
	return newCLIWith(t, opts)
}

var emailRequiredNoUsernames = sandbox.Options{Required: []string{"email_address"}, Disabled: []string{"username"}}

// readinessInput writes samples/users.csv with the email of every row that has a phone number
// and a number ending in 5 or 9 blanked (a phone-only user), and says, from the cells, which
// lines the instance will refuse (no email) and which lose their username.
func readinessInput(t *testing.T) (path string, rows int, refused, noUsername []int) {
	t.Helper()
	f, err := os.Open("samples/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	h := all[0]
	email, phone, username := slices.Index(h, "email_address"), slices.Index(h, "phone_number"), slices.Index(h, "username")
	for i, cells := range all[1:] {
		line := i + 2
		if p := cells[phone]; p != "" && (strings.HasSuffix(p, "5") || strings.HasSuffix(p, "9")) {
			cells[email] = ""
		}
		switch {
		case cells[email] == "":
			refused = append(refused, line)
		case cells[username] != "":
			noUsername = append(noUsername, line)
		}
	}
	if len(refused) == 0 || len(noUsername) == 0 {
		t.Fatalf("fixture: %d rows refused, %d without username: want both", len(refused), len(noUsername))
	}
	path = filepath.Join(t.TempDir(), "users.csv")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(out)
	if err := w.WriteAll(all); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path, len(all) - 1, refused, noUsername
}

// classTotals reads the report's three totals.
func classTotals(t *testing.T, report string) (notImported, without, full int) {
	t.Helper()
	get := func(heading string) int {
		m := regexp.MustCompile(regexp.QuoteMeta(heading) + `:\s+(\d+)\n`).FindStringSubmatch(report)
		if m == nil {
			t.Fatalf("report lacks %q:\n%s", heading, report)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return get("Will not be imported"), get("Will be imported without something"), get("Will be imported in full")
}

func TestValidateReadiness(t *testing.T) {
	c := newReadinessCLI(t, emailRequiredNoUsernames)
	in, rows, refused, noUsername := readinessInput(t)
	res := c.run(nil, "validate", "--rate", "500", in)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (rows will not import)\n%s%s", res.code, exitRowsFailed, res.stdout, res.stderr)
	}
	notImported, without, full := classTotals(t, res.stdout)
	if notImported != len(refused) || without != len(noUsername) || full != rows-len(refused)-len(noUsername) || notImported+without+full != rows {
		t.Errorf("totals %d/%d/%d of %d rows, want %d/%d/%d:\n%s", notImported, without, full, rows,
			len(refused), len(noUsername), rows-len(refused)-len(noUsername), res.stdout)
	}
	for _, frag := range []string{
		fmt.Sprintf("email_address_required: %d rows:", len(refused)),
		fmt.Sprintf("username_off: %d rows:", len(noUsername)),
		fmt.Sprintf("first rows: line %d (", refused[0]),
		"make Email address optional at sign-up", "turn on Usernames",
		fmt.Sprintf("%d refused by the instance's settings", len(refused)),
		fmt.Sprintf("line %d: failed: email_address_required", refused[0]),
	} {
		if !strings.Contains(res.stdout, frag) {
			t.Errorf("validate's output lacks %q:\n%s", frag, res.stdout)
		}
	}
	if st := c.sb.Stats(); st.Creates != 0 {
		t.Errorf("validate sent %d creates", st.Creates)
	}
	t.Logf("validate:\n%s", res.stdout)

	res = c.run(nil, "validate", "--rate", "500", "--json", in)
	var out struct {
		Counts    map[string]int `json:"counts"`
		Readiness struct {
			Reasons []struct {
				Code string `json:"code"`
				Rows int    `json:"rows"`
				Fix  string `json:"fix"`
			} `json:"reasons"`
		} `json:"readiness"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, res.stdout)
	}
	var raw struct {
		Readiness map[string]any `json:"readiness"`
	}
	_ = json.Unmarshal([]byte(res.stdout), &raw)
	r := raw.Readiness
	if r["settings_read"] != true || r["rows"] != float64(rows) || r["will_not_import"] != float64(len(refused)) ||
		r["without_something"] != float64(len(noUsername)) || r["full"] != float64(full) {
		t.Errorf("--json readiness: %v", r)
	}
	codes := map[string]int{}
	for _, rc := range out.Readiness.Reasons {
		codes[rc.Code] = rc.Rows
	}
	if codes["email_address_required"] != len(refused) || codes["username_off"] != len(noUsername) || len(codes) != 2 {
		t.Errorf("--json reasons: %v", codes)
	}
	if out.Counts["failed"] != len(refused) || out.Counts["valid"] != rows-len(refused) {
		t.Errorf("--json counts: %v", out.Counts)
	}
}

// validate --strict-fields counts the rows that would lose a field as refused too.
func TestValidateStrictFields(t *testing.T) {
	c := newReadinessCLI(t, emailRequiredNoUsernames)
	in, rows, refused, noUsername := readinessInput(t)
	res := c.run(nil, "validate", "--strict-fields", "--rate", "500", in)
	want := fmt.Sprintf("%d rows: %d valid, 0 invalid, 0 duplicate, 0 already in the instance, %d refused by the instance's settings",
		rows, rows-len(refused)-len(noUsername), len(refused)+len(noUsername))
	if res.code != exitRowsFailed || !strings.Contains(res.stdout, want) || !strings.Contains(res.stdout, fmt.Sprintf("line %d: failed: username_off", noUsername[0])) {
		t.Errorf("exit %d, want %d and %q:\n%s%s", res.code, exitRowsFailed, want, res.stdout, res.stderr)
	}
}

// The Frontend API down: validate says it could not read the settings and flags nothing.
func TestValidateReadinessCouldNotRead(t *testing.T) {
	opts := emailRequiredNoUsernames
	opts.FailEnvironment = true
	c := newReadinessCLI(t, opts)
	in, rows, _, _ := readinessInput(t)
	res := c.run(nil, "validate", "--rate", "500", in)
	if res.code != exitOK {
		t.Errorf("exit %d, want 0: nothing is flagged\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, frag := range []string{"could not read the instance's settings", fmt.Sprintf("Nothing is flagged: %d rows not checked", rows),
		fmt.Sprintf("%d valid", rows)} {
		if !strings.Contains(res.stdout, frag) {
			t.Errorf("output lacks %q:\n%s", frag, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "username_off") || strings.Contains(res.stdout, "refused") {
		t.Errorf("rows flagged without settings:\n%s", res.stdout)
	}
}

// journalLines returns results.jsonl's final row events by line, raw.
func journalLines(t *testing.T, dir string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct {
			Line   int    `json:"line"`
			Status string `json:"status"`
		}
		if json.Unmarshal([]byte(l), &e) == nil && e.Line > 0 && e.Status != "pending" {
			out[e.Line] = l
		}
	}
	return out
}

func TestImportDropsAndRefusesByReadiness(t *testing.T) {
	c := newReadinessCLI(t, emailRequiredNoUsernames)
	in, rows, refused, noUsername := readinessInput(t)
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--rate", "500", "--no-progress", "--out", out, in)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d\n%s%s", res.code, exitRowsFailed, res.stdout, res.stderr)
	}
	// The report came before the first create, on stderr and into the log.
	if n, w, _ := classTotals(t, res.stderr); n != len(refused) || w != len(noUsername) {
		t.Errorf("pre-flight totals %d/%d, want %d/%d", n, w, len(refused), len(noUsername))
	}
	if log, err := os.ReadFile(filepath.Join(out, "log.jsonl")); err != nil || !strings.Contains(string(log), `"will_not_import":`+strconv.Itoa(len(refused))) {
		t.Errorf("log lacks the readiness counts (%v)", err)
	}
	t.Logf("import's stderr:\n%s", res.stderr)
	st := c.sb.Stats()
	if want := int64(rows - len(refused)); st.Creates != want || st.Created != want {
		t.Errorf("sandbox got %d creates (%d created), want %d: refused rows are never sent, the rest succeed", st.Creates, st.Created, want)
	}
	lines := journalLines(t, out)
	for _, l := range noUsername {
		if j := lines[l]; !strings.Contains(j, `"status":"created"`) || !strings.Contains(j, `"dropped":["username"]`) || !strings.Contains(j, `"readiness":["username_off"]`) {
			t.Errorf("line %d journaled %s", l, j)
		}
	}
	for _, l := range refused {
		if j := lines[l]; !strings.Contains(j, `"status":"failed"`) || !strings.Contains(j, `"code":"email_address_required"`) {
			t.Errorf("line %d journaled %s", l, j)
		}
	}
	failed, err := os.ReadFile(filepath.Join(out, "failed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(string(failed)), "\n"); n != len(refused) {
		t.Errorf("failed.csv holds %d rows, want %d:\n%s", n, len(refused), failed)
	}
}

func TestImportStrictFieldsRefusesRowsThatLoseAField(t *testing.T) {
	c := newReadinessCLI(t, emailRequiredNoUsernames)
	in, rows, refused, noUsername := readinessInput(t)
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(nil, "import", "--strict-fields", "--rate", "500", "--no-progress", "--out", out, in)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if st, want := c.sb.Stats(), int64(rows-len(refused)-len(noUsername)); st.Creates != want {
		t.Errorf("sandbox got %d creates, want %d", st.Creates, want)
	}
	lines := journalLines(t, out)
	for _, l := range noUsername {
		if j := lines[l]; !strings.Contains(j, `"status":"failed"`) || !strings.Contains(j, `"code":"username_off"`) || !strings.Contains(j, "--strict-fields") {
			t.Errorf("line %d journaled %s", l, j)
		}
	}
}

// From stdin, read once, each row is still checked as it is sent, and the report comes at the end.
func TestImportReadinessFromStdin(t *testing.T) {
	c := newReadinessCLI(t, emailRequiredNoUsernames)
	in, rows, refused, noUsername := readinessInput(t)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), "run")
	res := c.run(f, "import", "--rate", "500", "--no-progress", "--out", out, "-")
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if n, w, full := classTotals(t, res.stderr); n != len(refused) || w != len(noUsername) || n+w+full != rows {
		t.Errorf("end-of-run totals %d/%d/%d of %d rows", n, w, full, rows)
	}
	if st := c.sb.Stats(); st.Creates != int64(rows-len(refused)) {
		t.Errorf("sandbox got %d creates, want %d", st.Creates, rows-len(refused))
	}
	if j := journalLines(t, out)[noUsername[0]]; !strings.Contains(j, `"dropped":["username"]`) {
		t.Errorf("line %d journaled %s", noUsername[0], j)
	}
}
