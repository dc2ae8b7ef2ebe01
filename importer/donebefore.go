package importer

import "github.com/userimport/userimport/runfolder"

// statusDoneBefore counts, never journals, a row whose user an earlier session against the
// same target (last night's run of another export) finished: it is done before, not `exists`,
// and skipped without a call. summarize moves it into Summary.DoneBefore.
const statusDoneBefore runfolder.Status = "done_before"

// doneBefore skips a row an earlier session finished by its external_id.
func (r *runner) doneBefore() {
	r.tally(statusDoneBefore)
	if sk, ok := r.cfg.Progress.(interface{ Skipped(int) }); ok {
		sk.Skipped(1)
	}
}
