package mapping

import (
	"slices"
	"testing"
)

// A key the mapping reads that no record holds is listed, with the record key it was likely
// meant to be; keys the records hold are not.
func TestKeyTrackerMissing(t *testing.T) {
	m, err := Parse([]byte(`{"fields": {"external_id": "id", "email_address": "emial", "first_name": "given", "last_name": "profile.family"}}`))
	if err != nil {
		t.Fatal(err)
	}
	tr := m.NewKeyTracker(0)
	tr.Observe(CSVRecord([]string{"id", "email", "given", "profile"}, []string{"1", "a@example.com", "A", "{}"}), nil)
	got := tr.Missing()
	want := []MissingKey{{Key: "emial", Nearest: "email"}}
	if !slices.Equal(got, want) {
		t.Errorf("Missing() = %+v, want %+v", got, want)
	}
	if got := m.NewKeyTracker(0).Missing(); got != nil {
		t.Errorf("nothing observed: Missing() = %+v, want none", got)
	}
}
