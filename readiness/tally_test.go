package readiness_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
)

func TestTallyCountsAndRenders(t *testing.T) {
	s := settings(t, map[string]string{"email_address": "required", "username": "off"})
	tally := readiness.NewTally(s, nil, 2)
	var want [3]int
	for i := range 10 {
		p := &mapping.CreateUserParams{ExternalID: str(fmt.Sprintf("ext-%d", i))}
		if i%2 == 0 { // even rows have an email; every third has a username
			p.EmailAddresses = []string{fmt.Sprintf("u%d@example.com", i)}
		}
		if i%3 == 0 {
			p.Username = str(fmt.Sprintf("user%d", i))
		}
		switch {
		case i%2 != 0:
			want[readiness.WillNotImport]++
		case i%3 == 0:
			want[readiness.WithoutSomething]++
		default:
			want[readiness.Full]++
		}
		tally.Add(i+2, p.ExternalIDValue(), readiness.Classify(s, p))
	}
	got := [3]int{tally.Count(readiness.Full), tally.Count(readiness.WithoutSomething), tally.Count(readiness.WillNotImport)}
	if got != want || got[0]+got[1]+got[2] != tally.Rows() || tally.Rows() != 10 {
		t.Fatalf("counts %v of %d rows, want %v of 10", got, tally.Rows(), want)
	}
	reasons := tally.Reasons()
	if len(reasons) != 2 || reasons[0].Code != "email_address_required" || reasons[0].Rows != 5 ||
		reasons[1].Code != "username_off" || reasons[1].Rows != 4 { // rows 0, 3, 6, 9: 3 and 9 also lack an email
		t.Fatalf("reasons %+v", reasons)
	}
	if r := reasons[0].First; len(r) != 2 || r[0] != (readiness.Row{Line: 3, ExternalID: "ext-1"}) || r[1].Line != 5 {
		t.Errorf("first rows %+v", r)
	}
	var b strings.Builder
	if err := tally.Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, frag := range []string{
		"10 rows", "Will not be imported:", "Will be imported without something:", "Will be imported in full:",
		"email_address_required: 5 rows:", "username_off: 4 rows:",
		"make Email address optional at sign-up", "turn on Usernames",
		`line 3 ("ext-1"), line 5 ("ext-3"), and 3 more`,
		"Will not be imported (5 rows), first rows: line 3",
	} {
		if !strings.Contains(out, frag) {
			t.Errorf("report lacks %q:\n%s", frag, out)
		}
	}
	for c, n := range want {
		line := fmt.Sprintf("%-36s %d", []string{"Will be imported in full:", "Will be imported without something:", "Will not be imported:"}[c], n)
		if !strings.Contains(out, line) {
			t.Errorf("report lacks the total %q:\n%s", line, out)
		}
	}
	sum := tally.Summary()
	if !sum.SettingsRead || sum.Rows != 10 || sum.Full+sum.WithoutSomething+sum.WillNotImport != 10 || len(sum.Reasons) != 2 {
		t.Errorf("summary %+v", sum)
	}
}

// "Could not read" is not "switched off": without settings nothing is flagged, and the report says why.
func TestTallyWithoutSettings(t *testing.T) {
	tally := readiness.NewTally(nil, errors.New("environment: 500 internal_clerk_error"), 5)
	for i := range 4 {
		p := &mapping.CreateUserParams{Username: str("annlee")}
		tally.Add(i+2, "", readiness.Classify(tally.Settings(), p))
	}
	if tally.Rows() != 4 || tally.Count(readiness.Full)+tally.Count(readiness.WithoutSomething)+tally.Count(readiness.WillNotImport) != 0 || len(tally.Reasons()) != 0 {
		t.Errorf("rows %d, classes %d/%d/%d, reasons %v", tally.Rows(), tally.Count(readiness.Full),
			tally.Count(readiness.WithoutSomething), tally.Count(readiness.WillNotImport), tally.Reasons())
	}
	var b strings.Builder
	if err := tally.Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "could not read the instance's settings (environment: 500 internal_clerk_error)") ||
		!strings.Contains(out, "Nothing is flagged: 4 rows not checked") || strings.Contains(out, "off") {
		t.Errorf("report:\n%s", out)
	}
	if s := tally.Summary(); s.SettingsRead || s.ReadError == "" || s.Rows != 4 {
		t.Errorf("summary %+v", s)
	}
}
