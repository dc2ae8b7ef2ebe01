package main

import (
	"fmt"
	"strings"

	"github.com/userimport/userimport/runfolder"
)

// rowsLeft is how many rows of the input a session that ended early did not settle: the rows it
// read and gave back, and, when the input's row count is known, the rows it never read (a
// signal ends intake without reading on). Without a count it is what was read.
func rowsLeft(sum *runfolder.Summary, total int) int {
	switch sum.RunStatus {
	case runfolder.RunStopped, runfolder.RunInterrupted, runfolder.RunFatal:
	default:
		return sum.Left
	}
	if total <= 0 {
		return sum.Left
	}
	return max(sum.Left, total-sum.DoneBefore-sum.Rows)
}

// quotaReached: the run stopped on the instance's user cap (403 user_quota_exceeded), which a
// re-run cannot get past.
func quotaReached(sum *runfolder.Summary) bool {
	return sum.RunStatus == runfolder.RunFatal && strings.Contains(sum.Fatal, "user_quota_exceeded")
}

// quotaAdvice says what to do about the cap; a plain re-run would only meet it again.
func quotaAdvice(out string, left int) string {
	return fmt.Sprintf("the instance's user cap is reached (user_quota_exceeded): %d rows left are not imported. "+
		"Make room by deleting users (userimport undo %s deletes this run's), or import into a production instance (sk_live_); "+
		"the same command then continues where this one stopped", left, out)
}

// rows is a count of rows as a sentence says it: "1 row", "2 rows".
func rows[N int | int64](n N) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
