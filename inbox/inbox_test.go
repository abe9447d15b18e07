package inbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// setup starts an in-memory sandbox and an inbox of it; call it inside a synctest bubble.
func setup(t *testing.T, push bool, opts ...markettest.Option) (*markettest.Server, *inbox.Inbox) {
	s, _, in := setupClient(t, push, opts...)
	return s, in
}

func setupClient(t *testing.T, push bool, opts ...markettest.Option) (*markettest.Server, *market.Client, *inbox.Inbox) {
	t.Helper()
	// The bubble's clock starts in 2000; the sandbox's chats are of November 2026, and what
	// happens now must come after them.
	since2000 := time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	s := markettest.NewInMemory(append([]markettest.Option{markettest.WithClock(func() time.Time { return time.Now().Add(since2000) })}, opts...)...)
	t.Cleanup(s.Close)
	mc, err := market.New(market.Options{BaseURL: s.URL, APIKey: s.APIKey, BusinessID: s.BusinessID,
		HTTPClient: s.Client(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	in := inbox.New(mc, inbox.NewMemoryLog(), inbox.Options{Push: push, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(in.Close)
	return s, mc, in
}

// waitFor runs Wait in the background and returns where its result comes.
type waited struct {
	events []inbox.Event
	cursor inbox.Cursor
	err    error
	at     time.Duration // how long after the start it came
}

func waitFor(in *inbox.Inbox, chatID int64, cursor inbox.Cursor, timeout time.Duration) <-chan waited {
	out := make(chan waited, 1)
	start := time.Now()
	go func() {
		events, next, err := in.Wait(context.Background(), chatID, cursor, timeout, nil)
		out <- waited{events, next, err, time.Since(start)}
	}()
	return out
}

func buyer(t *testing.T, s *markettest.Server, chat int64, text string) markettest.Message {
	t.Helper()
	m, ok := s.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: text})
	if !ok {
		t.Fatalf("no chat %d", chat)
	}
	return m
}

// TestPollingHearsNewMessages: a wait without a cursor hears what buyers write from then on,
// and a chain of waits with cursors misses nothing and gives nothing twice, though messages
// come while no one waits.
func TestPollingHearsNewMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, false)
		chat := s.Chats()[0].ChatID
		first := waitFor(in, 0, "", time.Minute)
		time.Sleep(time.Second) // the poller takes the chats as they are
		m1 := buyer(t, s, chat, "Где мой заказ?")
		got := <-first
		if got.err != nil || len(got.events) != 1 || got.events[0].Message.MessageID != m1.MessageID || got.events[0].Kind != inbox.KindMessage {
			t.Fatalf("first wait: %+v", got)
		}
		if got.at > 10*time.Second {
			t.Errorf("the message was heard after %v", got.at)
		}
		// Two messages while no one waits, and the seller's own answer, which is no event.
		m2 := buyer(t, s, chat, "Алло?")
		s.AddMessage(chat, markettest.Message{Sender: markettest.SenderPartner, Message: "Уже смотрим"})
		m3 := buyer(t, s, chat, "Спасибо")
		var heard []int64
		cursor := got.cursor
		for len(heard) < 2 {
			got = <-waitFor(in, 0, cursor, time.Minute)
			if got.err != nil || len(got.events) == 0 {
				t.Fatalf("wait from %s: %+v", cursor, got)
			}
			for _, e := range got.events {
				heard = append(heard, e.Message.MessageID)
			}
			cursor = got.cursor
		}
		if fmt.Sprint(heard) != fmt.Sprint([]int64{m2.MessageID, m3.MessageID}) {
			t.Errorf("heard %v, want %d and %d", heard, m2.MessageID, m3.MessageID)
		}
		// Nothing more: the wait times out with nothing.
		if got = <-waitFor(in, 0, cursor, 20*time.Second); got.err != nil || len(got.events) != 0 || got.at != 20*time.Second {
			t.Errorf("an idle wait: %+v", got)
		}
	})
}

// TestPollingHearsNewChatsAndDisputes: a chat a buyer opens and a dispute that starts and ends.
func TestPollingHearsNewChatsAndDisputes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, false)
		w := waitFor(in, 0, "", time.Minute)
		time.Sleep(time.Second)
		c := s.AddChat(markettest.Chat{Context: markettest.Context{Type: markettest.ContextDirect, Customer: markettest.Customer{Name: "Вера"}}, Status: markettest.StatusWaitingForPartner})
		buyer(t, s, c.ChatID, "Есть ли в продаже чайник?")
		var kinds []inbox.Kind
		for len(kinds) < 2 {
			got := <-w
			if got.err != nil {
				t.Fatal(got.err)
			}
			for _, e := range got.events {
				kinds = append(kinds, e.Kind)
			}
			w = waitFor(in, 0, got.cursor, time.Minute)
		}
		d := s.AddChat(markettest.Chat{Context: markettest.Context{Type: markettest.ContextOrder, OrderID: 53817204615}, Type: markettest.ChatTypeArbitrage, Status: markettest.StatusWaitingForArbiter})
		got := <-w
		d.Status = markettest.StatusFinished
		time.Sleep(time.Second)
		s.AddChat(d)
		s.AddMessage(d.ChatID, markettest.Message{Sender: markettest.SenderMarket, Message: "Спор закрыт"})
		kinds = append(kinds, got.events[0].Kind)
		for cursor := got.cursor; len(kinds) < 5; {
			got = <-waitFor(in, 0, cursor, time.Minute)
			for _, e := range got.events {
				kinds = append(kinds, e.Kind)
			}
			cursor = got.cursor
		}
		want := []inbox.Kind{inbox.KindChatCreated, inbox.KindMessage, inbox.KindDisputeStarted, inbox.KindMessage, inbox.KindDisputeFinished}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Errorf("heard %v, want %v", kinds, want)
		}
	})
}

// TestPollingKeepsToItsShare: waiting all hour long, polling spends at most its share of each
// operation's hourly budget.
func TestPollingKeepsToItsShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, false)
		chat := s.Chats()[0].ChatID
		ctx, stop := context.WithTimeout(context.Background(), time.Hour)
		defer stop()
		var writing sync.WaitGroup
		defer writing.Wait()
		writing.Go(func() { // a buyer who writes every minute
			for sleepCtx(ctx, time.Minute) == nil {
				buyer(t, s, chat, "Ещё вопрос")
			}
		})
		heard, cursor := 0, inbox.Cursor("")
		for ctx.Err() == nil {
			events, next, err := in.Wait(ctx, 0, cursor, 50*time.Second, nil)
			if err != nil && ctx.Err() == nil {
				t.Fatal(err)
			}
			heard += len(events)
			cursor = next
		}
		st := s.Stats().Requests
		for _, op := range []market.Operation{market.OpGetChats, market.OpGetChatHistory} {
			if most := int(inbox.DefaultPollShare*float64(op.HourlyLimit)) + 1; st[op.Name] > most {
				t.Errorf("%s: %d requests in the hour, over its share of %d", op.Name, st[op.Name], most)
			}
			t.Logf("%s: %d requests in the hour (share %d)", op.Name, st[op.Name], int(inbox.DefaultPollShare*float64(op.HourlyLimit)))
		}
		if heard < 55 {
			t.Errorf("heard %d of about 60 messages", heard)
		}
	})
}

// sleepCtx pauses for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// notification fills a recorded notification body with the test's ids.
func notification(t *testing.T, name string, business, chat, message int64) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("{{business}}", strconv.FormatInt(business, 10), "{{chat}}", strconv.FormatInt(chat, 10),
		"{{message}}", strconv.FormatInt(message, 10)).Replace(string(raw))
}

// post sends a body to the receiver as Market would, from a Yandex address.
func post(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "5.45.207.10:41000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func receiver(in *inbox.Inbox) http.Handler {
	return inbox.Receiver(inbox.ReceiverOptions{Name: "market-chat-mcp", Version: "test", From: inbox.YandexRanges}, in)
}

// TestReceiverAnswersTheContract: every kind of notification gets the answer Market expects,
// and a malformed one, or one about another cabinet, the error envelope.
func TestReceiverAnswersTheContract(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, true)
		h := receiver(in)
		chat := s.Chats()[1]
		msgs := s.Messages(chat.ChatID)
		last := msgs[len(msgs)-1].MessageID
		for _, name := range []string{"ping", "chat_created", "chat_message_sent", "chat_message_sent_number", "chat_arbitrage_started", "chat_arbitrage_finished", "order_created"} {
			w := post(h, notification(t, name, s.BusinessID, chat.ChatID, last))
			var ok struct{ Version, Name, Time string }
			if err := json.Unmarshal(w.Body.Bytes(), &ok); w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || err != nil ||
				ok.Name != "market-chat-mcp" || ok.Version != "test" {
				t.Errorf("%s: %d %s", name, w.Code, w.Body)
			}
			if _, err := time.Parse(time.RFC3339, ok.Time); err != nil || !strings.HasSuffix(ok.Time, "Z") {
				t.Errorf("%s: time %q is not UTC", name, ok.Time)
			}
		}
		for body, want := range map[string]string{
			`not json`:     "not a JSON object",
			`{"chatId":1}`: "notificationType is missing",
			notification(t, "chat_message_sent", s.BusinessID+1, chat.ChatID, last):                                                        "is not one of this server's cabinets",
			`{"notificationType":"CHAT_MESSAGE_SENT","chatId":1,"businessId":` + strconv.FormatInt(s.BusinessID, 10) + `,"messageId":"x"}`: "is not a message id",
			`{"notificationType":"CHAT_CREATED","businessId":` + strconv.FormatInt(s.BusinessID, 10) + `}`:                                 "needs businessId and chatId",
		} {
			w := post(h, body)
			var e struct {
				Error struct{ Type, Message string }
			}
			if json.Unmarshal(w.Body.Bytes(), &e); w.Code != 400 || e.Error.Type != "WRONG_EVENT_FORMAT" || !strings.Contains(e.Error.Message, want) {
				t.Errorf("%q: %d %s, want a 400 with %q", body, w.Code, w.Body, want)
			}
		}
		r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(notification(t, "ping", 0, 0, 0)))
		r.RemoteAddr = "203.0.113.9:5000" // not Yandex's
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 403 {
			t.Errorf("a notification from elsewhere: %d", w.Code)
		}
	})
}

// TestReceiverAnswersFirst: a notification is answered at once, before the API is asked, even
// when the API hangs.
func TestReceiverAnswersFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, true)
		s.Inject(markettest.OpGetChat, markettest.Fault{Delay: time.Hour})
		chat := s.Chats()[0]
		start := time.Now()
		for _, name := range []string{"ping", "chat_message_sent"} {
			if w := post(receiver(in), notification(t, name, s.BusinessID, chat.ChatID, 1)); w.Code != 200 || time.Since(start) != 0 {
				t.Errorf("%s answered %d after %v", name, w.Code, time.Since(start))
			}
		}
	})
}

// TestPushHearsNewMessages: a notification wakes a wait, with the message read from the API;
// the same notification again adds nothing and reads nothing; the chain of cursors goes on.
func TestPushHearsNewMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, in := setup(t, true)
		h := receiver(in)
		chat := s.Chats()[0].ChatID
		w := waitFor(in, chat, "", time.Minute)
		synctest.Wait()
		m := buyer(t, s, chat, "Можно поменять цвет?")
		body := notification(t, "chat_message_sent", s.BusinessID, chat, m.MessageID)
		post(h, body)
		got := <-w
		if got.err != nil || len(got.events) != 1 || got.events[0].Message.Text != "Можно поменять цвет?" || got.events[0].Chat.ChatID != chat || got.at != 0 {
			t.Fatalf("the wait: %+v", got)
		}
		reads := s.Stats().Requests[markettest.OpGetChatMessage]
		post(h, body)
		synctest.Wait()
		if n := s.Stats().Requests[markettest.OpGetChatMessage]; n != reads {
			t.Errorf("a repeated notification read the message again")
		}
		m2 := buyer(t, s, chat, "И ещё")
		post(h, notification(t, "chat_message_sent", s.BusinessID, chat, m2.MessageID))
		if got = <-waitFor(in, chat, got.cursor, time.Minute); len(got.events) != 1 || got.events[0].Message.MessageID != m2.MessageID {
			t.Errorf("the next wait: %+v", got)
		}
	})
}

// TestReceiverServesEveryCabinet: one receiver takes the notifications of several cabinets,
// each to the inbox of its businessId; one about none of them is refused.
func TestReceiverServesEveryCabinet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, inA := setup(t, true)
		b, inB := setup(t, true, markettest.WithBusinessID(a.BusinessID+1), markettest.WithSeedShift(100000))
		h := inbox.Receiver(inbox.ReceiverOptions{Name: "market-chat-mcp", Version: "test"}, inA, inB)
		chat := b.Chats()[0].ChatID
		wa, wb := waitFor(inA, 0, "", time.Minute), waitFor(inB, 0, "", time.Minute)
		synctest.Wait()
		m := buyer(t, b, chat, "Во второй кабинет")
		if w := post(h, notification(t, "chat_message_sent", b.BusinessID, chat, m.MessageID)); w.Code != http.StatusOK {
			t.Fatalf("answer %d: %s", w.Code, w.Body)
		}
		if got := <-wb; len(got.events) != 1 || got.events[0].Message.Text != "Во второй кабинет" {
			t.Errorf("cabinet B's wait: %+v", got)
		}
		if got := <-wa; len(got.events) != 0 || a.Stats().Requests[markettest.OpGetChatMessage] != 0 {
			t.Errorf("cabinet A heard B's notification: %+v", got)
		}
		w := post(h, notification(t, "chat_message_sent", b.BusinessID+1, chat, m.MessageID))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "is not one of this server's cabinets") {
			t.Errorf("a notification of another business: %d %s", w.Code, w.Body)
		}
	})
}

// TestCursors: a cursor that is not the server's is refused, and so is one whose events are gone.
func TestCursors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, in := setup(t, true)
		for _, c := range []inbox.Cursor{"garbage", "ABCDEFGH.1", "x.y"} {
			if _, _, err := in.Wait(context.Background(), 0, c, time.Second, nil); !errors.Is(err, inbox.ErrCursor) {
				t.Errorf("cursor %q: %v", c, err)
			}
		}
	})
}

// TestTheSandboxNotifies: the sandbox's buyers answer, and their messages come as notifications.
func TestTheSandboxNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, mc, in := setupClient(t, true, markettest.WithBuyers(5*time.Second, 0))
		h := receiver(in)
		posted := make(chan string, 8)
		rec := markettest.ServeInMemory(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			posted <- string(body)
			r.RemoteAddr = "5.45.207.10:1"
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			h.ServeHTTP(w, r)
		}))
		defer rec.Close()
		s.NotifyTo("http://receiver.invalid/notify", rec.Client())
		chat := s.Chats()[0].ChatID
		w := waitFor(in, chat, "", time.Minute)
		synctest.Wait()
		if _, err := mc.SendMessage(context.Background(), chat, "Здравствуйте!"); err != nil { // notified, but the seller's own: no event
			t.Fatal(err)
		}
		got := <-w
		if got.err != nil || len(got.events) != 1 || got.events[0].Message.Sender != market.SenderCustomer || got.at < 5*time.Second || got.at > 6*time.Second {
			t.Errorf("the wait: %+v", got)
		}
		if n := len(posted); n < 1 {
			t.Errorf("%d notifications posted", n)
		}
	})
}
