package clerk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/clerk/clerk-sdk-go/v2"
)

// The instance's settings live behind two calls: the Backend API's GET /v1/domains names the
// instance's Frontend API, whose public GET /v1/environment holds user_settings. The body is
// returned raw: parsing it is the readiness check's job, not the client's.

// Domain is one of the instance's domains.
type Domain struct {
	ID             string
	Name           string
	IsSatellite    bool
	FrontendAPIURL string // e.g. https://clerk.example.com
}

// Domains lists the instance's domains (GET /v1/domains).
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	const op = "domains"
	req := sdk.NewAPIRequest(http.MethodGet, "/domains")
	var out sdk.DomainList
	if err := c.call(ctx, op, req, &out); err != nil {
		return nil, err
	}
	ds := make([]Domain, 0, len(out.Domains))
	for _, d := range out.Domains {
		if d != nil {
			ds = append(ds, Domain{ID: d.ID, Name: d.Name, IsSatellite: d.IsSatellite, FrontendAPIURL: d.FrontendAPIURL})
		}
	}
	return ds, nil
}

// FrontendAPI returns the primary (non-satellite) domain's Frontend API URL.
func (c *Client) FrontendAPI(ctx context.Context) (string, error) {
	ds, err := c.Domains(ctx)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if !d.IsSatellite && d.FrontendAPIURL != "" {
			return d.FrontendAPIURL, nil
		}
	}
	return "", &Error{Op: "domains", Status: http.StatusOK, Message: fmt.Sprintf("none of the instance's %d domains is a primary one with a frontend_api_url", len(ds)), class: classPermanent}
}

// maxEnvironment bounds the environment body read: Clerk's is tens of kilobytes.
const maxEnvironment = 1 << 20

// Environment fetches <frontendAPIURL>/v1/environment, the Frontend API's public settings, and
// returns its JSON body. No key is sent: browsers call it too. Plain http is allowed only for
// loopback hosts, as for the API URL.
func (c *Client) Environment(ctx context.Context, frontendAPIURL string) ([]byte, error) {
	const op = "environment"
	base := strings.TrimRight(strings.TrimSpace(frontendAPIURL), "/")
	if err := checkFrontendURL(base); err != nil {
		return nil, &Error{Op: op, Message: err.Error(), class: classPermanent}
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, base+"/v1/environment", nil)
	if err != nil {
		return nil, &Error{Op: op, Message: err.Error(), Err: err, class: classPermanent}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.environmentError(ctx, rctx, resp, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e := &Error{Op: op, Status: resp.StatusCode, TraceID: resp.Header.Get("Clerk-Trace-Id"),
			Retry: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: errors.New(http.StatusText(resp.StatusCode))}
		var apiErr struct {
			Errors []struct{ Code, Message string } `json:"errors"`
		}
		if json.Unmarshal(body, &apiErr) == nil && len(apiErr.Errors) > 0 {
			e.Code, e.Message = apiErr.Errors[0].Code, apiErr.Errors[0].Message
		} else {
			e.Message = bodyMessage(string(body), resp.Header.Get("Content-Type"), resp.StatusCode)
		}
		if e.class = statusClass(resp.StatusCode, e.Code); e.class == classAmbiguous {
			e.class = classRetryable // a GET changes nothing: there is nothing to be unsure of
		}
		return nil, e
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEnvironment+1))
	if err != nil {
		return nil, c.environmentError(ctx, rctx, nil, err)
	}
	if len(body) > maxEnvironment {
		return nil, &Error{Op: op, Status: resp.StatusCode, Message: fmt.Sprintf("response larger than %d bytes", maxEnvironment), class: classPermanent}
	}
	return body, nil
}

// environmentError describes a GET that got no usable answer; a GET changes nothing, so every
// such failure is safe to try again.
func (c *Client) environmentError(ctx, rctx context.Context, resp *http.Response, err error) *Error {
	e := &Error{Op: "environment", class: classRetryable}
	var ue *url.Error
	inner := err
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errRedirect):
		e.Status, e.Err, e.class = resp.StatusCode, errRedirect, classFatal
		e.Message = "unexpected redirect"
		if loc := resp.Header.Get("Location"); loc != "" {
			e.Message += " to " + loc
		}
	case ctx.Err() != nil:
		e.Err, e.Message = ctx.Err(), ctx.Err().Error()
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		e.Message = fmt.Sprintf("no response within %s", c.timeout)
		e.Err = fmt.Errorf("%w: %s", ErrRequestTimeout, e.Message)
	case errors.As(inner, &ne) && ne.Timeout():
		e.Message = inner.Error()
		e.Err = fmt.Errorf("%w: %s", ErrRequestTimeout, e.Message)
	case isTLSVerify(inner):
		e.Err, e.Message, e.class = inner, inner.Error(), classFatal
	default:
		e.Err, e.Message = inner, inner.Error()
	}
	e.Message = redact(e.Message, c.key)
	return e
}

// checkFrontendURL holds the Frontend API URL to the API URL's rules.
func checkFrontendURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("frontend API URL: %w", err)
	case u.User != nil:
		return errors.New("frontend API URL must not hold credentials")
	case u.Host == "":
		return fmt.Errorf("frontend API URL %q has no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("frontend API URL %q must not carry a query or fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("frontend API URL %q: plain http is allowed only for loopback hosts", raw)
	}
	return fmt.Errorf("frontend API URL %q: scheme must be https", raw)
}
