package clerk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	sdk "github.com/clerk/clerk-sdk-go/v2"
)

// PageSize is the most users GET /v1/users returns in one page (the spec's limit maximum).
const PageSize = 500

// MaxPageBytes bounds one page's response body. A User is 1.5-3 KB, metadata included, so a
// full page is about 1.5 MB; 16 MiB leaves room for large metadata while a hostile or broken
// server cannot grow memory without bound.
const MaxPageBytes = MaxListBody

// PageSize is the most users one ListUsers call returns.
func (c *Client) PageSize() int { return PageSize }

// rawPage is GET /v1/users' bare array, each User kept as Clerk sent it.
type rawPage []json.RawMessage

func (*rawPage) Read(*sdk.APIResponse) {}

// ListUsers returns up to limit users ordered by +created_at, starting after the user whose id
// is startingAfter ("" = from the first user). A page shorter than limit is the last one.
// Each User object is returned as sent; the body is refused beyond MaxPageBytes.
func (c *Client) ListUsers(ctx context.Context, startingAfter string, limit int) ([]json.RawMessage, error) {
	const op = "list users"
	if limit < 1 || limit > PageSize {
		return nil, &Error{Op: op, Message: fmt.Sprintf("page size %d; want 1 to %d", limit, PageSize), class: classPermanent}
	}
	q := url.Values{"order_by": {"+created_at"}, "limit": {strconv.Itoa(limit)}}
	if startingAfter != "" {
		q.Set("starting_after", startingAfter)
	}
	req := sdk.NewAPIRequest(http.MethodGet, "/users")
	req.SetParams(query(q))
	var out rawPage
	err := c.call(ctx, op, req, &out) // the transport caps a GET's body at MaxListBody
	if err == nil {
		return out, nil
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case errors.Is(err, ErrResponseTooLarge):
			// Asking again gets the same page: stop rather than retry.
			e.Message = fmt.Sprintf("page larger than %d MiB refused: %d users fit in far less; check the API URL", MaxPageBytes>>20, PageSize)
			e.class = classFatal
		case e.Status >= 200 && e.Status < 300:
			// A read changes nothing, so a 2xx we cannot read is not ambiguous; it would repeat.
			e.Message = "the response is not a JSON array of users: " + e.Message
			e.class = classFatal
		}
	}
	return nil, err
}
