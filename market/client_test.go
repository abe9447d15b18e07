package market_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// newServer starts an in-memory markettest server that closes when the test ends. Inside a
// synctest bubble it runs on the bubble's clock.
func newServer(t *testing.T, opts ...markettest.Option) *markettest.Server {
	t.Helper()
	s := markettest.NewInMemory(opts...)
	t.Cleanup(s.Close)
	return s
}

// newClient returns a client of s with s's Api-Key, after edits change the options. It makes
// one exchange per call, so that a test sees the answer its call caused; withRetries restores
// the default.
func newClient(t *testing.T, s *markettest.Server, edits ...func(*market.Options)) *market.Client {
	t.Helper()
	o := market.Options{
		BaseURL:     s.URL,
		APIKey:      s.APIKey,
		BusinessID:  s.BusinessID,
		HTTPClient:  s.Client(),
		Logger:      slog.New(slog.DiscardHandler),
		MaxAttempts: 1,
	}
	for _, edit := range edits {
		edit(&o)
	}
	c, err := market.New(o)
	if err != nil {
		t.Fatalf("market.New: %v", err)
	}
	return c
}

// withRetries gives a client the default retries.
func withRetries(o *market.Options) { o.MaxAttempts = 0 }

// withOAuth makes a client authenticate with an OAuth token instead of the Api-Key.
func withOAuth(token string) func(*market.Options) {
	return func(o *market.Options) { o.APIKey, o.OAuthToken = "", token }
}

// withoutKeepAlives makes a client open a connection per request, so that Go's transport never
// retries a request whose connection was dropped as if it had been a stale idle one.
func withoutKeepAlives(o *market.Options) {
	o.HTTPClient.Transport.(*http.Transport).DisableKeepAlives = true
}

// lastRequest returns the last request s received.
func lastRequest(t *testing.T, s *markettest.Server) markettest.Request {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return reqs[len(reqs)-1]
}

var traceparent = regexp.MustCompile(`^00-([0-9a-f]{32})-[0-9a-f]{16}-01$`)

// traceID returns the trace id of the W3C traceparent header h carries.
func traceID(t *testing.T, h http.Header) string {
	t.Helper()
	m := traceparent.FindStringSubmatch(h.Get("Traceparent"))
	if m == nil {
		t.Fatalf("Traceparent %q is not a W3C traceparent", h.Get("Traceparent"))
	}
	return m[1]
}

// waitFor polls cond until it holds. The deadline only keeps a broken test from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wantEqual compares got and want in depth.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestNew(t *testing.T) {
	const key, token = "ACMA:secretKey0123456789:abcdef12", "y0_secretOAuthToken"
	tests := []struct {
		name    string
		opts    market.Options
		wantErr bool
	}{
		{"api key and the default base URL", market.Options{APIKey: key, BusinessID: 1}, false},
		{"oauth token", market.Options{OAuthToken: token, BusinessID: 1}, false},
		{"http base URL with a path", market.Options{BaseURL: "http://127.0.0.1:8080/proxy/", APIKey: key, BusinessID: 1}, false},
		{"no credentials", market.Options{BusinessID: 1}, true},
		{"both key and token: the token serves downloads", market.Options{APIKey: key, OAuthToken: token, BusinessID: 1}, false},
		{"business id 0", market.Options{APIKey: key}, true},
		{"negative business id", market.Options{APIKey: key, BusinessID: -5}, true},
		{"ftp base URL", market.Options{BaseURL: "ftp://api.partner.market.yandex.ru", APIKey: key, BusinessID: 1}, true},
		{"base URL without a scheme", market.Options{BaseURL: "api.partner.market.yandex.ru", APIKey: key, BusinessID: 1}, true},
		{"base URL without a host", market.Options{BaseURL: "https://", APIKey: key, BusinessID: 1}, true},
		{"relative base URL", market.Options{BaseURL: "/v2", APIKey: key, BusinessID: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := market.New(tt.opts)
			if tt.wantErr {
				if err == nil || c != nil {
					t.Fatalf("New = %v, %v; want an error", c, err)
				}
				if msg := err.Error(); strings.Contains(msg, key) || strings.Contains(msg, token) {
					t.Errorf("the error shows a credential: %s", msg)
				}
				return
			}
			if err != nil || c == nil {
				t.Fatalf("New = %v, %v", c, err)
			}
		})
	}
}

func TestBaseURLWithTrailingSlash(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, func(o *market.Options) { o.BaseURL = s.URL + "/" })
	if _, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{}); err != nil {
		t.Fatal(err)
	}
	if got, want := lastRequest(t, s).Path, "/v2/businesses/7654321/chats"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

func TestHeaders(t *testing.T) {
	const userAgent = "market-chat-mcp/1.0 (+tests)"
	const token = "y0_AgAAAAB0ZXN0LW9hdXRoLXRva2Vu"
	tests := []struct {
		name      string
		edit      func(*market.Options)
		wantAuth  string // the header that carries the credentials
		wantValue func(*markettest.Server) string
		wantNot   string // the header that must be absent
	}{
		{"api key", func(*market.Options) {}, "Api-Key", func(s *markettest.Server) string { return s.APIKey }, "Authorization"},
		{"oauth", withOAuth(token), "Authorization", func(*markettest.Server) string { return "Bearer " + token }, "Api-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, markettest.WithOAuthToken(token))
			c := newClient(t, s, tt.edit, func(o *market.Options) { o.UserAgent = userAgent })
			cases := requestCases(t, s)
			for _, rc := range cases {
				if err := rc.call(t.Context(), c); err != nil {
					t.Fatalf("%s: %v", rc.name, err)
				}
			}
			var reqs []markettest.Request // each call's own request, without the reads before sends
			all := s.Requests()
			for _, rc := range cases {
				all = all[rc.sendsRead():]
				reqs, all = append(reqs, all[0]), all[1:]
			}
			traces := make(map[string]bool)
			for i, r := range reqs {
				h := r.Header
				if got, want := h.Values(tt.wantAuth), []string{tt.wantValue(s)}; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %s %q, want %q", cases[i].name, tt.wantAuth, got, want)
				}
				if got := h.Values(tt.wantNot); len(got) > 0 {
					t.Errorf("%s: %s %q sent besides %s", cases[i].name, tt.wantNot, got, tt.wantAuth)
				}
				if got := h.Get("Accept"); got != "application/json" {
					t.Errorf("%s: Accept %q", cases[i].name, got)
				}
				if got := h.Get("User-Agent"); got != userAgent {
					t.Errorf("%s: User-Agent %q, want %q", cases[i].name, got, userAgent)
				}
				mediaType, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
				if mediaType != cases[i].contentType {
					t.Errorf("%s: Content-Type %q, want %q", cases[i].name, h.Get("Content-Type"), cases[i].contentType)
				}
				id := traceID(t, h)
				if traces[id] {
					t.Errorf("%s: trace id %s was sent before", cases[i].name, id)
				}
				traces[id] = true
			}
		})
	}
}

// logLine is one line of the client's log as slog's JSON handler writes it.
type logLine struct {
	Level   string  `json:"level"`
	Msg     string  `json:"msg"`
	Op      string  `json:"op"`
	Status  float64 `json:"status"`
	TraceID string  `json:"trace_id"`
	Error   string  `json:"error"`
}

func TestLogsAndErrorsNeverShowTheKey(t *testing.T) {
	const wrongKey = "ACMA:wrongKeyWrongKey0123456789:0badc0de"
	s := newServer(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logged := func(o *market.Options) { o.Logger = logger }
	c := newClient(t, s, logged, withoutKeepAlives)
	wrong := newClient(t, s, logged, withoutKeepAlives, func(o *market.Options) { o.APIKey = wrongKey })
	ctx := t.Context()

	s.Inject(markettest.OpGetChatHistory, markettest.Fault{Status: 500})
	s.Inject(markettest.OpGetChat, markettest.Fault{Drop: true})
	calls := []struct {
		call       func() error
		wantStatus int // 0: no answer
	}{
		{func() error { _, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{}); return err }, 200},
		{func() error { _, err := c.GetChatMessage(ctx, 1, 1); return err }, 404},
		{func() error { _, err := wrong.GetChats(ctx, market.ChatsFilter{}, market.Page{}); return err }, 401},
		{func() error { _, err := c.GetChatHistory(ctx, 1, 0, market.Page{}); return err }, 500},
		{func() error { _, err := c.GetChat(ctx, 1); return err }, 0},
	}
	for i, cl := range calls {
		err := cl.call()
		if (err == nil) != (cl.wantStatus == 200) {
			t.Fatalf("call %d: error %v", i, err)
		}
		if err != nil && (strings.Contains(err.Error(), s.APIKey) || strings.Contains(err.Error(), wrongKey)) {
			t.Errorf("call %d: the error shows the key: %v", i, err)
		}
	}

	if out := buf.String(); strings.Contains(out, s.APIKey) || strings.Contains(out, wrongKey) {
		t.Errorf("the log shows the key:\n%s", out)
	}
	byTrace := make(map[string]logLine)
	for line := range strings.Lines(buf.String()) {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		byTrace[l.TraceID] = l
	}
	reqs := s.Requests()
	if len(reqs) != len(calls) {
		t.Fatalf("%d requests for %d calls", len(reqs), len(calls))
	}
	for i, r := range reqs {
		l, ok := byTrace[traceID(t, r.Header)]
		switch {
		case !ok:
			t.Errorf("no log line for the %s request %d", r.Op, i)
		case l.Level != "DEBUG" || l.Op != r.Op || int(l.Status) != calls[i].wantStatus:
			t.Errorf("request %d: log line %+v, want a debug line of %s with status %d", i, l, r.Op, calls[i].wantStatus)
		case calls[i].wantStatus == 0 && l.Error == "":
			t.Errorf("request %d: the failed exchange is logged without its error: %+v", i, l)
		}
	}
}

func TestCancelledContextStopsTheRequest(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(markettest.OpGetChats, markettest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{})
		errc <- err
	}()
	waitFor(t, "the request in flight", func() bool { return s.Stats().InFlight == 1 })
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	waitFor(t, "the server to see the client go away", func() bool { return s.Stats().InFlight == 0 })
	if n := s.Stats().Requests[markettest.OpGetChats]; n != 1 {
		t.Errorf("%d getChats requests, want 1", n)
	}
}

func TestTimeout(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, func(o *market.Options) { o.Timeout = 100 * time.Millisecond })
	s.Inject(markettest.OpGetChats, markettest.Fault{Delay: 2 * time.Second})
	_, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	wantUntyped(t, err)
	waitFor(t, "the server to see the client go away", func() bool { return s.Stats().InFlight == 0 })
}

// TestRedirectsAreNotFollowed: an answer that redirects elsewhere (a captive portal, a
// misconfigured proxy) must not take the key or a message with it: the client stops there.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var elsewhere atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
				fmt.Fprint(w, `{"status":"OK"}`)
			}))
			defer other.Close()
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == "/v2/businesses/1/chats/history" {
					fmt.Fprint(w, `{"status":"OK","result":{"context":{"type":"DIRECT"},"messages":[]}}`)
					return
				}
				http.Redirect(w, r, other.URL+r.URL.Path, status)
			}))
			defer api.Close()
			c, err := market.New(market.Options{BaseURL: api.URL, APIKey: "ACMA:redirectTestKey0123456789:abc", BusinessID: 1, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SendMessage(t.Context(), 5, "Здравствуйте!")
			var api3xx *market.APIError
			if !errors.As(err, &api3xx) || api3xx.Status != status || !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("err = %v, want the redirect as an *APIError naming its host", err)
			}
			if _, err := c.GetChat(t.Context(), 5); !errors.As(err, &api3xx) {
				t.Errorf("GetChat: %v", err)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("%d requests followed the redirect", n)
			}
		})
	}
}

// TestEchoedSecretsAreRedacted: a proxy's error page that echoes the request's headers must not
// put the key into errors or logs.
func TestEchoedSecretsAreRedacted(t *testing.T) {
	const key = "ACMA:EchoedSecretPart0123456789abcdef:5eed1234"
	for _, page := range []string{
		"<html><body><pre>Api-Key: " + key + "</pre></body></html>",
		`{"status":"ERROR","errors":[{"code":"BAD","message":"header Api-Key=` + url.QueryEscape(key) + ` refused"}]}`,
		"upstream refused the secret EchoedSecretPart0123456789abcdef alone",
	} {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, page)
		}))
		var logs bytes.Buffer
		c, err := market.New(market.Options{BaseURL: api.URL, APIKey: key, BusinessID: 1, MaxAttempts: 1,
			Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetChat(t.Context(), 5)
		api.Close()
		if err == nil || !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("err = %v, want the echo redacted", err)
		}
		if out := err.Error() + logs.String(); strings.Contains(out, "EchoedSecretPart0123456789abcdef") {
			t.Errorf("the key shows:\n%s", out)
		}
	}
}

// TestCredentialsAreOneWord: a key or token with a line break inside is refused at once; one
// that ends with a line break (as secrets mounted from files do) is refused too, by New, rather
// than failing every request as a network error.
func TestCredentialsAreOneWord(t *testing.T) {
	for _, o := range []market.Options{
		{APIKey: "ACMA:key0123456789:abc\n", BusinessID: 1},
		{APIKey: "ACMA:key01\r\n23456789:abc", BusinessID: 1},
		{OAuthToken: "y0_token with space", BusinessID: 1},
	} {
		if _, err := market.New(o); err == nil || !strings.Contains(err.Error(), "one word") {
			t.Errorf("New(%q) = %v", o.APIKey+o.OAuthToken, err)
		}
	}
}
