package clerk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
)

// exchange records what the SDK does not report: whether the request body left in full, and
// the response status and headers even when the body is not Clerk-shaped JSON.
type exchange struct {
	mu        sync.Mutex
	attempted bool // the SDK reached the transport: a failure before that is local
	wrote     bool
	status    int
	header    http.Header
	idOnly    bool  // the caller reads only the response's top-level "id"
	limit     int64 // the most bytes of response body read (see MaxBody)
	overSize  bool  // the body went past limit: whatever answered is not Clerk
}

// Response bodies are read through a cap, so a body that never ends (a broken proxy, a hostile
// server) cannot grow the process: one create's answer is a user of a few KB; a list page of 500
// users with full metadata stays well under MaxListBody.
const (
	MaxBody     = 1 << 20  // a create's, delete's or count's answer
	MaxListBody = 16 << 20 // a GET: a list page of up to 500 users
)

// ErrResponseTooLarge ends the read of a body over the exchange's limit; the call's error wraps it.
var ErrResponseTooLarge = errors.New("response body too large")

func (x *exchange) setOverSize() {
	x.mu.Lock()
	x.overSize = true
	x.mu.Unlock()
}

// cappedBody reads at most limit bytes of a response body, then fails. Closing it early closes
// the connection rather than draining an endless body.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	x    *exchange
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the limit tells a body of exactly limit bytes from a longer one
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), -1
		b.x.setOverSize()
		return n, ErrResponseTooLarge
	}
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

func (x *exchange) wroteRequest(info httptrace.WroteRequestInfo) {
	if info.Err != nil {
		return
	}
	x.mu.Lock()
	x.wrote = true // sticky: once any attempt was written in full, the server may have acted on it
	x.mu.Unlock()
}

func (x *exchange) response(resp *http.Response) {
	x.mu.Lock()
	x.status = resp.StatusCode
	x.header = resp.Header // read-only from here on: nobody mutates a response's headers once returned
	x.mu.Unlock()
}

type exchangeState struct {
	attempted, wrote, overSize bool
	status                     int
	header                     http.Header
	limit                      int64
}

func (x *exchange) snapshot() exchangeState {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := exchangeState{attempted: x.attempted, wrote: x.wrote, status: x.status, header: x.header, overSize: x.overSize, limit: x.limit}
	if s.header == nil {
		s.header = http.Header{}
	}
	return s
}

type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// recorder wraps the caller's transport and fills in the exchange carried by the request context.
type recorder struct {
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil {
		return r.next.RoundTrip(req)
	}
	x.mu.Lock()
	x.attempted = true
	x.mu.Unlock()
	trace := &httptrace.ClientTrace{WroteRequest: x.wroteRequest}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace)) // a copy: ours to change
	if req.Body != nil && req.ContentLength == 0 && req.GetBody != nil {
		// The SDK gives its JSON body no length, so it would go out chunked: costlier for
		// both ends. The body is in memory; a fresh reader of it tells its length uncopied.
		if body, err := req.GetBody(); err == nil {
			var n byteCount
			if _, err := io.Copy(&n, body); err == nil && n > 0 {
				req.ContentLength = int64(n)
			}
		}
	}
	resp, err := r.next.RoundTrip(req)
	if resp != nil {
		x.response(resp)
		limit := x.limit
		if limit <= 0 {
			limit = MaxBody
		}
		cb := &cappedBody{rc: resp.Body, left: limit, x: x}
		if resp.ContentLength > limit { // said up front: not worth reading a byte of it
			cb.left = -1
			x.setOverSize()
		}
		resp.Body = cb
		if x.idOnly && resp.StatusCode == http.StatusOK {
			trimToID(resp)
		}
	}
	return resp, err
}

// defaultTransport keeps enough idle connections for a wide worker pool (the stdlib keeps 2 per host).
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return t
}

// byteCount is a writer that only counts.
type byteCount int

func (n *byteCount) Write(p []byte) (int, error) { *n += byteCount(len(p)); return len(p), nil }

// trimToID replaces a User body by {"id":…} when the id leads it, as Clerk sends it: the SDK
// would otherwise decode 1.5 KB of JSON twice for the one field a create needs. Only the head
// is kept; the rest is drained, so the connection goes back to the pool.
func trimToID(resp *http.Response) {
	const lead = `{"id":"`
	sb := new(shortBody) // one allocation holds the head, its reader and the Closer
	n, err := io.ReadFull(resp.Body, sb.head[:])
	head := sb.head[:n]
	if end := bytes.IndexByte(head[min(n, len(lead)):], '"'); bytes.HasPrefix(head, []byte(lead)) && end >= 0 {
		short := append(head[:len(lead)+end+1], '}')
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // a broken tail loses nothing: the id is read
		}
		resp.Body.Close()
		sb.Reset(short)
		resp.Body, resp.ContentLength = sb, int64(len(short))
		return
	}
	// Not a user with its id first: hand the SDK the body as it came.
	resp.Body = headThen{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
}

// shortBody is a trimmed response body.
type shortBody struct {
	bytes.Reader
	head [128]byte
}

func (*shortBody) Close() error { return nil }

// headThen reads a body's head again, then the rest of it.
type headThen struct {
	io.Reader
	rest io.Closer
}

func (h headThen) Close() error { return h.rest.Close() }
