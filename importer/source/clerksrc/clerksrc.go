// Package clerksrc reads the users of another Clerk instance through its Backend API as a
// source.Reader: GET /v1/users ordered by +created_at, a page at a time, each page after the
// last user id of the one before (the spec's starting_after cursor), so users created while the
// run reads are read once, never skipped or twice. Each user becomes one JSON object shaped for
// the clerk preset: the Dashboard CSV's columns plus the CLI export's fields.
//
// The reader does no pacing or retrying itself: every request goes through Options.Call, the
// caller's one paced path, paced for the source instance's own limit.
package clerksrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/userimport/userimport/clerk"
	"github.com/userimport/userimport/importer/source"
)

// Lister is what the reader needs of a Clerk client: *clerk.Client is one.
type Lister interface {
	// ListUsers returns up to limit users ordered by +created_at, after the user whose id is
	// startingAfter ("" = from the first), each User object as Clerk sent it.
	ListUsers(ctx context.Context, startingAfter string, limit int) ([]json.RawMessage, error)
}

// Counter counts the instance's users: *clerk.Client is one.
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// CallFunc runs one request, op, through the caller's paced, retrying path; op may be run more
// than once, and each run makes one request.
type CallFunc func(ctx context.Context, op func(context.Context) error) error

// Options configure Open and Count.
type Options struct {
	PageSize             int      // users a page; 0 or more than clerk.PageSize (500, the most Clerk sends) = 500
	MaxRecordSize        int      // bytes of one User object; default source.DefaultMaxRecordSize; a larger one -> Record.Err
	Call                 CallFunc // nil = call directly, unpaced
	SourceIDAsExternalID bool     // external_id is the source user's id even when it has its own
}

// Notice is said once per run: what a Backend API read cannot carry.
const Notice = "Clerk's Backend API returns no password digests, TOTP secrets or backup codes: " +
	"users are created without passwords (skip_password_requirement) and without TOTP. To carry " +
	"them over, join the Dashboard CSV export of the same instance (it is keyed by the same user ids)."

// Reader streams the source instance's users. Not safe for concurrent use.
type Reader struct {
	l     Lister
	opts  Options
	after string // the cursor: the last user id of the last page read
	page  []source.Record
	next  int
	prev  map[string]bool // the last page's ids: a server that ignores the cursor sends them again
	last  int64           // created_at of the last user read, to check the order holds
	num   int
	done  bool
}

var _ source.Reader = (*Reader)(nil)

// Open starts reading l. It makes no request: the first Next does.
func Open(l Lister, opts Options) *Reader {
	if opts.PageSize <= 0 || opts.PageSize > clerk.PageSize {
		opts.PageSize = clerk.PageSize
	}
	if opts.MaxRecordSize <= 0 {
		opts.MaxRecordSize = source.DefaultMaxRecordSize
	}
	return &Reader{l: l, opts: opts}
}

// Notice is the package's Notice, for a caller that holds only the reader.
func (r *Reader) Notice() string { return Notice }

// Header is nil: records are JSON objects.
func (r *Reader) Header() []string { return nil }

// Close ends the stream; the Lister is the caller's to close.
func (r *Reader) Close() error {
	r.done, r.page = true, nil
	return nil
}

// Next returns the next user's record, fetching a page when the last one is used up, and
// io.EOF after a short page. A failed page fetch returns its error and may be tried again by
// calling Next again: the cursor moves only past a page read whole.
func (r *Reader) Next(ctx context.Context) (source.Record, error) {
	for {
		if err := ctx.Err(); err != nil {
			return source.Record{}, err
		}
		if r.next < len(r.page) {
			rec := r.page[r.next]
			r.page[r.next] = source.Record{}
			r.next++
			return rec, nil
		}
		if r.done {
			return source.Record{}, io.EOF
		}
		if err := r.fetch(ctx); err != nil {
			return source.Record{}, err
		}
	}
}

func (r *Reader) fetch(ctx context.Context) error {
	var raw []json.RawMessage
	op := func(ctx context.Context) error {
		var err error
		raw, err = r.l.ListUsers(ctx, r.after, r.opts.PageSize)
		return err
	}
	if err := call(ctx, r.opts.Call, op); err != nil {
		return fmt.Errorf("clerk source: listing users %s: %w%s", r.where(), err, keyHint(err))
	}
	if len(raw) > r.opts.PageSize {
		return fmt.Errorf("clerk source: listing users %s: %d users for a page of %d; the server ignores the limit", r.where(), len(raw), r.opts.PageSize)
	}
	recs := make([]source.Record, 0, len(raw))
	ids := make(map[string]bool, len(raw))
	after, last := r.after, r.last
	for i, b := range raw {
		var u User
		if err := json.Unmarshal(b, &u); err != nil || u.ID == "" {
			// Without its id a user cannot be named in an error, and the last one's id is the next cursor.
			return fmt.Errorf("clerk source: listing users %s: user %d of the page is not a User object with an id", r.where(), i+1)
		}
		if r.prev[u.ID] || ids[u.ID] || u.ID == r.after {
			return fmt.Errorf("clerk source: listing users %s: user %s was listed again; the server does not honour starting_after", r.where(), u.ID)
		}
		if u.CreatedAt < last {
			return fmt.Errorf("clerk source: listing users %s: user %s is out of created_at order; the server does not honour order_by=+created_at", r.where(), u.ID)
		}
		ids[u.ID] = true
		after, last = u.ID, u.CreatedAt
		r.num++
		// Line is the user's place in the listing: the source has no lines, and resume matches
		// records by external_id, not by place.
		rec := source.Record{Num: r.num, Line: r.num}
		if len(b) > r.opts.MaxRecordSize {
			rec.Err = &source.RecordError{Line: r.num, Msg: fmt.Sprintf("user %s: User object larger than %d bytes", u.ID, r.opts.MaxRecordSize)}
		} else if rec.Raw, rec.Err = u.record(r.opts.SourceIDAsExternalID); rec.Err != nil {
			rec.Raw = nil
			rec.Err = &source.RecordError{Line: r.num, Msg: "user " + u.ID + ": " + rec.Err.Error()}
		}
		recs = append(recs, rec)
	}
	r.page, r.next, r.prev, r.after, r.last = recs, 0, ids, after, last
	r.done = len(raw) < r.opts.PageSize
	return nil
}

// where names the page for an error: the cursor is a user id, which is not personal data.
func (r *Reader) where() string {
	if r.after == "" {
		return "from the first user"
	}
	return "after " + r.after
}

// keyHint says which key a refusal is about: the run holds two.
func keyHint(err error) string {
	var e *clerk.Error
	if errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden && e.Code == "authentication_invalid") {
		return " (the source instance's key: CLERK_SOURCE_SECRET_KEY or --source-secret-key-file)"
	}
	return ""
}

func call(ctx context.Context, via CallFunc, op func(context.Context) error) error {
	if via == nil {
		return op(ctx)
	}
	return via(ctx, op)
}

// Count is the source instance's user count, for progress; it goes through opts.Call too.
func Count(ctx context.Context, c Counter, opts Options) (int, error) {
	var n int
	err := call(ctx, opts.Call, func(ctx context.Context) error {
		var err error
		n, err = c.Count(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clerk source: counting users: %w%s", err, keyHint(err))
	}
	return n, nil
}
