package clerk

import (
	"bytes"
	"context"
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
	idOnly    bool // the caller reads only the response's top-level "id"
}

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
	attempted, wrote bool
	status           int
	header           http.Header
}

func (x *exchange) snapshot() exchangeState {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := exchangeState{attempted: x.attempted, wrote: x.wrote, status: x.status, header: x.header}
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
