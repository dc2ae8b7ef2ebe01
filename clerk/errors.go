package clerk

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errClass is decided once, where the response is seen; callers only ask.
type errClass int

const (
	classPermanent errClass = iota // the request was refused: the row fails
	classRetryable                 // nothing was done: send it again
	classAmbiguous                 // it may have been done: look before sending again
	classFatal                     // every request will fail the same way: stop the run
)

func (c errClass) String() string {
	switch c {
	case classRetryable:
		return "retryable"
	case classAmbiguous:
		return "ambiguous"
	case classFatal:
		return "fatal"
	default:
		return "permanent"
	}
}

// ErrRequestTimeout is wrapped by errors from a request that outlived Config.RequestTimeout. It is
// distinct from context.DeadlineExceeded so a caller's own deadline is never mistaken for it.
var ErrRequestTimeout = errors.New("request timed out")

// Error is every error returned by Client. Its text never holds the key or a request body.
type Error struct {
	Op      string        // create, find by external_id, find by email, delete, count
	Status  int           // HTTP status; 0 = no response
	Code    string        // Clerk error code, e.g. form_identifier_exists
	Param   string        // meta.param_name
	Message string        // Clerk's message, or a description of the failure
	TraceID string        // clerk_trace_id, for Clerk support
	Retry   time.Duration // from Retry-After
	Err     error         // underlying
	class   errClass
	// unanswered: the request reached the network and nothing came back (refused, reset,
	// timed out, no route): the API may be unreachable.
	unanswered bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	head := b.Len()
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		if b.Len() > head {
			b.WriteByte(' ')
		}
		b.WriteString(e.Code)
	}
	if e.Param != "" {
		if b.Len() > head {
			b.WriteByte(' ')
		}
		b.WriteString("(" + e.Param + ")")
	}
	if e.Message != "" {
		if b.Len() > head {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.Retry > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.Retry)
	}
	return redact(b.String(), "")
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable: nothing reached Clerk's state, so sending the same request again is safe.
func (e *Error) Retryable() bool { return e.class == classRetryable }

// Ambiguous: Clerk may have acted on the request; settle it by look-up before any resend.
func (e *Error) Ambiguous() bool { return e.class == classAmbiguous }

// Fatal: the key, the instance or the setup is wrong; every further request would fail too.
func (e *Error) Fatal() bool { return e.class == classFatal }

// Unanswered reports a request that got no answer at all: the connection was refused or reset,
// or no response came in time. A run of them says the API is unreachable.
func (e *Error) Unanswered() bool { return e.unanswered }

// Class names the class for logs: permanent, retryable, ambiguous or fatal.
func (e *Error) Class() string { return e.class.String() }

// RetryAfter is the server's Retry-After, or 0 when it sent none.
func (e *Error) RetryAfter() time.Duration { return e.Retry }

// Throttled reports a 429: the rate limit spoke, so every caller, not just this one, should
// wait out RetryAfter and slow down. A 503's Retry-After is about this request only.
func (e *Error) Throttled() bool { return e.Status == http.StatusTooManyRequests }

// Conflict reports that another user already holds an identifier the request carried (422
// form_identifier_exists); param names it (external_id, email_address, ...).
func (e *Error) Conflict() (param string, ok bool) {
	if e.Code != "form_identifier_exists" {
		return "", false
	}
	return e.Param, true
}

// NotFound reports a 404: for Delete, the user is already gone.
func (e *Error) NotFound() bool { return e.Status == http.StatusNotFound }

// Details are the fields a journal keeps about a refusal.
func (e *Error) Details() (status int, code, param, message string) {
	return e.Status, e.Code, e.Param, e.Message
}

// statusClass maps a response to its class; the code wins where Clerk says more than the status.
func statusClass(status int, code string) errClass {
	switch {
	case code == "user_quota_exceeded":
		return classFatal
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return classFatal
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return classRetryable
	case status == http.StatusRequestTimeout: // the server gave up reading the request: not acted on
		return classRetryable
	case status >= 500:
		return classAmbiguous
	case status >= 300 && status < 400: // redirects are refused: the URL is wrong for every call
		return classFatal
	default:
		return classPermanent
	}
}

// maxRetryAfter bounds a parsed Retry-After; anything near it stops a run anyway.
const maxRetryAfter = 365 * 24 * time.Hour

// parseRetryAfter reads delay-seconds (Clerk's form) or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	// A long one is kept as asked (bounded, so it cannot overflow): the caller decides whether
	// to wait it out or stop the run (pacer.Caller.MaxPause), never a silent shorter wait.
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) {
			return 0
		}
		return time.Duration(min(secs, maxRetryAfter.Seconds()) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// bodyMessage turns a non-Clerk error body (a proxy's HTML page, a plain-text 429) into one short line.
func bodyMessage(body, contentType string, status int) string {
	// A body that is not Clerk's JSON came from something in between (a proxy, a load
	// balancer) and may echo the request, passwords and all: name it, never quote it.
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	if ct == "" {
		ct = "no content type"
		if strings.HasPrefix(strings.TrimSpace(body), "<") {
			ct = "text/html"
		}
	}
	if strings.TrimSpace(body) == "" {
		return http.StatusText(status)
	}
	return http.StatusText(status) + " (non-JSON response, " + ct + ")"
}
