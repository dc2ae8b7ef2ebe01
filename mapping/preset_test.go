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
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := m.CSVHeader()
		if header == nil {
			header, rows = rows[0], rows[1:]
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
	Unread []string          `json:"unread,omitempty"`
}

func TestPresetGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/presets/*/input.*")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
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
		inputs, _ := filepath.Glob(filepath.Join(dir, "input.*"))
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
	if h, _ := Preset("firebase", PresetOptions{}); len(h.CSVHeader()) != 26 {
		t.Errorf("firebase CSV header has %d columns, want 26", len(h.CSVHeader()))
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

// golden maps every record of in and compares the outcome with in's .want.jsonl.
func golden(t *testing.T, m *Mapping, in string) {
	t.Helper()
	var out bytes.Buffer
	for _, rec := range readRecords(t, in, m) {
		var line goldenLine
		p, err := m.Apply(rec)
		if err == nil {
			err = Validate(p)
		}
		if err != nil {
			if !errors.As(err, &line.Error) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
		} else {
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
