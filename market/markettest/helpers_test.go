package markettest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, time.November, 25, 12, 0, 0, 0, moscow)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// reply is an HTTP answer read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// newRequest makes a request to path, which is below /v2/businesses/{businessId}, with the
// server's Api-Key and, when there is a body, the JSON content type.
func newRequest(t testing.TB, s *Server, method, path, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, fmt.Sprintf("%s/v2/businesses/%d%s", s.URL, s.BusinessID, path), r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Api-Key", s.APIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func send(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

func get(t testing.TB, s *Server, path string) reply {
	t.Helper()
	return send(t, newRequest(t, s, http.MethodGet, path, ""))
}

func post(t testing.TB, s *Server, path, body string) reply {
	t.Helper()
	return send(t, newRequest(t, s, http.MethodPost, path, body))
}

// result checks that a is a success and decodes its result.
func result[T any](t testing.TB, a reply) T {
	t.Helper()
	var env struct {
		Status string `json:"status"`
		Result T      `json:"result"`
	}
	if a.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, &env); err != nil || env.Status != "OK" {
		t.Fatalf("body %s: status %q, err %v", a.body, env.Status, err)
	}
	return env.Result
}

// wantError checks that a is an error envelope with the status and code and a message that
// contains msg.
func wantError(t testing.TB, a reply, status int, code, msg string) {
	t.Helper()
	var env struct {
		Status string     `json:"status"`
		Errors []errorDTO `json:"errors"`
	}
	if err := json.Unmarshal(a.body, &env); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	if a.status != status || env.Status != "ERROR" || len(env.Errors) != 1 ||
		env.Errors[0].Code != code || !strings.Contains(env.Errors[0].Message, msg) {
		t.Fatalf("got %d %s, want %d %s with a message containing %q", a.status, a.body, status, code, msg)
	}
}

func wantNoLimitHeaders(t testing.TB, a reply) {
	t.Helper()
	for k := range a.header {
		if strings.HasPrefix(k, "X-Ratelimit-") {
			t.Errorf("answer %d carries %s: %v", a.status, k, a.header[k])
		}
	}
}

// wantLimitHeaders checks the X-RateLimit-Resource-* headers and returns Until.
func wantLimitHeaders(t testing.TB, a reply, limit, remaining int) time.Time {
	t.Helper()
	h := a.header
	if got, want := h.Get("X-RateLimit-Resource-Limit"), fmt.Sprint(limit); got != want {
		t.Errorf("answer %d: X-RateLimit-Resource-Limit %q, want %q", a.status, got, want)
	}
	if got, want := h.Get("X-RateLimit-Resource-Remaining"), fmt.Sprint(remaining); got != want {
		t.Errorf("answer %d: X-RateLimit-Resource-Remaining %q, want %q", a.status, got, want)
	}
	until, err := http.ParseTime(h.Get("X-RateLimit-Resource-Until"))
	if err != nil {
		t.Errorf("answer %d: X-RateLimit-Resource-Until: %v", a.status, err)
	}
	return until
}

// waitFor polls cond until it holds. The deadline only keeps a broken test from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type pager struct {
	NextPageToken string `json:"nextPageToken"`
}

type chatsPage struct {
	Chats  []Chat `json:"chats"`
	Paging *pager `json:"paging"`
}

type historyPage struct {
	OrderID  int64     `json:"orderId"`
	Context  Context   `json:"context"`
	Messages []Message `json:"messages"`
	Paging   *pager    `json:"paging"`
}

// findChat returns the first chat, in getChats order, for which match holds.
func findChat(t testing.TB, s *Server, match func(Chat) bool) Chat {
	t.Helper()
	for _, c := range s.Chats() {
		if match(c) {
			return c
		}
	}
	t.Fatal("no such chat in the seed")
	return Chat{}
}

func withStatus(status ChatStatus) func(Chat) bool {
	return func(c Chat) bool { return c.Status == status }
}

// longChat is the seeded chat with the long history.
func longChat(t testing.TB, s *Server) Chat {
	t.Helper()
	return findChat(t, s, func(c Chat) bool { return len(s.Messages(c.ChatID)) > 120 })
}

// fileRequest makes a sendFileToChat request whose multipart body has one part.
func fileRequest(t testing.TB, s *Server, chatID int64, field, fileName, contentType string, data []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	disposition := fmt.Sprintf(`form-data; name=%q`, field)
	if fileName != "" {
		disposition += fmt.Sprintf(`; filename=%q`, fileName)
	}
	h.Set("Content-Disposition", disposition)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	part, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	req := newRequest(t, s, http.MethodPost, fmt.Sprintf("/chats/file/send?chatId=%d", chatID), body.String())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}
