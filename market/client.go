// Package market is a client of the Yandex Market Partner API's chat methods.
//
// Every method maps to one API operation (see Operations). The client speaks the current /v2/
// paths, authenticates with an Api-Key (or a deprecated OAuth token), decodes the API's error
// envelope into typed errors, and tags each request with a W3C traceparent whose trace id appears
// in logs and errors, so a request can be found by Market support.
package market

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v4"
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

// ErrAnswerTooLarge is the cause of a *ResponseError for an answer larger than the client reads.
var ErrAnswerTooLarge = fmt.Errorf("the answer is larger than the %d MB the client reads", maxResultBody>>20)

// Options configure a Client.
type Options struct {
	// BaseURL defaults to DefaultBaseURL. Any http or https URL works (a proxy, a local stand-in).
	BaseURL string
	// APIKey is sent as the Api-Key header. At least one of APIKey and OAuthToken must be set.
	APIKey string
	// OAuthToken is the deprecated alternative, sent as Authorization: Bearer when there is no
	// APIKey. With an APIKey it serves only the downloads of attachments (see Download).
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
	// MaxParallel bounds the requests in flight; it defaults to DefaultMaxParallel, the API's limit.
	MaxParallel int
	// MaxWait bounds how long a call waits for one of the API's limits; zero means
	// DefaultMaxWait, and NoWait makes calls that would wait fail at once. A longer wait ends at
	// once with a *RateLimitError.
	MaxWait time.Duration
	// MaxAttempts bounds the exchanges of one call; it defaults to DefaultMaxAttempts, and 1
	// turns retries off.
	MaxAttempts int
	// Download configures the downloads of attachments.
	Download DownloadOptions
	// Shared keeps the business's limits and the turns of its chats' sends, with the clients of
	// the business in other processes; nil keeps them in this process.
	Shared Shared
}

// Client calls the chat operations of one business. It is safe for concurrent use.
//
// It keeps to the API's limits: at most MaxParallel requests in flight, and per operation no
// more requests than the hourly budget has left (see budget); a 420 answer waits for the limit
// and tries again. Reads are retried after server failures, timeouts and broken connections.
// Sends are never blindly repeated: see Client.send.
type Client struct {
	business   int64
	base       string // BaseURL + /v2/businesses/{id}
	authHeader string
	authValue  string
	userAgent  string
	http       *http.Client
	timeout    time.Duration
	maxWait    time.Duration
	attempts   int
	log        *slog.Logger

	parallel int
	shared   Shared
	newest   newestMessages
	download *downloader
	skew     atomic.Int64 // the API's clock minus ours, in nanoseconds, from the Date header
	redact   *strings.Replacer
}

// BusinessID returns the cabinet the client calls.
func (c *Client) BusinessID() int64 { return c.business }

// NoWait, as Options.MaxWait, makes a call that would have to wait for a limit fail at once.
const NoWait time.Duration = -1

// New checks the options and returns a client. It does no network I/O.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := o.BaseURL
		if err == nil {
			shown = u.Redacted()
		} else if strings.Contains(shown, "@") {
			shown = "(a malformed URL)"
		}
		return nil, fmt.Errorf("base URL %q must be an absolute http or https URL", shown)
	}
	if o.BusinessID <= 0 {
		return nil, errors.New("business id must be a positive integer")
	}
	c := &Client{
		business:  o.BusinessID,
		base:      strings.TrimRight(o.BaseURL, "/") + "/v2/businesses/" + strconv.FormatInt(o.BusinessID, 10),
		userAgent: o.UserAgent,
		http:      o.HTTPClient,
		timeout:   cmp.Or(o.Timeout, DefaultTimeout),
		maxWait:   max(cmp.Or(o.MaxWait, DefaultMaxWait), 0),
		attempts:  cmp.Or(o.MaxAttempts, DefaultMaxAttempts),
		log:       cmp.Or(o.Logger, slog.Default()),
		parallel:  cmp.Or(o.MaxParallel, DefaultMaxParallel),
		shared:    o.Shared,
	}
	if c.shared == nil {
		c.shared = NewLocal()
	}
	switch {
	case o.APIKey != "":
		c.authHeader, c.authValue = "Api-Key", o.APIKey
	case o.OAuthToken != "":
		c.authHeader, c.authValue = "Authorization", "Bearer "+o.OAuthToken
	default:
		return nil, errors.New("an API key (or an OAuth token) is required")
	}
	if strings.ContainsFunc(o.APIKey+o.OAuthToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("the API key (or OAuth token) must be one word, without spaces or line breaks")
	}
	c.redact = redactor(o.APIKey, o.OAuthToken)
	c.download = newDownloader(u, o.APIKey, o.OAuthToken, o.Download)
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for each request that may be in flight, rather than the default two:
		// the others would be closed after every answer and opened again, TLS handshake and all.
		t.MaxIdleConnsPerHost = c.parallel
		c.http = &http.Client{Transport: t}
	}
	hc := *c.http
	// Go follows redirects with the Api-Key header and, for 307 and 308, the body: to another
	// host, even from https to http. The API does not redirect, so an answer that does is taken
	// as it is, and neither the key nor a message ever leaves the configured host.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	return c, nil
}

// redactor replaces the credentials, and the forms an echo of a request may show them in, with
// "[redacted]".
func redactor(credentials ...string) *strings.Replacer {
	var secrets []string
	add := func(s string) {
		if len(s) >= 8 && !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	for _, s := range credentials {
		if s == "" {
			continue
		}
		add(s)
		add(url.QueryEscape(s))
		for part := range strings.SplitSeq(s, ":") { // an Api-Key is ACMA:<secret>:<check>
			if len(part) >= 16 {
				add(part)
			}
		}
	}
	// At each place the first match in argument order wins: the whole key before its parts.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, "[redacted]")
	}
	return strings.NewReplacer(pairs...)
}

// request is what one call sends; it can be sent again, as its body is kept as bytes.
type request struct {
	op          Operation
	query       url.Values
	body        []byte
	contentType string
	// answered is the API's time of the answer that succeeded, from its Date header.
	answered time.Time
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

// do sends req, trying again as far as its operation allows (see retryable), and decodes the
// answer's result into out, which may be nil. All attempts share one trace id.
func (c *Client) do(ctx context.Context, req *request, out any) error {
	traceID := newTraceID()
	pause := newBackOff()
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, req, traceID, attempt, out)
		if err == nil || attempt == c.attempts || ctx.Err() != nil || !c.retryable(ctx, req.op, err) {
			return err
		}
		d := pause.NextBackOff()
		if d == backoff.Stop {
			return err
		}
		c.log.DebugContext(ctx, "market request will be retried", "op", req.op.Name, "attempt", attempt, "after", d, "trace_id", traceID, "error", err)
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// attempt makes one exchange once the operation's budget and the parallel limit admit it.
func (c *Client) attempt(ctx context.Context, req *request, traceID string, attempt int, out any) error {
	a, err := c.admit(ctx, req.op)
	if err != nil {
		return err
	}
	leave := a.Leave
	if leave == nil {
		if leave, err = c.shared.Enter(ctx, c.parallel); err != nil {
			c.shared.Settle(ctx, req.op, a, nil)
			return err
		}
	}
	resp, err := c.exchange(ctx, req, traceID, attempt)
	leave()
	if err != nil {
		c.shared.Settle(context.WithoutCancel(ctx), req.op, a, nil)
		return err
	}
	c.shared.Settle(context.WithoutCancel(ctx), req.op, a, told(resp.status, resp.header, c.clockSkew()))
	if err := c.decodeResult(req.op, resp, traceID, out); err != nil {
		return err
	}
	req.answered = c.apiTime(resp.header, time.Now())
	return nil
}

// response is a finished HTTP exchange with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
	// tooLarge is set when the body was cut at the limit the client reads.
	tooLarge bool
}

// exchange performs one HTTP exchange within the per-request timeout and reads the body.
func (c *Client) exchange(ctx context.Context, req *request, traceID string, attempt int) (*response, error) {
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
	// Once a connection is had, the request may reach the API whatever happens next.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { sent.Store(true) }})
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
	log := func(status int, hdr http.Header, err error) {
		if !c.log.Enabled(ctx, slog.LevelDebug) {
			return // the attributes cost more than the check
		}
		attrs := []any{"op", req.op.Name, "status", status, "duration", time.Since(start), "attempt", attempt, "trace_id", traceID}
		if remaining, err := strconv.Atoi(hdr.Get("X-RateLimit-Resource-Remaining")); err == nil {
			attrs = append(attrs, "remaining", remaining)
		}
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		c.log.DebugContext(ctx, "market request", attrs...)
	}
	hresp, err := c.http.Do(hr)
	if err != nil {
		err = &NetworkError{Op: req.op.Name, TraceID: traceID, Sent: sent.Load(), Err: unwrapURLError(err)}
		log(0, nil, err)
		return nil, err
	}
	defer hresp.Body.Close()
	limit := int64(maxResultBody)
	if hresp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	data, err := io.ReadAll(io.LimitReader(hresp.Body, limit+1))
	if err != nil {
		err = &NetworkError{Op: req.op.Name, TraceID: traceID, Sent: true, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	log(hresp.StatusCode, hresp.Header, err)
	if err != nil {
		return nil, err
	}
	c.learnClock(hresp.Header, start)
	resp := &response{status: hresp.StatusCode, header: hresp.Header, body: data}
	if int64(len(data)) > limit {
		resp.body, resp.tooLarge = data[:limit], true
	}
	return resp, nil
}

// clockSkew is how far the API's clock is ahead of ours, when that is more than the Date
// header's whole seconds can tell from network delay.
func (c *Client) clockSkew() time.Duration {
	if s := time.Duration(c.skew.Load()); s > 2*time.Second || s < -2*time.Second {
		return s
	}
	return 0
}

// learnClock keeps the difference between the API's clock and ours, from an answer's Date.
func (c *Client) learnClock(h http.Header, sent time.Time) {
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		c.skew.Store(int64(date.Sub(sent)))
	}
}

// apiTime is the API's time of an answer: its Date, or, without one, our time moved by what the
// client knows of the API's clock.
func (c *Client) apiTime(h http.Header, now time.Time) time.Time {
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		return date
	}
	return now.Add(c.clockSkew()).Truncate(time.Second)
}

// decodeResult turns an answer into out or into a typed error. Every text taken from the answer
// has the client's credentials removed, in case a proxy's page echoes the request.
func (c *Client) decodeResult(op Operation, resp *response, traceID string, out any) error {
	if resp.tooLarge && resp.status >= 200 && resp.status <= 299 {
		return &ResponseError{Op: op.Name, Status: resp.status, TraceID: traceID, Err: ErrAnswerTooLarge}
	}
	if out != nil && resp.status >= 200 && resp.status <= 299 && decodeOK(resp.body, out) {
		return checkResult(op, resp, traceID, out, nil)
	}
	var env envelope
	jsonErr := json.Unmarshal(resp.body, &env)
	message := func() string {
		if len(env.Errors) > 0 {
			return c.redact.Replace(env.Errors[0].Message)
		}
		if jsonErr != nil {
			return c.redact.Replace(pageText(resp.body))
		}
		return ""
	}
	switch {
	case resp.status == statusEnhanceYourCalm:
		e := &RateLimitError{Op: op.Name, TraceID: traceID, Message: message()}
		e.Until, _ = http.ParseTime(resp.header.Get("X-RateLimit-Resource-Until"))
		e.Limit, _ = strconv.Atoi(resp.header.Get("X-RateLimit-Resource-Limit"))
		remaining, err := strconv.Atoi(resp.header.Get("X-RateLimit-Resource-Remaining"))
		e.Parallel = e.Until.IsZero() || (err == nil && remaining > 0)
		if !e.Parallel {
			e.Until = capWindow(e.Until.Add(-c.clockSkew()), time.Now())
		}
		return e
	case resp.status >= 300 && resp.status <= 399:
		return &APIError{Op: op.Name, Status: resp.status, TraceID: traceID, Redirect: redirectHost(resp.header)}
	case resp.status < 200 || resp.status > 299 || (jsonErr == nil && env.Status == "ERROR"):
		e := &APIError{Op: op.Name, Status: resp.status, TraceID: traceID, Message: message()}
		if len(env.Errors) > 0 {
			e.Code = c.redact.Replace(env.Errors[0].Code)
		}
		return e
	case jsonErr != nil:
		return &ResponseError{Op: op.Name, Status: resp.status, Err: jsonErr, TraceID: traceID}
	case out == nil:
		return nil
	case len(env.Result) == 0 || string(env.Result) == "null":
		return &ResponseError{Op: op.Name, Status: resp.status, Err: errors.New("no result"), TraceID: traceID}
	}
	return checkResult(op, resp, traceID, out, json.Unmarshal(env.Result, out))
}

// redirectHost names where a redirect points, without the rest of its URL.
func redirectHost(h http.Header) string {
	u, err := url.Parse(h.Get("Location"))
	if err != nil || u.Host == "" {
		return "another address"
	}
	return u.Host
}

// maxPageText bounds the text kept of an answer that is not the API's JSON.
const maxPageText = 200

// pageText is what a reader would see of an answer that is not the API's JSON, such as a
// proxy's HTML error page: its title if it has one, else its text without markup, on one line,
// cut to maxPageText bytes of whole characters.
func pageText(body []byte) string {
	text := strings.ToValidUTF8(string(body), "")
	if m := htmlTitle.FindStringSubmatch(text); m != nil {
		text = m[1]
	} else {
		text = htmlHidden.ReplaceAllString(text, " ")
		text = htmlTag.ReplaceAllString(text, " ")
	}
	text = strings.Join(strings.Fields(html.UnescapeString(text)), " ")
	if len(text) <= maxPageText {
		return text
	}
	cut := maxPageText
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}

var (
	htmlTitle  = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	htmlHidden = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>|<!--.*?-->`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// decodeOK decodes the result of an answer that says OK into out in one pass over the body, and
// reports whether the answer was one; decodeResult tells what is wrong with any other.
func decodeOK(body []byte, out any) bool {
	result := reflect.New(reflect.TypeOf(out)) // a nil *T, which decoding points at the result, if there is one
	env := struct {
		Status string `json:"status"`
		Result any    `json:"result"`
	}{Result: result.Interface()}
	if json.Unmarshal(body, &env) != nil || env.Status == "ERROR" || result.Elem().IsNil() {
		return false
	}
	reflect.ValueOf(out).Elem().Set(result.Elem().Elem())
	return true
}

// checkResult ends decodeResult: the error of decoding the result, or what the result's own
// check finds missing, as a *ResponseError.
func checkResult(op Operation, resp *response, traceID string, out any, err error) error {
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
