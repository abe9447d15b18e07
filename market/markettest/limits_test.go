package markettest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now), WithBudget(OpGetChat, 3))
	chat := fmt.Sprintf("/chat?chatId=%d", s.Chats()[0].ChatID)
	windowEnd := clock.Now().Add(time.Hour)

	// 2xx and 4xx spend budget; a 5xx does not.
	if until := wantLimitHeaders(t, get(t, s, chat), 3, 2); !until.Equal(windowEnd) {
		t.Errorf("Until %v, want %v", until, windowEnd)
	}
	clock.Advance(10 * time.Minute)
	a := get(t, s, "/chat?chatId=999")
	wantError(t, a, 404, "NOT_FOUND", "Can't find chat")
	if until := wantLimitHeaders(t, a, 3, 1); !until.Equal(windowEnd) {
		t.Errorf("Until moved to %v within the window", until)
	}
	s.Inject(OpGetChat, Fault{Status: 500})
	wantError(t, get(t, s, chat), 500, "INTERNAL_ERROR", "")
	wantLimitHeaders(t, get(t, s, chat), 3, 0)

	a = get(t, s, chat)
	wantError(t, a, 420, "LIMIT_EXCEEDED",
		"Hit rate limit of '3' requests per '1 hour' for resource '/v2/businesses/{businessId}/chat' for businessId 7654321")
	if until := wantLimitHeaders(t, a, 3, 0); !until.Equal(windowEnd) {
		t.Errorf("420 Until %v, want %v", until, windowEnd)
	}
	// A 420 spends nothing, so the budget stays at zero rather than below it.
	wantLimitHeaders(t, get(t, s, chat), 3, 0)

	// Other operations have their own budgets.
	wantLimitHeaders(t, post(t, s, "/chats", `{}`), 5000, 4999)

	clock.Advance(50*time.Minute - time.Second)
	wantError(t, get(t, s, chat), 420, "LIMIT_EXCEEDED", "")
	clock.Advance(time.Second)
	if until := wantLimitHeaders(t, get(t, s, chat), 3, 2); !until.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("new window ends %v, want %v", until, clock.Now().Add(time.Hour))
	}

	st := s.Stats()
	if st.BudgetLimited != 3 || st.ParallelLimited != 0 || st.RateLimited() != 3 || st.Requests[OpGetChat] != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestBudgetWindowUntilIsWholeSeconds(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(400 * time.Millisecond)
	s := newTestServer(t, WithClock(clock.Now), WithLimitWindow(2*time.Minute), WithBudget(OpCreateChat, 1))
	body := `{"context":{"type":"ORDER","id":53822301177}}`
	until := wantLimitHeaders(t, post(t, s, "/chats/new", body), 1, 0)
	if want := clock.Now().Add(2*time.Minute + 600*time.Millisecond); !until.Equal(want) {
		t.Errorf("Until %v, want %v: the window rounds up to a whole second", until, want)
	}
	wantError(t, post(t, s, "/chats/new", body), 420, "LIMIT_EXCEEDED", "per '2 minutes' for resource '/v2/businesses/{businessId}/chats/new'")
	// A client that waits until the header's time finds the budget back.
	clock.Advance(until.Sub(clock.Now()))
	wantLimitHeaders(t, post(t, s, "/chats/new", body), 1, 0)
}

func TestEveryAnswerCarriesLimitHeaders(t *testing.T) {
	s := newTestServer(t)
	chat := s.Chats()[0].ChatID
	text := newRequest(t, s, "POST", "/chats/message?chatId=1", "hi")
	text.Header.Set("Content-Type", "text/plain")
	tests := []struct {
		name  string
		req   *http.Request
		op    string
		limit int
	}{
		{"createChat", newRequest(t, s, "POST", "/chats/new", `{"orderId":53822459920}`), OpCreateChat, 1000},
		{"getChats 400", newRequest(t, s, "POST", "/chats?limit=99", `{}`), OpGetChats, 5000},
		{"getChat 404", newRequest(t, s, "GET", "/chat?chatId=999", ""), OpGetChat, 1000},
		{"getChatHistory", newRequest(t, s, "POST", fmt.Sprintf("/chats/history?chatId=%d", chat), `{}`), OpGetChatHistory, 10000},
		{"getChatMessage 400", newRequest(t, s, "GET", "/chats/message?chatId=1", ""), OpGetChatMessage, 1000},
		{"sendMessageToChat 415", text, OpSendMessageToChat, 1000},
		{"sendFileToChat", fileRequest(t, s, chat, "file", "a.txt", "text/plain", []byte("a")), OpSendFileToChat, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantLimitHeaders(t, send(t, tt.req), tt.limit, tt.limit-1)
		})
	}
}

func TestParallelLimit(t *testing.T) {
	s := newTestServer(t, WithBudget(OpGetChat, 100))
	chat := fmt.Sprintf("/chat?chatId=%d", s.Chats()[0].ChatID)
	s.Inject(OpGetChat, Fault{Delay: time.Hour}, Fault{Delay: time.Hour}, Fault{Delay: time.Hour}, Fault{Delay: time.Hour})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := http.DefaultClient.Do(newRequest(t, s, "GET", chat, "").WithContext(ctx)); err == nil {
				t.Error("a held request was answered")
			}
		})
	}
	waitFor(t, "4 requests in flight", func() bool { return s.Stats().InFlight == 4 })

	// The limit counts every operation of the business.
	a := post(t, s, "/chats", `{}`)
	wantError(t, a, 420, "LIMIT_EXCEEDED", "Hit rate limit of 4 parallel requests for businessId 7654321")
	wantNoLimitHeaders(t, a)

	cancel()
	wg.Wait()
	waitFor(t, "the held requests to end", func() bool { return s.Stats().InFlight == 0 })
	result[Chat](t, get(t, s, chat))

	st := s.Stats()
	if st.ParallelLimited != 1 || st.BudgetLimited != 0 || st.MaxInFlight != 5 {
		t.Errorf("stats %+v", st)
	}
	// Held requests that were never answered spent no budget.
	wantLimitHeaders(t, get(t, s, chat), 100, 98)
}

func TestParallelLimitOption(t *testing.T) {
	one := newTestServer(t, WithParallelLimit(1))
	one.Inject(OpGetChats, Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		http.DefaultClient.Do(newRequest(t, one, "POST", "/chats", `{}`).WithContext(ctx))
	}()
	waitFor(t, "a request in flight", func() bool { return one.Stats().InFlight == 1 })
	wantError(t, get(t, one, "/chat?chatId=1"), 420, "LIMIT_EXCEEDED", "Hit rate limit of 1 parallel requests")
	cancel()
	<-done

	off := newTestServer(t, WithParallelLimit(0))
	var holds []Fault
	for range 6 {
		holds = append(holds, Fault{Delay: time.Hour})
	}
	off.Inject(OpGetChats, holds...)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	for range 6 {
		go http.DefaultClient.Do(newRequest(t, off, "POST", "/chats", `{}`).WithContext(ctx))
	}
	waitFor(t, "6 requests in flight", func() bool { return off.Stats().InFlight == 6 })
	result[chatsPage](t, post(t, off, "/chats", `{}`))
}

func TestWithoutLimits(t *testing.T) {
	s := newTestServer(t, WithoutLimits(), WithBudget(OpGetChats, 1))
	for range 3 {
		a := post(t, s, "/chats", `{}`)
		result[chatsPage](t, a)
		wantNoLimitHeaders(t, a)
	}
	if st := s.Stats(); st.RateLimited() != 0 || st.Requests[OpGetChats] != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestPeriod(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour:               "1 hour",
		3 * time.Hour:           "3 hours",
		90 * time.Minute:        "90 minutes",
		time.Minute:             "1 minute",
		45 * time.Second:        "45 seconds",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := period(d); got != want {
			t.Errorf("period(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOptionsPanicOnMistakes(t *testing.T) {
	s := newTestServer(t, WithoutSeed())
	for name, f := range map[string]func(){
		"unknown operation budget": func() { WithBudget("getChat ", 1) },
		"negative budget":          func() { WithBudget(OpGetChat, -1) },
		"zero window":              func() { WithLimitWindow(0) },
		"unknown operation fault":  func() { s.Inject("sendMessage", Fault{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "markettest:") {
					t.Errorf("recovered %v", r)
				}
			}()
			f()
		})
	}
}
