//go:build !unix

package runfolder

import (
	"errors"
	"os"
)

// tryLock: this platform has no flock here; a run folder cannot be locked on it.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("run folder locks need flock (Linux, macOS, BSD)")
}

func samePath(*os.File, string) bool { return false }
