package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCSVAndBodiesAgree(t *testing.T) {
	path, err := writeCSV(t.TempDir(), "in", 3)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != "external_id,email_address,first_name,last_name,public_metadata" {
		t.Fatalf("records %q", recs)
	}
	for i, rec := range recs[1:] {
		b, err := body(i)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			ExternalID string          `json:"external_id"`
			Emails     []string        `json:"email_address"`
			First      string          `json:"first_name"`
			Last       string          `json:"last_name"`
			Meta       json.RawMessage `json:"public_metadata"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := []string{got.ExternalID, strings.Join(got.Emails, ","), got.First, got.Last, string(got.Meta)}
		if strings.Join(rec, "|") != strings.Join(want, "|") {
			t.Errorf("row %d: CSV %q, body %s", i, rec, b)
		}
	}
}

func TestCoverage(t *testing.T) {
	users := []dumpUser{{ID: "a", ExternalID: rowExternalID(0)}, {ID: "b", ExternalID: rowExternalID(0)}, {ID: "c", ExternalID: rowExternalID(2)}}
	missing, dups := coverage(users, 3)
	if missing != 1 || dups != 1 {
		t.Errorf("missing %d, dups %d; want 1, 1", missing, dups)
	}
}

func TestJournalMismatches(t *testing.T) {
	journal := strings.Join([]string{
		`{"event":"run","tool":"userimport"}`,
		`{"row":1,"external_id":"e1","status":"pending"}`,
		`{"row":2,"external_id":"e2","status":"pending"}`,
		`{"row":1,"external_id":"e1","status":"created","user_id":"u1"}`,
		`{"row":2,"external_id":"e2","status":"exists","user_id":"u2"}`,
		`{"event":"end","run_status":"complete"}`,
	}, "\n")
	path := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(path, []byte(journal), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		users []dumpUser
		n     int
		want  int
	}{
		{"agree", []dumpUser{{ID: "u1", ExternalID: "e1"}, {ID: "u2", ExternalID: "e2"}}, 2, 0},
		{"other user id", []dumpUser{{ID: "u1", ExternalID: "e1"}, {ID: "u9", ExternalID: "e2"}}, 2, 1},
		{"user the journal does not name", []dumpUser{{ID: "u1", ExternalID: "e1"}, {ID: "u2", ExternalID: "e2"}, {ID: "u3", ExternalID: "e3"}}, 2, 1},
		{"row without an outcome", []dumpUser{{ID: "u1", ExternalID: "e1"}, {ID: "u2", ExternalID: "e2"}}, 3, 1},
	} {
		got, err := journalMismatches(path, tc.users, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: %d mismatches, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSelectCases(t *testing.T) {
	got, err := selectCases("p3, V1")
	if err != nil || len(got) != 2 || got[0].id != "P3" || got[1].id != "V1" {
		t.Errorf("selectCases = %v, %v", got, err)
	}
	if _, err := selectCases("P9"); err == nil {
		t.Error("unknown case accepted")
	}
}

func TestFigureVerdict(t *testing.T) {
	f := &figure{id: "P1", name: "pacing"}
	if f.pass() {
		t.Error("a figure without checks passed")
	}
	f.add(true, "a = 1 (target 1)")
	if !f.pass() || !strings.HasSuffix(f.String(), "PASS") {
		t.Errorf("%q", f)
	}
	f.add(false, "b = 2 (target 1)")
	if f.pass() || !strings.HasSuffix(f.String(), "FAIL") {
		t.Errorf("%q", f)
	}
}

func TestCreateTimesReadsTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	journal := `{"event":"run","tool":"userimport","started_at":"2026-12-01T12:00:00Z"}
{"row":2,"line":3,"external_id":"b","status":"pending","at":"2026-12-01T12:00:00.1Z"}
{"row":1,"line":2,"external_id":"a","status":"pending","at":"2026-12-01T12:00:00.1Z"}
{"row":2,"line":3,"external_id":"b","status":"created","user_id":"user_2","at":"2026-12-01T12:00:11Z"}
{"event":"throttled","at":"2026-12-01T12:00:10.5Z"}
{"row":1,"line":2,"external_id":"a","status":"created","user_id":"user_1","at":"2026-12-01T12:00:10Z"}
{"event":"end","run_status":"complete","at":"2026-12-01T12:00:12Z"}
`
	if err := os.WriteFile(path, []byte(journal), 0o600); err != nil {
		t.Fatal(err)
	}
	start, creates, err := createTimes(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("start %v, want %v", start, want)
	}
	if len(creates) != 2 || creates[0].Second() != 10 || creates[1].Second() != 11 {
		t.Errorf("creates %v, want the two created events, in order (10s, 11s)", creates)
	}
	if _, _, err := createTimes(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing journal read without error")
	}
}

func TestParseLimit(t *testing.T) {
	if n, w, err := parseLimit("3000/10s"); err != nil || n != 3000 || w != 10*time.Second {
		t.Errorf("parseLimit(3000/10s) = %d, %v, %v", n, w, err)
	}
	for _, bad := range []string{"", "1000", "x/10s", "1000/ten", "0/10s"} {
		if _, _, err := parseLimit(bad); err == nil {
			t.Errorf("parseLimit(%q) accepted", bad)
		}
	}
}
