package mapping

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/presets")

var goldenOptions = map[string]PresetOptions{
	"firebase": {FirebaseSignerKey: "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="},
	"cognito":  {CognitoPoolID: "us-east-1_AbCdEf123", CognitoClientID: "1example23456789"},
}

// readRecords reads a sample the way the importer does: CSV (header line unless the
// mapping supplies one), JSONL, or a JSON array, bare or inside {"users": [...]}.
func readRecords(t *testing.T, path string, m *Mapping) []Record {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	switch filepath.Ext(path) {
	case ".csv":
		r := csv.NewReader(bytes.NewReader(raw))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true // firebase-tools before 15.19 leaves quotes in names bare
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var header []string
		if m.CSVHeaders() == nil {
			header, rows = rows[0], rows[1:]
		} else if len(rows) > 0 {
			// Header-less: the width of the first row picks the column names.
			if header = m.CSVHeaderFor(len(rows[0])); header == nil {
				t.Fatalf("%s: no header of width %d", path, len(rows[0]))
			}
		}
		for _, row := range rows {
			recs = append(recs, CSVRecord(header, row))
		}
	case ".jsonl":
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			rec, err := JSONRecord(sc.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
	case ".json":
		var wrapped struct{ Users []json.RawMessage }
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			if err := json.Unmarshal(raw, &wrapped); err != nil {
				t.Fatal(err)
			}
			arr = wrapped.Users
		}
		for _, item := range arr {
			rec, err := JSONRecord(item)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
	}
	return recs
}

type goldenLine struct {
	Params *CreateUserParams `json:"params,omitempty"`
	Error  *FieldError       `json:"error,omitempty"`
	Skip   string            `json:"skip,omitempty"`
	Unread []string          `json:"unread,omitempty"`
}

// goldenNow is the clock of the golden runs: banned_until and banExpires compare with it.
var goldenNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func pinNow(t *testing.T) {
	old := now
	now = func() time.Time { return goldenNow }
	t.Cleanup(func() { now = old })
}

// goldenInputs lists a directory's inputs: input*.<ext>, not the .want files.
func goldenInputs(t *testing.T, pattern string) []string {
	all, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range all {
		if !strings.Contains(filepath.Base(in), ".want.") {
			out = append(out, in)
		}
	}
	return out
}

func TestPresetGolden(t *testing.T) {
	pinNow(t)
	inputs := goldenInputs(t, "testdata/presets/*/input*")
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		name := filepath.Base(filepath.Dir(in))
		seen[name] = true
		t.Run(name+"/"+filepath.Base(in), func(t *testing.T) {
			m, err := Preset(name, goldenOptions[name])
			if err != nil {
				t.Fatal(err)
			}
			golden(t, m, in)
		})
	}
	for _, info := range Presets() {
		if !seen[info.Name] {
			t.Errorf("preset %s has no golden input", info.Name)
		}
	}
}

// TestMappingFileGolden runs each testdata/mappings/<name>/mapping.json over its inputs.
func TestMappingFileGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/mappings/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no mapping samples: %v", err)
	}
	for _, dir := range dirs {
		spec, err := os.ReadFile(filepath.Join(dir, "mapping.json"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(spec)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		inputs := goldenInputs(t, filepath.Join(dir, "input*"))
		for _, in := range inputs {
			t.Run(filepath.Base(dir)+"/"+filepath.Base(in), func(t *testing.T) { golden(t, m, in) })
		}
	}
}

func TestPresets(t *testing.T) {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
		if p.Description == "" || len(p.Formats) == 0 {
			t.Errorf("%s: missing description or formats: %+v", p.Name, p)
		}
	}
	if !slices.Equal(names, presetOrder) {
		t.Errorf("Presets() = %v", names)
	}
	if _, err := Preset("okta", PresetOptions{}); err == nil || !strings.Contains(err.Error(), "unknown preset") {
		t.Errorf("unknown preset: %v", err)
	}
	if _, err := Preset("cognito", PresetOptions{CognitoPoolID: "p"}); err == nil {
		t.Error("cognito pool id without client id accepted")
	}
	// firebase-tools writes 52 values and a trailing comma since 15.19, 28 and one before.
	fb, _ := Preset("firebase", PresetOptions{})
	if len(fb.CSVHeaders()) != 2 || len(fb.CSVHeaderFor(53)) != 53 || len(fb.CSVHeaderFor(29)) != 29 || fb.CSVHeaderFor(26) != nil {
		t.Errorf("firebase CSV headers: %d widths", len(fb.CSVHeaders()))
	}
	for _, h := range fb.CSVHeaders() {
		if h[len(h)-1] != "" || h[26] != "disabled" || h[27] != "customAttributes" {
			t.Errorf("firebase header of width %d: %q ... %q", len(h), h[26:28], h[len(h)-1])
		}
	}
	if Native().CSVHeader() != nil {
		t.Error("native has a CSV header")
	}
}

func TestFirebaseNeedsSignerKey(t *testing.T) {
	m, err := Preset("firebase", PresetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(mustJSON(t, `{"localId":"u1","email":"a@x.io","passwordHash":"aGFzaA==","salt":"c2FsdA=="}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "password_digest" || fe.Code != CodeMissingOption || !strings.Contains(fe.Message, "firebase_signer_key") {
		t.Fatalf("err = %v, want password_digest missing_option naming firebase_signer_key", err)
	}
	// Rows without a hash import without a password.
	p, err := m.Apply(mustJSON(t, `{"localId":"u2","email":"a@x.io"}`))
	if err != nil || p.PasswordDigest != nil || p.PasswordHasher != nil {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestBindChangesSpecNotSecrets(t *testing.T) {
	a, _ := Preset("firebase", PresetOptions{FirebaseSignerKey: "c2VjcmV0LWtleQ=="})
	b, _ := Preset("firebase", PresetOptions{FirebaseSignerKey: "b3RoZXIta2V5"})
	c, _ := Preset("firebase", PresetOptions{FirebaseSignerKey: "c2VjcmV0LWtleQ==", FirebaseRounds: 9})
	if bytes.Equal(a.Spec(), b.Spec()) || bytes.Equal(a.Spec(), c.Spec()) {
		t.Error("different options give the same Spec")
	}
	if bytes.Contains(a.Spec(), []byte("c2VjcmV0LWtleQ")) {
		t.Error("Spec shows the signer key")
	}
	n, _ := Preset("native", PresetOptions{FirebaseSignerKey: "x"})
	if !bytes.Equal(n.Spec(), Native().Spec()) {
		t.Error("an option the mapping does not use changed its Spec")
	}
}

// joinIndex reads join.<name>.* beside in, keyed as the mapping declares, in memory (the
// importer's index is on disk; the lookup hook is the same).
func joinIndex(t *testing.T, m *Mapping, in string) map[string]map[string]Record {
	idx := map[string]map[string]Record{}
	for _, j := range m.Joins() {
		files, _ := filepath.Glob(filepath.Join(filepath.Dir(in), "join."+j.Name+".*"))
		for _, f := range files {
			for _, rec := range readRecords(t, f, Native()) {
				k, ok, err := j.OtherKey(rec)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					if idx[j.Name] == nil {
						idx[j.Name] = map[string]Record{}
					}
					idx[j.Name][k] = rec
				}
			}
		}
	}
	return idx
}

// golden maps every record of in and compares the outcome with in's .want.jsonl.
func golden(t *testing.T, m *Mapping, in string) {
	t.Helper()
	var out bytes.Buffer
	idx := joinIndex(t, m, in)
	for _, rec := range readRecords(t, in, m) {
		var line goldenLine
		joined := map[string]Record{}
		for _, j := range m.Joins() {
			if k, ok, err := j.Key(rec); err != nil {
				t.Fatal(err)
			} else if ok && idx[j.Name][k] != nil {
				joined[j.Name] = idx[j.Name][k]
			}
		}
		if len(joined) > 0 {
			rec = WithJoins(rec, joined)
		}
		p, err := m.Apply(rec)
		if err == nil {
			err = Validate(p)
		}
		var skip *SkipError
		switch {
		case errors.As(err, &skip):
			line.Skip = skip.Reason
		case err != nil:
			if !errors.As(err, &line.Error) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
		default:
			line.Params = p
		}
		line.Unread = m.Unread(rec.Keys())
		b, err := json.Marshal(line)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(b, '\n'))
	}
	want := strings.TrimSuffix(in, filepath.Ext(in)) + strings.Replace(filepath.Ext(in), ".", "_", 1) + ".want.jsonl"
	if *update {
		if err := os.WriteFile(want, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wb, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPresetGolden -update)", err)
	}
	if !bytes.Equal(wb, out.Bytes()) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", want, out.Bytes(), wb)
	}
}
