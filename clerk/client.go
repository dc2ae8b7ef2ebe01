// Package clerk is the import's Target: Clerk's Backend API over the official Go SDK, with every
// failure classified once, here, where the HTTP exchange is seen.
package clerk

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	sdk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/userimport/userimport/mapping"
)

// DefaultURL is Clerk's production Backend API.
const DefaultURL = "https://api.clerk.com/v1"

// MaxLookup is the most values Clerk accepts in one list filter.
const MaxLookup = 100

// Config says where to send requests and with which key.
type Config struct {
	URL            string        // API base incl. /v1, e.g. https://api.clerk.com/v1; default DefaultURL
	Key            string        // secret key; never appears in any error, log or String()
	RequestTimeout time.Duration // per request; default 30s
	HTTPClient     *http.Client  // optional; its Transport is wrapped, not replaced
}

// String hides the key, so a logged Config cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("clerk.Config{URL: %q, Key: %s, RequestTimeout: %s}", DisplayURL(c.URL), keyLabel(c.Key), c.RequestTimeout)
}

// GoString hides the key from %#v too.
func (c Config) GoString() string { return c.String() }

// MarshalJSON hides the key from reflection-based loggers.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL            string `json:"url"`
		Key            string `json:"key"`
		RequestTimeout string `json:"request_timeout"`
	}{DisplayURL(c.URL), keyLabel(c.Key), c.RequestTimeout.String()})
}

func keyLabel(key string) string {
	if key == "" {
		return "(none)"
	}
	return "sha256:" + Fingerprint(key)
}

// Client calls Clerk's Backend API. It is safe for concurrent use and never retries: retries,
// pacing and look-ups after ambiguous failures belong to the caller.
type Client struct {
	backend sdk.Backend
	hc      *http.Client
	key     string
	url     string
	timeout time.Duration
}

// New checks cfg and builds a Client. Plain http:// is refused unless the host is loopback.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	if base == "" {
		base = DefaultURL
	}
	if err := checkURL(base); err != nil {
		return nil, err
	}
	key := strings.TrimSpace(cfg.Key)
	if key == "" {
		return nil, errors.New("clerk: no secret key")
	}
	if lower := strings.ToLower(key); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return nil, errors.New("clerk: the secret key looks like a URL: are CLERK_API_URL and CLERK_SECRET_KEY swapped?")
	}
	if strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("clerk: secret key contains whitespace or control characters")
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}

	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	next := hc.Transport
	if next == nil {
		next = defaultTransport()
	}
	hc.Transport = recorder{next: next}
	// A redirect means the URL is wrong; following one would turn a POST into a GET.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }

	users := user.NewClient(&sdk.ClientConfig{BackendConfig: sdk.BackendConfig{
		URL:        sdk.String(base),
		Key:        sdk.String(key),
		HTTPClient: hc,
	}})
	return &Client{backend: users.Backend, hc: hc, key: key, url: base, timeout: timeout}, nil
}

// errRedirect is every redirect's error: following one would turn a POST into a GET and could
// send the key to another host, so the URL must be fixed instead.
var errRedirect = errors.New("redirect refused: set CLERK_API_URL to the Backend API's own address (e.g. " + DefaultURL + "), not one that redirects")

// checkURL refuses an API URL that cannot be Clerk's. Its messages show the URL only through
// DisplayURL: a key pasted into CLERK_API_URL, or a token in its query, is never printed.
func checkURL(raw string) error {
	shown := DisplayURL(raw)
	if looksLikeKey(raw) {
		return fmt.Errorf("clerk: API URL %q looks like a key, not a URL: are CLERK_API_URL and CLERK_SECRET_KEY swapped?", shown)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL
		}
		return fmt.Errorf("clerk: API URL %q: %s", shown, Redact(err.Error()))
	}
	if u.User != nil {
		return fmt.Errorf("clerk: API URL %q must not hold credentials (user:password@): the key comes from CLERK_SECRET_KEY", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("clerk: API URL %q must have no query string or fragment: the key comes from CLERK_SECRET_KEY", shown)
	}
	if u.Host == "" {
		return fmt.Errorf("clerk: API URL %q has no host (e.g. %s)", shown, DefaultURL)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("clerk: API URL %q: plain http is allowed only for loopback hosts; use https", shown)
	default:
		return fmt.Errorf("clerk: API URL %q: scheme must be https", shown)
	}
}

// looksLikeKey: a Clerk key (or a JWT) where a URL belongs.
func looksLikeKey(s string) bool {
	s = strings.TrimSpace(s)
	for _, p := range []string{"sk_", "pk_", "rk_", "eyJ"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CloseIdleConnections releases pooled connections, e.g. at the end of a run.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// String names the client by URL and key fingerprint, never the key.
func (c *Client) String() string {
	return "clerk " + DisplayURL(c.url) + " key sha256:" + Fingerprint(c.key)
}

// createBody sends the full mapping.CreateUserParams (the SDK's CreateParams lacks locale, the
// identification statuses, banned, locked, bypass_client_trust and skip_restriction_checks),
// exactly as it marshals: no field added or dropped.
type createBody mapping.CreateUserParams

func (b *createBody) MarshalJSON() ([]byte, error) {
	return json.Marshal((*mapping.CreateUserParams)(b))
}
func (*createBody) ToQuery() url.Values                  { return nil }
func (*createBody) ToMultipart() ([]byte, string, error) { return nil, "", nil }

// query is a GET's parameters, in the SDK's Params shape.
type query url.Values

func (q query) ToQuery() url.Values                { return url.Values(q) }
func (query) ToMultipart() ([]byte, string, error) { return nil, "", nil }

type userRef struct {
	sdk.APIResource
	ID string `json:"id"`
}

type listedUser struct {
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id"`
}

// userList is GET /v1/users' bare array.
type userList []listedUser

func (*userList) Read(*sdk.APIResponse) {}

type totalCount struct {
	sdk.APIResource
	TotalCount *int `json:"total_count"`
}

// Create sends POST /v1/users with p as the body and returns the new user's id.
func (c *Client) Create(ctx context.Context, p *mapping.CreateUserParams) (string, error) {
	const op = "create"
	if p == nil {
		return "", &Error{Op: op, Message: "no parameters", class: classPermanent}
	}
	req := sdk.NewAPIRequest(http.MethodPost, "/users")
	req.SetParams((*createBody)(p))
	var out userRef
	if err := c.call(ctx, op, req, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		// Clerk answered 2xx, so the user probably exists; only a look-up can tell its id.
		return "", &Error{Op: op, Status: statusOf(&out.APIResource), Message: "response without a user id", class: classAmbiguous}
	}
	return out.ID, nil
}

// LookupBatch is how many external ids FindByExternalID takes in one call: MaxLookup.
func (c *Client) LookupBatch() int { return MaxLookup }

// FindByExternalID looks up to MaxLookup external ids in one request and maps each one found
// to its user id. Each value is sent as "+id" so an id starting with "-" is not an exclusion.
func (c *Client) FindByExternalID(ctx context.Context, ids []string) (map[string]string, error) {
	const op = "find by external_id"
	if len(ids) > MaxLookup {
		return nil, &Error{Op: op, Message: fmt.Sprintf("%d ids in one look-up; at most %d", len(ids), MaxLookup), class: classPermanent}
	}
	found := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	want := make(map[string]bool, len(ids))
	q := url.Values{}
	for _, id := range ids {
		if want[id] {
			continue
		}
		want[id] = true
		q.Add("external_id", "+"+id)
	}
	q.Set("limit", strconv.Itoa(len(want)))
	req := sdk.NewAPIRequest(http.MethodGet, "/users")
	req.SetParams(query(q))
	var out userList
	if err := c.call(ctx, op, req, &out); err != nil {
		return nil, err
	}
	for _, u := range out {
		// Trust the filter only as far as the answer shows it: unasked-for users are ignored.
		if u.ExternalID != nil && want[*u.ExternalID] && u.ID != "" {
			found[*u.ExternalID] = u.ID
		}
	}
	return found, nil
}

// FindByEmail returns the user holding email, if any.
func (c *Client) FindByEmail(ctx context.Context, email string) (string, bool, error) {
	const op = "find by email"
	if strings.TrimSpace(email) == "" {
		return "", false, &Error{Op: op, Message: "empty email address", class: classPermanent}
	}
	req := sdk.NewAPIRequest(http.MethodGet, "/users")
	req.SetParams(query(url.Values{"email_address": {email}, "limit": {"1"}}))
	var out userList
	if err := c.call(ctx, op, req, &out); err != nil {
		return "", false, err
	}
	for _, u := range out {
		if u.ID != "" {
			return u.ID, true, nil
		}
	}
	return "", false, nil
}

// Delete removes a user. A 404 comes back as an *Error whose NotFound() is true.
func (c *Client) Delete(ctx context.Context, userID string) error {
	const op = "delete"
	if userID == "" {
		return &Error{Op: op, Message: "empty user id", class: classPermanent}
	}
	req := sdk.NewAPIRequest(http.MethodDelete, "/users/"+url.PathEscape(userID))
	var out sdk.DeletedResource
	return c.call(ctx, op, req, &out)
}

// Count returns the number of users in the instance.
func (c *Client) Count(ctx context.Context) (int, error) {
	const op = "count"
	req := sdk.NewAPIRequest(http.MethodGet, "/users/count")
	var out totalCount
	if err := c.call(ctx, op, req, &out); err != nil {
		return 0, err
	}
	if out.TotalCount == nil {
		return 0, &Error{Op: op, Status: statusOf(&out.APIResource), Message: "response without total_count", class: classRetryable}
	}
	return *out.TotalCount, nil
}

func statusOf(r *sdk.APIResource) int {
	if r.Response == nil {
		return 0
	}
	return r.Response.StatusCode
}

// call runs one SDK request under the per-request timeout and classifies any failure.
func (c *Client) call(ctx context.Context, op string, req *sdk.APIRequest, out sdk.ResponseReader) error {
	_, idOnly := out.(*userRef)
	x := &exchange{idOnly: idOnly, limit: MaxBody}
	if req.Method == http.MethodGet {
		x.limit = MaxListBody
	}
	rctx, cancel := context.WithTimeout(withExchange(ctx, x), c.timeout)
	defer cancel()
	err := c.backend.Call(rctx, req, out)
	s := x.snapshot()
	if err == nil && !s.overSize {
		return nil
	}
	timedOut := ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded)
	return c.classify(op, req.Method, ctx, timedOut, s, err)
}

func (c *Client) classify(op, method string, ctx context.Context, timedOut bool, s exchangeState, err error) *Error {
	e := &Error{Op: op, Status: s.status, TraceID: s.header.Get("Clerk-Trace-Id")}
	switch {
	case s.overSize:
		// Not Clerk's answer: something in between sent more than any answer of Clerk's holds.
		e.Message = fmt.Sprintf("response body over %d bytes: not an answer Clerk sends (a proxy or gateway in between?)", s.limit)
		e.Err = ErrResponseTooLarge
		switch {
		case s.status >= 400:
			e.class = statusClass(s.status, "") // the status alone says what happened
		case method == http.MethodPost:
			e.class = classAmbiguous // a create answered 2xx: the user may exist; settle by look-up
		default:
			e.class = classPermanent // a failed look-up: its answer cannot be read
		}
	case s.status >= 300 && s.status < 400:
		e.Message = "unexpected redirect"
		if loc := s.header.Get("Location"); loc != "" {
			e.Message += " to " + DisplayURL(loc)
		}
		e.Message += ": " + errRedirect.Error()
		e.Err = errRedirect
		e.class = statusClass(s.status, "")
	case s.status >= 400:
		var apiErr *sdk.APIErrorResponse
		if errors.As(err, &apiErr) && len(apiErr.Errors) > 0 {
			first := apiErr.Errors[0]
			e.Code = first.Code
			e.Message = first.LongMessage
			if e.Message == "" {
				e.Message = first.Message
			}
			e.Param = paramName(first.Meta)
			if apiErr.TraceID != "" {
				e.TraceID = apiErr.TraceID
			}
		} else {
			// The SDK returned the raw body as the error text; keep a short line of it.
			e.Message = bodyMessage(err.Error(), s.header.Get("Content-Type"), s.status)
		}
		// Not the SDK's error: its text is the whole response body, which may echo anything.
		e.Err = errors.New(http.StatusText(s.status))
		e.Retry = parseRetryAfter(s.header.Get("Retry-After"), time.Now())
		e.class = statusClass(s.status, e.Code)
	case ctx.Err() != nil:
		e.Err = ctx.Err()
		e.Message = ctx.Err().Error()
		e.class = sentClass(s.wrote || s.status != 0)
		if e.class == classAmbiguous {
			e.Message += " (after the request was sent)"
		}
	case s.status != 0:
		// A 2xx whose body the SDK could not read: the request was carried out.
		e.Message = "unreadable response: " + err.Error()
		e.Err = err
		e.class = classAmbiguous
	case !s.attempted:
		e.Err = err // the SDK failed before any I/O: building the request, encoding the body
		e.Message = err.Error()
		e.class = classPermanent
	default:
		inner := err
		var ue *url.Error
		if errors.As(err, &ue) {
			inner = ue.Err // the URL may carry an email address in its query
		}
		e.Message = inner.Error()
		e.Err = inner
		e.unanswered = true
		var ne net.Error
		switch {
		case timedOut || errors.As(inner, &ne) && ne.Timeout():
			e.Message = fmt.Sprintf("no response within %s", c.timeout)
			if !timedOut {
				e.Message = inner.Error()
			}
			e.Err = fmt.Errorf("%w: %s", ErrRequestTimeout, e.Message)
			e.class = sentClass(s.wrote)
		case isTLSVerify(inner):
			e.class = classFatal
			e.unanswered = false // an answer came: the wrong certificate
		default:
			e.class = sentClass(s.wrote)
		}
		if s.wrote {
			e.Message += " (after the request was sent)"
		}
	}
	if e.unanswered {
		e.Message = "no answer from " + DisplayURL(c.url) + ": " + e.Message
	}
	e.Code, e.Param = redact(e.Code, c.key), redact(e.Param, c.key)
	e.Message = redact(e.Message, c.key)
	return e
}

// sentClass: a request that never fully left is safe to resend; one that did may have been applied.
func sentClass(wrote bool) errClass {
	if wrote {
		return classAmbiguous
	}
	return classRetryable
}

func isTLSVerify(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

func paramName(meta json.RawMessage) string {
	if len(meta) == 0 {
		return ""
	}
	var m struct {
		ParamName string `json:"param_name"`
	}
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	return m.ParamName
}
