package importer

import (
	"fmt"

	"go.uber.org/zap"
)

// warnMissing warns, for a --mapping file (a preset reads alternatives an export may lack), of
// each column it reads that no record held, with the nearest column: most often a typo.
func (r *runner) warnMissing() {
	if r.tracker == nil || r.cfg.Header.Preset != "" || r.warnedKeys {
		return
	}
	r.warnedKeys = true
	for _, mk := range r.tracker.Missing() {
		msg := fmt.Sprintf("the mapping reads %q, which no record has", mk.Key)
		if mk.Nearest != "" {
			msg += fmt.Sprintf(": did you mean %q?", mk.Nearest)
		}
		r.cfg.Log.Warn(msg, zap.String("column", mk.Key), zap.String("nearest", mk.Nearest))
	}
}
