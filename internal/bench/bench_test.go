package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
