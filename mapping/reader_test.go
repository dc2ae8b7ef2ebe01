package mapping

import (
	"bytes"
	"strings"
	"testing"
)

// TestReaderOptions: a preset declares how its export's CSV must be read (Firebase's bare
// quotes, Cognito's \, escapes); Spec shows it, Parse reads it back, and an empty
// declaration is refused.
func TestReaderOptions(t *testing.T) {
	for name, want := range map[string]ReaderOptions{
		"firebase": {LazyQuotes: true},
		"cognito":  {LazyQuotes: true, BackslashEscapes: true}, // its import CSV quotes nothing
		"native":   {},
		"auth0":    {},
		"supabase": {},
	} {
		m, err := Preset(name, PresetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Reader(); got != want {
			t.Errorf("%s: Reader() = %+v, want %+v", name, got, want)
		}
		back, err := Parse(m.Spec())
		if err != nil {
			t.Fatalf("%s: Spec does not parse back: %v", name, err)
		}
		if got := back.Reader(); got != want {
			t.Errorf("%s: Reader() after Spec/Parse = %+v, want %+v", name, got, want)
		}
	}
	m, _ := Preset("firebase", PresetOptions{})
	if !bytes.Contains(m.Spec(), []byte(`"lazy_quotes": true`)) {
		t.Errorf("firebase Spec does not show its reader options:\n%s", m.Spec())
	}
	_, err := Parse([]byte(`{"fields":{"first_name":"a"},"reader":{}}`))
	if err == nil || !strings.Contains(err.Error(), "reader") {
		t.Errorf("empty reader: err %v, want one naming reader", err)
	}
	_, err = Parse([]byte(`{"fields":{"first_name":"a"},"reader":{"lazy":true}}`))
	if err == nil || !strings.Contains(err.Error(), "lazy") {
		t.Errorf("unknown reader option: err %v, want one naming it", err)
	}
}
