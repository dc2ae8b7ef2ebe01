package importer

import (
	"slices"
	"strconv"

	"github.com/userimport/userimport/mapping"
	"github.com/userimport/userimport/readiness"
	"github.com/userimport/userimport/runfolder"
)

// Fit is what a run checks each row against before sending it (issue 15): the instance's
// sign-up settings. A row the instance would refuse is failed unsent; a field it cannot store
// is dropped from the create, and the journal says which and why.
type Fit struct {
	// Settings are the instance's; nil when they could not be read: nothing is flagged or
	// dropped ("could not read" is not "switched off"). Set before the first row is read.
	Settings *readiness.Settings
	// Strict (--strict-fields) refuses a row that would lose a field instead of dropping it.
	Strict bool
	// Tally, when set, counts every row classified, once. Only the ordered stage touches it.
	Tally *readiness.Tally
	// NoSkipPassword (--no-skip-password-requirement): a row without a password is not given
	// skip_password_requirement, so one the instance requires a password of is refused unsent.
	NoSkipPassword bool
}

func (f *Fit) active() bool { return f != nil && (f.Settings != nil || f.Tally != nil) }

// fit classifies a mapped row under the run's Fit: a refused row is settled failed here (ok is
// false); otherwise what the instance cannot store is dropped from jb's create, and jb keeps the
// field names and reason codes for its journal line. It runs before the duplicate check and the
// pre-check, so they see what is sent.
func (r *runner) fit(jb *job, m *mapped) (ok bool) {
	f := r.cfg.Fit
	if !f.active() {
		return true
	}
	v := readiness.Classify(f.Settings, jb.params, m.providers...)
	if f.Tally != nil {
		f.Tally.Add(m.rec.Line, jb.extID, v)
	}
	var codes []string
	if len(v.Reasons) > 0 {
		codes = v.Codes()
	}
	code, msg := v.Refusal(f.Strict)
	if code == "" && f.NoSkipPassword && slices.Contains(codes, "password_missing") {
		code, msg = "password_missing", "the instance requires a password, the row has none, and --no-skip-password-requirement is set: map the source's password hashes or drop the flag"
	}
	if code != "" {
		r.settle(*jb, runfolder.Event{Status: runfolder.StatusFailed, Readiness: codes,
			Error: &runfolder.RowError{Code: code, Message: msg}})
		return false
	}
	jb.dropped, jb.readiness = readiness.Drop(f.Settings, jb.params), codes
	return true
}

// maxProviders bounds the identities read from one record for its social providers.
const maxProviders = 8

// providersOf names the providers a record's user signs in with at the source, where the export
// says so: Auth0's and Supabase's identities[].provider, Firebase's providerUserInfo[].providerId.
func providersOf(rec mapping.Record) []string {
	if rec.Textual() {
		return nil // a CSV export names no identities; looking would cost every row a header scan
	}
	var out []string
	for _, path := range [...][2]string{{"identities", "provider"}, {"providerUserInfo", "providerId"}} {
		for i := range maxProviders {
			v, ok := rec.Lookup(path[0] + "." + strconv.Itoa(i) + "." + path[1])
			if !ok {
				break
			}
			if s, ok := v.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
