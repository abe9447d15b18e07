// Package market is a client of the Yandex Market Partner API's chat methods.
//
// Every method maps to one API operation (see Operations). The client speaks the current /v2/
// paths, authenticates with an Api-Key (or a deprecated OAuth token), decodes the API's error
// envelope into typed errors, and tags each request with a W3C traceparent whose trace id appears
// in logs and errors, so a request can be found by Market support.
package market

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the Partner API's address.
const DefaultBaseURL = "https://api.partner.market.yandex.ru"

// DefaultTimeout bounds one HTTP exchange. The API gives up on its side after 10 s; the rest is
// room for uploading a file of up to 5 MB.
const DefaultTimeout = 30 * time.Second

const (
	maxErrorBody  = 64 << 10 // error envelopes are small; a proxy's HTML page is cut here
	maxResultBody = 16 << 20 // a page of 100 messages of 4096 characters fits many times over
)

// Options configure a Client.
type Options struct {
	// BaseURL defaults to DefaultBaseURL. Any http or https URL works (a proxy, a local stand-in).
	BaseURL string
	// APIKey is sent as the Api-Key header. Exactly one of APIKey and OAuthToken must be set.
	APIKey string
	// OAuthToken is the deprecated alternative, sent as Authorization: Bearer.
	OAuthToken string
	// BusinessID is the seller's cabinet; an Api-Key belongs to one cabinet.
	BusinessID int64
	// HTTPClient defaults to a client of its own; its Timeout should be zero, as Timeout rules.
	HTTPClient *http.Client
	// Timeout bounds each HTTP exchange; it defaults to DefaultTimeout.
	Timeout time.Duration
	// Logger receives one debug line per request; it defaults to slog.Default().
	Logger *slog.Logger
	// UserAgent is sent as the User-Agent header.
	UserAgent string
}

// Client calls the chat operations of one business. It is safe for concurrent use.
type Client struct {
	base       string // BaseURL + /v2/businesses/{id}
	authHeader string
	authValue  string
	userAgent  string
	http       *http.Client
	timeout    time.Duration
	log        *slog.Logger
}

// New checks the options and returns a client. It does no network I/O.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q must be an absolute http or https URL", o.BaseURL)
	}
	if o.BusinessID <= 0 {
		return nil, errors.New("business id must be a positive integer")
	}
	c := &Client{
		base:      strings.TrimRight(o.BaseURL, "/") + "/v2/businesses/" + strconv.FormatInt(o.BusinessID, 10),
		userAgent: o.UserAgent,
		http:      o.HTTPClient,
		timeout:   o.Timeout,
		log:       o.Logger,
	}
	switch {
	case o.APIKey != "" && o.OAuthToken != "":
		return nil, errors.New("set either an API key or an OAuth token, not both")
	case o.APIKey != "":
		c.authHeader, c.authValue = "Api-Key", o.APIKey
	case o.OAuthToken != "":
		c.authHeader, c.authValue = "Authorization", "Bearer "+o.OAuthToken
	default:
		return nil, errors.New("an API key (or an OAuth token) is required")
	}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// request is what one call sends; it can be sent again, as its body is kept as bytes.
type request struct {
	op          Operation
	query       url.Values
	body        []byte
	contentType string
}

// jsonRequest builds a request whose body is v as JSON.
func jsonRequest(op Operation, query url.Values, v any) (*request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the request: %w", op.Name, err)
	}
	return &request{op: op, query: query, body: body, contentType: "application/json"}, nil
}

// envelope is the API's answer: {"status": "OK"|"ERROR", "result": ..., "errors": [...]}.
type envelope struct {
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// do sends req and decodes the answer's result into out (which may be nil).
func (c *Client) do(ctx context.Context, req *request, out any) error {
	traceID := newTraceID()
	resp, err := c.exchange(ctx, req, traceID)
	if err != nil {
		return err
	}
	return decodeResult(req.op, resp, traceID, out)
}

// response is a finished HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// exchange performs one HTTP exchange within the per-request timeout and reads the body.
func (c *Client) exchange(ctx context.Context, req *request, traceID string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	target := c.base + req.op.Path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.op.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.op.Name, err)
	}
	hr.Header.Set(c.authHeader, c.authValue)
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Traceparent", "00-"+traceID+"-"+randomHex(8)+"-01")
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}

	start := time.Now()
	hresp, err := c.http.Do(hr)
	if err != nil {
		c.log.DebugContext(ctx, "market request failed", "op", req.op.Name, "duration", time.Since(start), "trace_id", traceID, "error", err)
		return nil, fmt.Errorf("%s (trace %s): %w", req.op.Name, traceID, unwrapURLError(err))
	}
	defer hresp.Body.Close()
	limit := int64(maxResultBody)
	if hresp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(hresp.Body, limit))
	c.log.DebugContext(ctx, "market request", "op", req.op.Name, "status", hresp.StatusCode,
		"duration", time.Since(start), "remaining", hresp.Header.Get("X-RateLimit-Resource-Remaining"), "trace_id", traceID)
	if err != nil {
		return nil, fmt.Errorf("%s (trace %s): reading the answer: %w", req.op.Name, traceID, unwrapURLError(err))
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, nil
}

// decodeResult turns an answer into out or into a typed error.
func decodeResult(op Operation, resp *response, traceID string, out any) error {
	var env envelope
	jsonErr := json.Unmarshal(resp.body, &env)
	switch {
	case resp.status == statusEnhanceYourCalm:
		e := &RateLimitError{Op: op.Name, TraceID: traceID, Message: firstMessage(env)}
		e.Until, _ = http.ParseTime(resp.header.Get("X-RateLimit-Resource-Until"))
		e.Limit, _ = strconv.Atoi(resp.header.Get("X-RateLimit-Resource-Limit"))
		return e
	case resp.status < 200 || resp.status > 299 || (jsonErr == nil && env.Status == "ERROR"):
		e := &APIError{Op: op.Name, Status: resp.status, TraceID: traceID}
		if len(env.Errors) > 0 {
			e.Code, e.Message = env.Errors[0].Code, env.Errors[0].Message
		} else if jsonErr != nil {
			e.Message = strings.TrimSpace(strings.ToValidUTF8(string(resp.body[:min(len(resp.body), 200)]), ""))
		}
		return e
	case jsonErr != nil:
		return &ResponseError{Op: op.Name, Status: resp.status, Err: jsonErr, TraceID: traceID}
	case out == nil:
		return nil
	case len(env.Result) == 0 || string(env.Result) == "null":
		return &ResponseError{Op: op.Name, Status: resp.status, Err: errors.New("no result"), TraceID: traceID}
	}
	err := json.Unmarshal(env.Result, out)
	if c, ok := out.(checker); ok && err == nil {
		err = c.check()
	}
	if err != nil {
		return &ResponseError{Op: op.Name, Status: resp.status, Err: err, TraceID: traceID}
	}
	return nil
}

// checker is a result that can tell when a well-formed answer still lacks what it must hold.
type checker interface{ check() error }

func firstMessage(env envelope) string {
	if len(env.Errors) == 0 {
		return ""
	}
	return env.Errors[0].Message
}

// unwrapURLError drops *url.Error's "Post \"https://...\":" prefix, which repeats the URL in every message.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newTraceID returns a W3C trace id: 16 random bytes in hex.
func newTraceID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
