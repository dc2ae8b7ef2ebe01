package clerksrc

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/userimport/userimport/clerk"
)

// CheckKeys refuses a source key that is missing or the target's own: reading an instance into
// itself would only report every user as existing. Keys are compared by digest and named in
// the error by their fingerprint, never shown.
func CheckKeys(sourceKey, targetKey string) error {
	src, dst := strings.TrimSpace(sourceKey), strings.TrimSpace(targetKey)
	if src == "" {
		return errors.New("clerk source: no source secret key: set CLERK_SOURCE_SECRET_KEY or --source-secret-key-file to the source instance's key")
	}
	a, b := sha256.Sum256([]byte(src)), sha256.Sum256([]byte(dst))
	if dst != "" && subtle.ConstantTimeCompare(a[:], b[:]) == 1 {
		return fmt.Errorf("clerk source: the source secret key (sha256:%s) is the target's key: "+
			"a Clerk instance cannot be imported into itself; give the source instance's own key", clerk.Fingerprint(src))
	}
	return nil
}

// Identity names the source for a run folder: the API URL and the source key's fingerprint
// (every instance shares Clerk's URL; the key tells them apart), and whether external_id is
// forced to the source id, since that changes which journal rows a re-run matches.
func Identity(apiURL, sourceKey string, opts Options) string {
	u := strings.TrimRight(strings.TrimSpace(apiURL), "/")
	if u == "" {
		u = clerk.DefaultURL
	}
	id := "clerk:" + u + " key sha256:" + clerk.Fingerprint(strings.TrimSpace(sourceKey))
	if opts.SourceIDAsExternalID {
		id += " external_id=source id"
	}
	return id
}
