package market_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// TestBurstKeepsToTheLimits fires 50 reads at once at a server that allows 4 in flight and 20
// per one-second window: none may be refused, and every one must complete.
func TestBurstKeepsToTheLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

// TestSendsKeepTheirOrder sends 50 messages to one chat, each started after the one before it
// joined the queue, through a small budget: all arrive once, in order, with no 420.
func TestSendsKeepTheirOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, markettest.WithBudget(markettest.OpSendMessageToChat, 20), markettest.WithLimitWindow(time.Second))
		c := newClient(t, s, withRetries)
		chat := openChat(t, s).ChatID
		before := len(s.Messages(chat))
		// The first send is held at the server until all have queued up behind it.
		s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Delay: 5 * time.Second})
		var wg sync.WaitGroup
		for i := 1; i <= 50; i++ {
			wg.Go(func() {
				if _, err := c.SendMessage(t.Context(), chat, fmt.Sprintf("ответ %d", i)); err != nil {
					t.Error(err)
				}
			})
			synctest.Wait()
			if n := c.SendsQueued(chat); n != i {
				t.Fatalf("%d sends queued, want %d", n, i)
			}
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
	})
}

// TestSpentBudgetWaitsWithoutAsking: once an answer says nothing is left, the next call waits
// for the window's end without a request in between, then goes through.
func TestSpentBudgetWaitsWithoutAsking(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

func TestRateLimitAnswers(t *testing.T) {
	t.Run("a wait within bounds is waited out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries)
			s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: time.Now().Add(10 * time.Second)})
			start := time.Now()
			if _, err := c.GetChat(t.Context(), openChat(t, s).ChatID); err != nil {
				t.Fatal(err)
			}
			if n := s.Stats().Requests[markettest.OpGetChat]; n != 2 || time.Since(start) < 10*time.Second {
				t.Errorf("%d requests after %v, want 2 after 10s", n, time.Since(start))
			}
		})
	})
	t.Run("a wait past the ceiling ends the call at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries, func(o *market.Options) { o.MaxWait = 5 * time.Second })
			until := time.Now().Add(time.Hour).Truncate(time.Second)
			s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: until})
			start := time.Now()
			_, err := c.GetChat(t.Context(), openChat(t, s).ChatID)
			var rl *market.RateLimitError
			if !errors.As(err, &rl) || !rl.Until.Equal(until) || rl.Op != "getChat" || rl.TraceID == "" || time.Since(start) != 0 {
				t.Fatalf("err = %#v after %v", err, time.Since(start))
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
	})
	t.Run("a wait past the caller's deadline ends the call at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
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
	})
	t.Run("the parallel limit is retried after a pause", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries)
			s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 420}, markettest.Fault{Status: 420})
			chat := openChat(t, s).ChatID
			before := len(s.Messages(chat))
			if _, err := c.SendMessage(t.Context(), chat, "Добрый день"); err != nil {
				t.Fatal(err)
			}
			if n := len(s.Messages(chat)) - before; n != 1 {
				t.Errorf("%d messages stored", n)
			}
		})
	})
}

// TestA420HoldsUntilItsOwnUntil: answers first tell the hour's window with budget left, then a
// 420 says the budget is spent until a moment well before the hour's end. No request of the
// operation may leave before that moment, and the wait is reported.
func TestA420HoldsUntilItsOwnUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		chat := openChat(t, s).ChatID
		for range 3 { // the hour's window, with most of its budget left
			if _, err := c.GetChat(t.Context(), chat); err != nil {
				t.Fatal(err)
			}
		}
		until := time.Now().Add(2500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
		s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: until})
		var waits []market.Wait
		ctx := market.WithWaitNotifier(t.Context(), func(w market.Wait) { waits = append(waits, w) })
		if _, err := c.GetChat(ctx, chat); err != nil {
			t.Fatal(err)
		}
		reqs := s.Requests()
		if last := reqs[len(reqs)-1]; last.At.Before(until) {
			t.Errorf("the request after the 420 left at %v, before its Until %v", last.At, until)
		}
		if len(waits) != 1 || !waits[0].Until.Equal(until) {
			t.Errorf("waits reported: %+v, want one until %v", waits, until)
		}
	})
}

// TestUntilFarAhead: an answer that says nothing is left until a year ahead holds the
// operation back for an hour at most, the longest window the API has.
func TestUntilFarAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		chat := openChat(t, s).ChatID
		s.Inject(markettest.OpGetChat, markettest.Fault{Status: 420, Until: time.Now().AddDate(1, 0, 0)})
		_, err := c.GetChat(t.Context(), chat)
		var rl *market.RateLimitError
		if !errors.As(err, &rl) || rl.Until.After(time.Now().Add(61*time.Minute)) {
			t.Fatalf("err = %v, want a limit that resets within the hour", err)
		}
		time.Sleep(time.Until(rl.Until))
		if _, err := c.GetChat(t.Context(), chat); err != nil {
			t.Errorf("after the hour: %v", err)
		}
	})
}

// TestUnknownWindowWaitIsBounded: while an operation's window is unknown and the one request
// that would tell it hangs, the calls behind it give up after YANDEX_MARKET_MAX_WAIT, with a
// progress report first, rather than each waiting for the one before it.
func TestUnknownWindowWaitIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries, func(o *market.Options) { o.Timeout = time.Minute })
		chat := openChat(t, s).ChatID
		s.Inject(markettest.OpGetChat, markettest.Fault{Delay: time.Hour})
		first := make(chan error, 1)
		go func() { _, err := c.GetChat(t.Context(), chat); first <- err }()
		synctest.Wait()
		start := time.Now()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				var waits []market.Wait
				ctx := market.WithWaitNotifier(t.Context(), func(w market.Wait) { waits = append(waits, w) })
				_, err := c.GetChat(ctx, chat)
				var rl *market.RateLimitError
				if !errors.As(err, &rl) || !rl.Pending || !rl.Local {
					t.Errorf("err = %v, want a wait for earlier answers", err)
				}
				if len(waits) != 1 || !waits[0].Until.IsZero() {
					t.Errorf("waits reported: %+v", waits)
				}
				if d := time.Since(start); d != market.DefaultMaxWait {
					t.Errorf("gave up after %v, want %v", d, market.DefaultMaxWait)
				}
			})
		}
		wg.Wait()
		if err := <-first; !errors.As(err, new(*market.NetworkError)) {
			t.Errorf("the hanging request: %v", err)
		}
	})
}

// TestNoWait: with NoWait a call that would wait for a limit fails at once.
func TestNoWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, markettest.WithBudget(markettest.OpGetChat, 1))
		c := newClient(t, s, withRetries, func(o *market.Options) { o.MaxWait = market.NoWait })
		chat := openChat(t, s).ChatID
		if _, err := c.GetChat(t.Context(), chat); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := c.GetChat(t.Context(), chat)
		if !errors.As(err, new(*market.RateLimitError)) || time.Since(start) != 0 {
			t.Errorf("err = %v after %v, want a limit error at once", err, time.Since(start))
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
			synctest.Test(t, func(t *testing.T) {
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
		})
	}
}

// TestReadsGiveUp: a failure that lasts ends the call with that failure after a bounded number
// of attempts; a client error is not retried at all.
func TestReadsGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

// settleFaults are the failures of a send that leave open whether it was stored.
var settleFaults = map[string]markettest.Fault{
	"500 after storing":       {Status: 500, Commit: true},
	"500 before storing":      {Status: 500},
	"dropped after storing":   {Drop: true, Commit: true},
	"dropped before storing":  {Drop: true},
	"timeout after storing":   {Delay: 2 * time.Second, Commit: true},
	"garbage after storing":   {Body: "<html>", Commit: true},
	"503 before storing":      {Status: 503},
	"timeout before an error": {Delay: 2 * time.Second},
}

// TestSendsAreSettledByTheHistory: a send that fails after the request left is settled by
// reading the chat: the buyer gets the message exactly once and the call succeeds, whichever
// order the API gives the history in.
func TestSendsAreSettledByTheHistory(t *testing.T) {
	for _, newestFirst := range []bool{false, true} {
		for name, f := range settleFaults {
			t.Run(fmt.Sprintf("%s/newest first %v", name, newestFirst), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					opts := []markettest.Option{}
					if newestFirst {
						opts = append(opts, markettest.WithHistoryNewestFirst())
					}
					s := newServer(t, opts...)
					c := newClient(t, s, withRetries, withoutKeepAlives, func(o *market.Options) { o.Timeout = 500 * time.Millisecond })
					chat := longChat(t, s).ChatID
					s.Inject(markettest.OpSendMessageToChat, f)
					s.Inject(markettest.OpSendFileToChat, f)
					text := "Здравствуйте! Вернём деньги сегодня."
					sent, err := c.SendMessage(t.Context(), chat, text)
					if err != nil {
						t.Fatalf("SendMessage: %v", err)
					}
					file := market.File{Name: `чек "№ 5".pdf`, ContentType: "application/pdf", Data: []byte("%PDF-1.4 чек")}
					if _, err := c.SendFile(t.Context(), chat, file); err != nil {
						t.Fatalf("SendFile: %v", err)
					}
					texts, files := 0, 0
					var stored markettest.Message
					for _, m := range s.Messages(chat) {
						if m.Message == text {
							texts++
							stored = m
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
					if !sent.At.Equal(stored.CreatedAt) {
						t.Errorf("sent at %v, stored at %v", sent.At, stored.CreatedAt)
					}
				})
			})
		}
	}
}

// TestSettleLooksLongEnough: Market shows a stored message in the history seconds after it
// failed the send; the client must find it rather than send it again.
func TestSettleLooksLongEnough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		chat := openChat(t, s).ChatID
		text := "Отправили замену сегодня."
		s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500})
		go func() { // the message shows up 5 s after the failed send
			time.Sleep(5 * time.Second)
			s.AddMessage(chat, markettest.Message{Sender: markettest.SenderPartner, Message: text})
		}()
		if _, err := c.SendMessage(t.Context(), chat, text); err != nil {
			t.Fatal(err)
		}
		if n := s.Stats().Requests[markettest.OpSendMessageToChat]; n != 1 {
			t.Errorf("the message was sent %d times", n)
		}
	})
}

// TestSettleMatchesWhatMarketStores: Market may store a sent text or file name in another form
// than it was sent; the history still settles the send.
func TestSettleMatchesWhatMarketStores(t *testing.T) {
	tests := []struct {
		name           string
		send           func(context.Context, *market.Client, int64) error
		sent, storedAs markettest.Message
	}{
		{
			name: "text with entities and spacing",
			send: func(ctx context.Context, c *market.Client, chat int64) error {
				_, err := c.SendMessage(ctx, chat, "Цена <b>1 990 ₽</b> &  доставка\r\n бесплатно ")
				return err
			},
			storedAs: markettest.Message{Message: "Цена &lt;b&gt;1 990 ₽&lt;/b&gt; &amp; доставка\nбесплатно"},
		},
		{
			name: "file name with quotes, renamed by Market",
			send: func(ctx context.Context, c *market.Client, chat int64) error {
				_, err := c.SendFile(ctx, chat, market.File{Name: `акт "сверки".pdf`, Data: []byte("%PDF-1.4 акт")})
				return err
			},
			storedAs: markettest.Message{Payload: []markettest.Attachment{{Name: "file_1.pdf", Size: len("%PDF-1.4 акт")}}},
		},
		{
			name: "file name decomposed",
			send: func(ctx context.Context, c *market.Client, chat int64) error {
				_, err := c.SendFile(ctx, chat, market.File{Name: "Йогурт.pdf", Data: []byte("%PDF-1.4 й")})
				return err
			},
			storedAs: markettest.Message{Payload: []markettest.Attachment{{Name: "И\u0306огурт.pdf", Size: 999}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newServer(t)
				c := newClient(t, s, withRetries)
				chat := openChat(t, s).ChatID
				// The send fails; what Market stored shows up in the history as Market keeps it.
				s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500})
				s.Inject(markettest.OpSendFileToChat, markettest.Fault{Status: 500})
				m := tt.storedAs
				m.Sender = markettest.SenderPartner
				go func() {
					synctest.Wait()
					s.AddMessage(chat, m)
				}()
				if err := tt.send(t.Context(), c, chat); err != nil {
					t.Fatal(err)
				}
				st := s.Stats()
				if n := st.Requests[markettest.OpSendMessageToChat] + st.Requests[markettest.OpSendFileToChat]; n != 1 {
					t.Errorf("sent %d times, want once", n)
				}
			})
		})
	}
}

// TestSettleIgnoresWhatCameBefore: the seller sent the same text a moment ago; a send that
// fails and was not stored must not be taken as delivered because of it, whether or not the
// client knows the API's clock yet.
func TestSettleIgnoresWhatCameBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s, withRetries)
		chat := openChat(t, s).ChatID
		const greeting = "Здравствуйте! Уже смотрим ваш заказ."
		s.AddMessage(chat, markettest.Message{Sender: markettest.SenderPartner, Message: greeting})
		time.Sleep(30 * time.Second)
		s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500}) // not stored
		if _, err := c.SendMessage(t.Context(), chat, greeting); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range s.Messages(chat) {
			if m.Message == greeting {
				n++
			}
		}
		if n != 2 || s.Stats().Requests[markettest.OpSendMessageToChat] != 2 {
			t.Errorf("the greeting is in the chat %d times after %d sends, want 2 after 2", n, s.Stats().Requests[markettest.OpSendMessageToChat])
		}
	})
}

// TestUnsettledSendSaysSo: when the history cannot be read, the send is not repeated and the
// error says it is unconfirmed; when every attempt fails and the history never shows one, the
// last error says the send may still have been delivered.
func TestUnsettledSendSaysSo(t *testing.T) {
	t.Run("history unreadable", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries)
			chat := openChat(t, s).ChatID
			if _, err := c.GetChatHistory(t.Context(), chat, 0, market.Page{}); err != nil {
				t.Fatal(err)
			}
			s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500, Commit: true})
			for range 2 * market.DefaultMaxAttempts {
				s.Inject(markettest.OpGetChatHistory, markettest.Fault{Status: 500})
			}
			_, err := c.SendMessage(t.Context(), chat, "Спасибо за заказ!")
			var un *market.UnconfirmedError
			if !errors.As(err, &un) || un.ChatID != chat || !errors.As(err, new(*market.APIError)) {
				t.Fatalf("err = %v", err)
			}
			if n := s.Stats().Requests[markettest.OpSendMessageToChat]; n != 1 {
				t.Errorf("the message was sent %d times", n)
			}
		})
	})
	t.Run("every attempt fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withRetries)
			chat := openChat(t, s).ChatID
			for range 3 {
				s.Inject(markettest.OpSendMessageToChat, markettest.Fault{Status: 500})
			}
			_, err := c.SendMessage(t.Context(), chat, "Спасибо за заказ!")
			var un *market.UnconfirmedError
			if !errors.As(err, &un) || un.Check != nil || un.Attempts != 3 {
				t.Fatalf("err = %#v", err)
			}
			if n := s.Stats().Requests[markettest.OpSendMessageToChat]; n != 3 {
				t.Errorf("the message was sent %d times, want 3", n)
			}
		})
	})
}

// TestSendRefusedBeforeLeavingIsRetried: a send that could not connect went nowhere, so it is
// simply sent again, without reading the history to settle it.
func TestSendRefusedBeforeLeavingIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t)
		chat := openChat(t, s).ChatID
		// The first connection reads the chat's newest message; the second, the send's, fails.
		c := newClient(t, s, withRetries, func(o *market.Options) { o.HTTPClient = failingDials(s, 2) })
		if _, err := c.SendMessage(t.Context(), chat, "Доброе утро"); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.Requests[markettest.OpSendMessageToChat] != 1 || st.Requests[markettest.OpGetChatHistory] != 1 {
			t.Errorf("requests: %v", st.Requests)
		}
	})
}

func TestCancelledWaitSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

// failingDials returns an HTTP client of s, with a connection per request, whose connections
// of the given numbers (from 1) fail as if refused.
func failingDials(s *markettest.Server, fail ...int) *http.Client {
	var n atomic.Int32
	t := s.Client().Transport.(*http.Transport)
	dial := t.DialContext
	t.DisableKeepAlives = true
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if slices.Contains(fail, int(n.Add(1))) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return dial(ctx, network, addr)
	}
	return &http.Client{Transport: t}
}

// TestWindowsByTheAPIsClock: an API whose clock is ten minutes ahead reports windows that end,
// by its clock, in a second; the client reads them by the Date header and waits a second, not
// ten minutes.
func TestWindowsByTheAPIsClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newServer(t, markettest.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) }),
			markettest.WithBudget(markettest.OpGetChats, 2), markettest.WithLimitWindow(time.Second))
		c := newClient(t, s, withRetries)
		start := time.Now()
		for i := range 5 {
			if _, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{Limit: 1}); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if n := s.Stats().RateLimited(); n != 0 || time.Since(start) > 5*time.Second {
			t.Errorf("%d answers were 420, in %v", n, time.Since(start))
		}
	})
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
