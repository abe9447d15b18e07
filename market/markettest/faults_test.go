package markettest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	s := newTestServer(t, WithBudget(OpGetChat, 10))
	chat := fmt.Sprintf("/chat?chatId=%d", s.Chats()[0].ChatID)
	s.Inject(OpGetChat, Fault{Status: 500}, Fault{Status: 503}, Fault{Status: 404})
	s.Inject(OpGetChats, Fault{Status: 400})

	a := get(t, s, chat)
	wantError(t, a, 500, "INTERNAL_ERROR", "Internal Server Error")
	wantLimitHeaders(t, a, 10, 10)
	wantError(t, get(t, s, chat), 503, "INTERNAL_ERROR", "Service temporarily unavailable. Please, try again later")
	wantError(t, post(t, s, "/chats", `{}`), 400, "BAD_REQUEST", "")
	a = get(t, s, chat)
	wantError(t, a, 404, "NOT_FOUND", "")
	wantLimitHeaders(t, a, 10, 9) // an injected 4xx spends budget like a real one
	result[Chat](t, get(t, s, chat))
	result[chatsPage](t, post(t, s, "/chats", `{}`))
}

func TestFaultLimit(t *testing.T) {
	s := newTestServer(t)
	chat := fmt.Sprintf("/chat?chatId=%d", s.Chats()[0].ChatID)
	until := time.Date(2026, time.November, 25, 13, 0, 0, 0, time.UTC)
	s.Inject(OpGetChat, Fault{Status: 420, Until: until}, Fault{Status: 420})

	a := get(t, s, chat)
	wantError(t, a, 420, "LIMIT_EXCEEDED", "Hit rate limit of '1000' requests per '1 hour' for resource '/v2/businesses/{businessId}/chat'")
	if got := a.header.Get("X-RateLimit-Resource-Until"); got != "Wed, 25 Nov 2026 13:00:00 GMT" {
		t.Errorf("Until %q", got)
	}
	wantLimitHeaders(t, a, 1000, 0)

	a = get(t, s, chat)
	wantError(t, a, 420, "LIMIT_EXCEEDED", "Hit rate limit of 4 parallel requests")
	wantNoLimitHeaders(t, a)

	if st := s.Stats(); st.RateLimited() != 0 {
		t.Errorf("injected 420s counted as the limits' own: %+v", st)
	}
	wantLimitHeaders(t, get(t, s, chat), 1000, 999)
}

func TestFaultBody(t *testing.T) {
	s := newTestServer(t)
	s.Inject(OpGetChats, Fault{Body: "not json"}, Fault{Status: 502, Body: "<html>Bad Gateway</html>"})
	if a := post(t, s, "/chats", `{}`); a.status != 200 || string(a.body) != "not json" {
		t.Errorf("got %d %q", a.status, a.body)
	}
	if a := post(t, s, "/chats", `{}`); a.status != 502 || string(a.body) != "<html>Bad Gateway</html>" {
		t.Errorf("got %d %q", a.status, a.body)
	}
	result[chatsPage](t, post(t, s, "/chats", `{}`))
}

func TestFaultDelay(t *testing.T) {
	s := newTestServer(t)
	s.Inject(OpGetChats, Fault{Delay: time.Millisecond})
	result[chatsPage](t, post(t, s, "/chats", `{}`))

	// A client that gives up releases the request at once, not after the delay.
	s.Inject(OpGetChats, Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(newRequest(t, s, "POST", "/chats", `{}`).WithContext(ctx))
		errc <- err
	}()
	waitFor(t, "the request in flight", func() bool { return s.Stats().InFlight == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client got %v", err)
	}
	waitFor(t, "the server to let go", func() bool { return s.Stats().InFlight == 0 })
	result[chatsPage](t, post(t, s, "/chats", `{}`))
}

func TestCloseReleasesDelayedRequests(t *testing.T) {
	s := New()
	s.Inject(OpGetChats, Fault{Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(newRequest(t, s, "POST", "/chats", `{}`))
		errc <- err
	}()
	waitFor(t, "the request in flight", func() bool { return s.Stats().InFlight == 1 })
	s.Close()
	if err := <-errc; err == nil {
		t.Error("the held request was answered")
	}
}

// fresh is a client that opens a connection per request, so that a dropped connection is never
// retried as a stale idle one would be.
var fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func TestFaultDrop(t *testing.T) {
	s := newTestServer(t)
	chat := fmt.Sprintf("/chat?chatId=%d", s.Chats()[0].ChatID)
	s.Inject(OpGetChat, Fault{Drop: true})
	if resp, err := fresh.Do(newRequest(t, s, "GET", chat, "")); err == nil {
		resp.Body.Close()
		t.Fatalf("a dropped request got %s", resp.Status)
	}
	result[Chat](t, get(t, s, chat))
}

func TestFaultCommit(t *testing.T) {
	s := newTestServer(t)
	c := findChat(t, s, withStatus(StatusWaitingForPartner))
	path := fmt.Sprintf("/chats/message?chatId=%d", c.ChatID)
	lastText := func() string {
		msgs := s.Messages(c.ChatID)
		return msgs[len(msgs)-1].Message
	}

	s.Inject(OpSendMessageToChat, Fault{Commit: true, Status: 500})
	wantError(t, post(t, s, path, `{"message":"Первый ответ"}`), 500, "INTERNAL_ERROR", "")
	if got := lastText(); got != "Первый ответ" {
		t.Errorf("after a committed 500 the last message is %q", got)
	}
	if got, _ := s.Chat(c.ChatID); got.Status != StatusWaitingForCustomer {
		t.Errorf("status %s after a committed message", got.Status)
	}

	s.Inject(OpSendMessageToChat, Fault{Commit: true, Drop: true})
	if resp, err := fresh.Do(newRequest(t, s, "POST", path, `{"message":"Второй ответ"}`)); err == nil {
		resp.Body.Close()
		t.Fatalf("a dropped request got %s", resp.Status)
	}
	if got := lastText(); got != "Второй ответ" {
		t.Errorf("after a committed drop the last message is %q", got)
	}

	// A commit with nothing else answers once, with the committed answer.
	before := len(s.Messages(c.ChatID))
	s.Inject(OpSendMessageToChat, Fault{Commit: true, Delay: time.Millisecond})
	if a := post(t, s, path, `{"message":"Третий ответ"}`); string(a.body) != `{"status":"OK"}` {
		t.Errorf("got %d %s", a.status, a.body)
	}
	if got := len(s.Messages(c.ChatID)) - before; got != 1 {
		t.Errorf("a committed success stored %d messages", got)
	}

	// Without Commit, a failed write stores nothing.
	s.Inject(OpSendMessageToChat, Fault{Status: 500})
	post(t, s, path, `{"message":"Потерянный ответ"}`)
	if got := lastText(); got != "Третий ответ" {
		t.Errorf("an uncommitted 500 stored %q", got)
	}

	s.Inject(OpSendFileToChat, Fault{Commit: true, Status: 504})
	wantError(t, send(t, fileRequest(t, s, c.ChatID, "file", "накладная.jpg", "image/jpeg", photo)), 504, "INTERNAL_ERROR", "")
	if msgs := s.Messages(c.ChatID); len(msgs[len(msgs)-1].Payload) != 1 || msgs[len(msgs)-1].Payload[0].Name != "накладная.jpg" {
		t.Errorf("a committed file was not stored: %+v", msgs[len(msgs)-1])
	}

	s.Inject(OpCreateChat, Fault{Commit: true, Status: 503})
	wantError(t, post(t, s, "/chats/new", `{"orderId":53822517306}`), 503, "INTERNAL_ERROR", "")
	created := findChat(t, s, func(c Chat) bool { return c.OrderID == 53822517306 })
	if again := result[struct {
		ChatID int64 `json:"chatId"`
	}](t, post(t, s, "/chats/new", `{"orderId":53822517306}`)); again.ChatID != created.ChatID {
		t.Errorf("createChat after a committed failure gave %d, want %d", again.ChatID, created.ChatID)
	}
}

func TestFaultsFollowAuthentication(t *testing.T) {
	s := newTestServer(t)
	s.Inject(OpGetChats, Fault{Status: 500})
	req := newRequest(t, s, "POST", "/chats", `{}`)
	req.Header.Set("Api-Key", "wrong")
	wantError(t, send(t, req), 401, "UNAUTHORIZED", "")
	wantError(t, post(t, s, "/chats", `{}`), 500, "INTERNAL_ERROR", "")
}
