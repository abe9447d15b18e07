package market_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// TestBurstKeepsToTheLimits fires 50 reads at once at a server that allows 4 in flight and 20
// per one-second window: none may be refused, and every one must complete.
func TestBurstKeepsToTheLimits(t *testing.T) {
	s := newServer(t, markettest.WithBudget(markettest.OpGetChat, 20), markettest.WithLimitWindow(time.Second))
	c := newClient(t, s, withRetries)
	chat := openChat(t, s).ChatID
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.GetChat(t.Context(), chat)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	st := s.Stats()
	if st.RateLimited() != 0 || st.Requests[markettest.OpGetChat] != 50 || st.MaxInFlight > market.DefaultMaxParallel {
		t.Errorf("420s %d, requests %d, most in flight %d", st.RateLimited(), st.Requests[markettest.OpGetChat], st.MaxInFlight)
	}
}

// TestSendsKeepTheirOrder sends 50 messages to one chat, each started after the one before it
// joined the queue, through a small budget: all arrive once, in order, with no 420.
func TestSendsKeepTheirOrder(t *testing.T) {
	s := newServer(t, markettest.WithBudget(markettest.OpSendMessageToChat, 20), markettest.WithLimitWindow(time.Second))
	c := newClient(t, s, withRetries)
	chat := openChat(t, s).ChatID
	before := len(s.Messages(chat))
	// The first send is held at the server until all have queued up behind it.
	s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Delay: 5 * time.Second})
	var wg sync.WaitGroup
	for i := 1; i <= 50; i++ {
		wg.Go(func() {
			if err := c.SendMessage(t.Context(), chat, fmt.Sprintf("ответ %d", i)); err != nil {
				t.Error(err)
			}
		})
		waitFor(t, "the send to join the queue", func() bool { return c.SendsQueued(chat) == i })
	}
	wg.Wait()
	msgs := s.Messages(chat)[before:]
	if len(msgs) != 50 {
		t.Fatalf("%d messages stored, want 50", len(msgs))
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("ответ %d", i+1); m.Message != want {
			t.Fatalf("message %d is %q, want %q", i, m.Message, want)
		}
	}
	if n := s.Stats().RateLimited(); n != 0 {
		t.Errorf("%d answers were 420", n)
	}
}

// TestSpentBudgetWaitsWithoutAsking: once an answer says nothing is left, the next call waits
// for the window's end without a request in between, then goes through.
func TestSpentBudgetWaitsWithoutAsking(t *testing.T) {
	s := newServer(t, markettest.WithBudget(markettest.OpGetChats, 2), markettest.WithLimitWindow(time.Second))
	c := newClient(t, s, withRetries)
	var waits []market.Wait
	ctx := market.WithWaitNotifier(t.Context(), func(w market.Wait) { waits = append(waits, w) })
	for i := range 3 {
		if _, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{Limit: 1}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if st := s.Stats(); st.RateLimited() != 0 || st.Requests[markettest.OpGetChats] != 3 {
		t.Errorf("420s %d, requests %d", st.RateLimited(), st.Requests[markettest.OpGetChats])
	}
	if len(waits) != 1 || waits[0].Op != "getChats" || waits[0].Until.IsZero() {
		t.Errorf("waits reported: %+v", waits)
	}
}

func TestRateLimitAnswers(t *testing.T) {
	t.Run("a wait within bounds is waited out", func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: time.Now().Add(time.Second)})
		if _, err := c.GetChat(t.Context(), openChat(t, s).ChatID); err != nil {
			t.Fatal(err)
		}
		if n := s.Stats().Requests[markettest.OpGetChat]; n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("a wait past the ceiling ends the call at once", func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries, func(o *market.Options) { o.MaxWait = 5 * time.Second })
		until := time.Now().Add(time.Hour).Truncate(time.Second)
		s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: until})
		_, err := c.GetChat(t.Context(), openChat(t, s).ChatID)
		var rl *market.RateLimitError
		if !errors.As(err, &rl) || !rl.Until.Equal(until) || rl.Op != "getChat" || rl.TraceID == "" {
			t.Fatalf("err = %#v", err)
		}
		for _, want := range []string{"getChat", "resets in ", until.UTC().Format(time.RFC3339)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
		// The next call knows the budget is spent and does not ask.
		_, err = c.GetChat(t.Context(), openChat(t, s).ChatID)
		if !errors.As(err, &rl) || !rl.Local {
			t.Errorf("second call: %v", err)
		}
		if n := s.Stats().Requests[markettest.OpGetChat]; n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("a wait past the caller's deadline ends the call at once", func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: time.Now().Add(20 * time.Second)})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.GetChat(ctx, openChat(t, s).ChatID)
		if !errors.As(err, new(*market.RateLimitError)) || ctx.Err() != nil {
			t.Errorf("err = %v, context %v", err, ctx.Err())
		}
	})
	t.Run("the parallel limit is retried after a pause", func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 420}, markettest.Fault{Status: 420})
		chat := openChat(t, s).ChatID
		before := len(s.Messages(chat))
		if err := c.SendMessage(t.Context(), chat, "Добрый день"); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Messages(chat)) - before; n != 1 {
			t.Errorf("%d messages stored", n)
		}
	})
}

// TestReadsRecover: every kind of failure once, then an answer.
func TestReadsRecover(t *testing.T) {
	faults := map[string]markettest.Fault{
		"500":                {Status: 500},
		"503":                {Status: 503},
		"dropped connection": {Drop: true},
		"slow answer":        {Delay: 2 * time.Second},
		"not JSON":           {Body: "<html>oops</html>"},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries, withoutKeepAlives, func(o *market.Options) { o.Timeout = 300 * time.Millisecond })
			s.Inject(markettest.OpGetChatHistory, f)
			h, err := c.GetChatHistory(t.Context(), openChat(t, s).ChatID, 0, market.Page{})
			if err != nil || len(h.Messages) == 0 {
				t.Fatalf("history %+v, %v", h, err)
			}
			if n := s.Stats().Requests[markettest.OpGetChatHistory]; n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

// TestReadsGiveUp: a failure that lasts ends the call with that failure after a bounded number
// of attempts; a client error is not retried at all.
func TestReadsGiveUp(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, withRetries)
	for range market.DefaultMaxAttempts + 1 {
		s.Inject(markettest.OpGetChats, markettest.Fault{Status: 500})
	}
	_, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{})
	var api *market.APIError
	if !errors.As(err, &api) || api.Status != 500 {
		t.Fatalf("err = %v", err)
	}
	if n := s.Stats().Requests[markettest.OpGetChats]; n != market.DefaultMaxAttempts {
		t.Errorf("%d requests, want %d", n, market.DefaultMaxAttempts)
	}
	if _, err := c.GetChat(t.Context(), 404404); !errors.As(err, &api) || api.Status != 404 {
		t.Fatalf("err = %v", err)
	}
	if n := s.Stats().Requests[markettest.OpGetChat]; n != 1 {
		t.Errorf("a 404 was sent %d times", n)
	}
}

// TestSendsAreSettledByTheHistory: a send that fails after the request left is settled by
// reading the chat: the buyer gets the message exactly once and the call succeeds, whichever
// order the API gives the history in.
func TestSendsAreSettledByTheHistory(t *testing.T) {
	faults := map[string]markettest.Fault{
		"500 after storing":       {Status: 500, Commit: true},
		"500 before storing":      {Status: 500},
		"dropped after storing":   {Drop: true, Commit: true},
		"dropped before storing":  {Drop: true},
		"timeout after storing":   {Delay: 2 * time.Second, Commit: true},
		"garbage after storing":   {Body: "<html>", Commit: true},
		"503 before storing":      {Status: 503},
		"timeout before an error": {Delay: 2 * time.Second},
	}
	for _, newestFirst := range []bool{false, true} {
		for name, f := range faults {
			t.Run(fmt.Sprintf("%s/newest first %v", name, newestFirst), func(t *testing.T) {
				t.Parallel()
				opts := []markettest.Option{}
				if newestFirst {
					opts = append(opts, markettest.WithHistoryNewestFirst())
				}
				s := newServer(t, opts...)
				c := newClient(t, s, withRetries, withoutKeepAlives, func(o *market.Options) { o.Timeout = 500 * time.Millisecond })
				chat := longChat(t, s).ChatID
				if _, err := c.GetChat(t.Context(), chat); err != nil { // learns the API's clock, as a session would have
					t.Fatal(err)
				}
				s.Inject(markettest.OpSendMessageToChat, f)
				s.Inject(markettest.OpSendFileToChat, f)
				text := "Здравствуйте! Вернём деньги сегодня."
				if err := c.SendMessage(t.Context(), chat, text); err != nil {
					t.Fatalf("SendMessage: %v", err)
				}
				file := market.File{Name: "чек.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 чек")}
				if err := c.SendFile(t.Context(), chat, file); err != nil {
					t.Fatalf("SendFile: %v", err)
				}
				texts, files := 0, 0
				for _, m := range s.Messages(chat) {
					if m.Message == text {
						texts++
					}
					for _, p := range m.Payload {
						if p.Name == file.Name {
							files++
						}
					}
				}
				if texts != 1 || files != 1 {
					t.Errorf("the chat holds the message %d times and the file %d times", texts, files)
				}
			})
		}
	}
}

// TestUnsettledSendSaysSo: when the history cannot be read either, the send is not repeated
// and the error says it is unconfirmed.
func TestUnsettledSendSaysSo(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, withRetries)
	chat := openChat(t, s).ChatID
	s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500, Commit: true})
	for range 2 * market.DefaultMaxAttempts {
		s.Inject(markettest.OpGetChatHistory, markettest.Fault{Status: 500})
	}
	err := c.SendMessage(t.Context(), chat, "Спасибо за заказ!")
	var un *market.UnconfirmedError
	if !errors.As(err, &un) || un.ChatID != chat || !errors.As(err, new(*market.APIError)) {
		t.Fatalf("err = %v", err)
	}
	if n := s.Stats().Requests[markettest.OpSendMessageToChat]; n != 1 {
		t.Errorf("the message was sent %d times", n)
	}
}

// TestSendRefusedBeforeLeavingIsRetried: a send that could not connect went nowhere, so it is
// simply sent again, without reading the history.
func TestSendRefusedBeforeLeavingIsRetried(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s, withRetries, func(o *market.Options) {
		o.HTTPClient = failingDials(1)
	})
	chat := openChat(t, s).ChatID
	if err := c.SendMessage(t.Context(), chat, "Доброе утро"); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Requests[markettest.OpSendMessageToChat] != 1 || st.Requests[markettest.OpGetChatHistory] != 0 {
		t.Errorf("requests: %v", st.Requests)
	}
}

func TestCancelledWaitSendsNothing(t *testing.T) {
	s := newServer(t, markettest.WithBudget(markettest.OpGetChat, 1), markettest.WithLimitWindow(time.Minute))
	c := newClient(t, s, withRetries, func(o *market.Options) { o.MaxWait = 5 * time.Minute })
	chat := openChat(t, s).ChatID
	if _, err := c.GetChat(t.Context(), chat); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan struct{})
	ctx = market.WithWaitNotifier(ctx, func(market.Wait) { close(waiting) })
	errc := make(chan error, 1)
	go func() { _, err := c.GetChat(ctx, chat); errc <- err }()
	select {
	case <-waiting:
	case err := <-errc:
		t.Fatalf("the call did not wait: %v", err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if n := s.Stats().Requests[markettest.OpGetChat]; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// failingDials returns an HTTP client whose first n connections fail as if refused.
func failingDials(n int) *http.Client {
	var mu sync.Mutex
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			fail := n > 0
			n--
			mu.Unlock()
			if fail {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// TestWindowsByTheAPIsClock: an API whose clock is ten minutes ahead reports windows that end,
// by its clock, in a second; the client reads them by the Date header and waits a second, not
// ten minutes.
func TestWindowsByTheAPIsClock(t *testing.T) {
	s := newServer(t, markettest.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) }),
		markettest.WithBudget(markettest.OpGetChats, 2), markettest.WithLimitWindow(time.Second))
	c := newClient(t, s, withRetries)
	for i := range 5 {
		if _, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{Limit: 1}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := s.Stats().RateLimited(); n != 0 {
		t.Errorf("%d answers were 420", n)
	}
}

// TestParallelLimitWithBudgetLeft: a 420 that says budget is left is the parallel limit, even
// with an Until an hour ahead, and is tried again after a pause rather than given up on.
func TestParallelLimitWithBudgetLeft(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("X-RateLimit-Resource-Limit", "1000")
			w.Header().Set("X-RateLimit-Resource-Remaining", "500")
			w.Header().Set("X-RateLimit-Resource-Until", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(420)
			fmt.Fprint(w, `{"status":"ERROR","errors":[{"code":"LIMIT_EXCEEDED","message":"Hit rate limit of 4 parallel requests"}]}`)
			return
		}
		fmt.Fprint(w, `{"status":"OK","result":{"chatId":1,"context":{"type":"DIRECT"},"type":"CHAT","status":"NEW","createdAt":"2026-11-25T10:00:00+03:00","updatedAt":"2026-11-25T10:00:00+03:00"}}`)
	}))
	defer api.Close()
	c, err := market.New(market.Options{BaseURL: api.URL, APIKey: "k", BusinessID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetChat(t.Context(), 1); err != nil || calls.Load() != 2 {
		t.Errorf("err = %v after %d requests", err, calls.Load())
	}
}
