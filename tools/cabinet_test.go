package tools_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// The two cabinets of the tests: one in-memory Market serves both, each with its own key, chats
// and limits; the second is read-only on the server.
const (
	brandA, brandB = int64(111), int64(222)
	keyA, keyB     = "ACMA:brand-a-key", "ACMA:brand-b-key"
)

// twoCabinets is a server of the tools in two cabinets, and a client of it.
type twoCabinets struct {
	a, b *markettest.Server
	h    *harness
}

func newTwoCabinets(t *testing.T) *twoCabinets {
	t.Helper()
	// The bubble's clock starts in 2000; the seeds are of November 2026, and what happens now
	// must come after them.
	since2000 := time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	clock := markettest.WithClock(func() time.Time { return time.Now().Add(since2000) })
	tc := &twoCabinets{
		a: markettest.NewHandler(markettest.InMemoryURL, clock, markettest.WithBusinessID(brandA), markettest.WithAPIKey(keyA)),
		b: markettest.NewHandler(markettest.InMemoryURL, clock, markettest.WithBusinessID(brandB), markettest.WithAPIKey(keyB),
			markettest.WithSeedShift(100000), markettest.WithBudget(market.OpGetChats.Name, 50)),
	}
	mem := markettest.ServeInMemory(markettest.Join(tc.a, tc.b))
	t.Cleanup(func() { mem.Close(); tc.a.Close(); tc.b.Close() })
	env := &tools.Env{}
	for _, c := range []struct {
		name     string
		id       int64
		key      string
		readOnly bool
	}{{"Бренд А", brandA, keyA, false}, {"Бренд Б", brandB, keyB, true}} {
		mc, err := market.New(market.Options{BaseURL: markettest.InMemoryURL, APIKey: c.key, BusinessID: c.id,
			HTTPClient: mem.Client(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		in := inbox.New(mc, inbox.NewMemoryLog(), inbox.Options{Logger: slog.New(slog.DiscardHandler)})
		t.Cleanup(in.Close)
		env.Cabinets = append(env.Cabinets, &tools.Cabinet{Name: c.name, BusinessID: c.id, ReadOnly: c.readOnly, Market: mc, Inbox: in})
	}
	tc.h = &harness{sandbox: tc.a, client: serve(t, env, tools.All)}
	return tc
}

// TestListChatsOfEveryCabinet: without business_id, list_chats pages through the chats of both
// cabinets merged, most recently active first, each once and labelled with its cabinet, each
// cabinet read with its own key.
func TestListChatsOfEveryCabinet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTwoCabinets(t)
		var got []tools.Chat
		token := ""
		for page := 0; ; page++ {
			args := map[string]any{"limit": 4}
			if token != "" {
				args["page_token"] = token
			}
			var out tools.ChatList
			if text, isError := tc.h.call(t, "list_chats", args, &out); isError {
				t.Fatalf("page %d: %s", page, text)
			}
			got = append(got, out.Chats...)
			if token = out.NextPageToken; token == "" {
				break
			}
			if page > 20 {
				t.Fatal("the pages do not end")
			}
		}
		want := len(tc.a.Chats()) + len(tc.b.Chats())
		if len(got) != want {
			t.Fatalf("%d chats over the pages, want %d", len(got), want)
		}
		seen := map[int64]bool{}
		for i, c := range got {
			owner := tc.a
			if c.BusinessID == brandB {
				owner = tc.b
			}
			if _, ok := owner.Chat(c.ChatID); !ok || seen[c.ChatID] || (c.Cabinet != "Бренд А" && c.Cabinet != "Бренд Б") {
				t.Errorf("chat %d labelled %d %q: not that cabinet's, or twice", c.ChatID, c.BusinessID, c.Cabinet)
			}
			seen[c.ChatID] = true
			if i > 0 && c.UpdatedAt > got[i-1].UpdatedAt {
				t.Errorf("chat %d (%s) comes after a chat less recently active (%s)", c.ChatID, c.UpdatedAt, got[i-1].UpdatedAt)
			}
		}
		for _, r := range append(tc.a.Requests(), tc.b.Requests()...) {
			if r.Op == market.OpGetChats.Name && !strings.Contains(r.Path, "/111/") && !strings.Contains(r.Path, "/222/") {
				t.Errorf("a request to %s", r.Path)
			}
		}
		for s, key := range map[*markettest.Server]string{tc.a: keyA, tc.b: keyB} {
			for _, r := range s.Requests() {
				if r.Header.Get("Api-Key") != key {
					t.Errorf("business %d was called with another key", s.BusinessID)
				}
			}
		}
		text, isError := tc.h.call(t, "list_chats", map[string]any{"business_id": brandB, "statuses": []string{"WAITING_FOR_PARTNER"}}, nil)
		if isError || strings.Contains(text, "cabinet 111") || !strings.Contains(text, `cabinet 222 "Бренд Б"`) {
			t.Errorf("list_chats of one cabinet = %s", text)
		}
	})
}

// TestOneChatNeedsItsCabinet: a tool about one chat needs business_id when there are several
// cabinets, and an unknown one is refused with the list; nothing reaches Market for either.
func TestOneChatNeedsItsCabinet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTwoCabinets(t)
		chat := tc.b.Chats()[0].ChatID
		for args, want := range map[*map[string]any]string{
			{"chat_id": chat}:                     `several cabinets: give business_id, one of 111 "Бренд А", 222 "Бренд Б"`,
			{"chat_id": chat, "business_id": 333}: `business_id 333 is not one of this server's cabinets; they are 111 "Бренд А", 222 "Бренд Б"`,
		} {
			if text, isError := tc.h.call(t, "get_chat", *args, nil); !isError || !strings.Contains(text, want) {
				t.Errorf("get_chat(%v) = %s", *args, text)
			}
		}
		if n := len(tc.a.Requests()) + len(tc.b.Requests()); n != 0 {
			t.Errorf("%d requests reached Market", n)
		}
		var got tools.Chat
		if text, isError := tc.h.call(t, "get_chat", map[string]any{"chat_id": chat, "business_id": brandB}, &got); isError || got.ChatID != chat {
			t.Errorf("get_chat in its cabinet = %s", text)
		}
	})
}

// TestReadOnlyCabinet: the read-only cabinet refuses a send; the other sends.
func TestReadOnlyCabinet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTwoCabinets(t)
		b := waitingChat(t, tc.b)
		text, isError := tc.h.call(t, "send_message", map[string]any{"chat_id": b.ChatID, "business_id": brandB, "message": "Да"}, nil)
		if !isError || !strings.Contains(text, `cabinet 222 "Бренд Б" is read-only`) || tc.b.Stats().Requests[market.OpSendMessage.Name] != 0 {
			t.Errorf("send in the read-only cabinet = %s", text)
		}
		a := waitingChat(t, tc.a)
		if text, isError := tc.h.call(t, "send_message", map[string]any{"chat_id": a.ChatID, "business_id": brandA, "message": "Да"}, nil); isError {
			t.Errorf("send in the other = %s", text)
		}
	})
}

// TestCabinetsHaveTheirOwnLimits: list_cabinets tells each cabinet's mode and what is left of
// its own budgets, as its own answers told.
func TestCabinetsHaveTheirOwnLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTwoCabinets(t)
		for range 3 {
			tc.h.call(t, "list_chats", map[string]any{"business_id": brandB}, nil)
		}
		var out tools.CabinetList
		if text, isError := tc.h.call(t, "list_cabinets", nil, &out); isError || len(out.Cabinets) != 2 {
			t.Fatalf("list_cabinets = %s", text)
		}
		budget := func(c tools.CabinetInfo) tools.Budget {
			i := slices.IndexFunc(c.Budgets, func(b tools.Budget) bool { return b.Operation == market.OpGetChats.Name })
			return c.Budgets[i]
		}
		a, b := out.Cabinets[0], out.Cabinets[1]
		if a.BusinessID != brandA || a.Mode != "read-write" || b.BusinessID != brandB || b.Mode != "read-only" {
			t.Errorf("cabinets = %+v", out.Cabinets)
		}
		if got := budget(a); got.Remaining != got.Limit || got.ResetsAt != "" {
			t.Errorf("cabinet A's getChats budget, unused = %+v", got)
		}
		if got := budget(b); got.Remaining != 47 || got.ResetsAt == "" {
			t.Errorf("cabinet B's getChats budget after 3 of 50 = %+v", got)
		}
	})
}

// TestWaitInEveryCabinet: without business_id, wait_for_messages hears both cabinets, each
// event labelled with its own, and its cursor goes on in both so that nothing is missed.
func TestWaitInEveryCabinet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tc := newTwoCabinets(t)
		var first tools.Events
		if text, isError := tc.h.call(t, "wait_for_messages", map[string]any{"timeout_seconds": 1}, &first); isError || len(first.Events) != 0 {
			t.Fatalf("a first wait = %s", text)
		}
		a, b := waitingChat(t, tc.a), waitingChat(t, tc.b)
		tc.b.AddMessage(b.ChatID, markettest.Message{Sender: markettest.SenderCustomer, Message: "Из второго кабинета"})
		var got tools.Events
		if text, isError := tc.h.call(t, "wait_for_messages", map[string]any{"cursor": first.Cursor, "timeout_seconds": 300}, &got); isError ||
			len(got.Events) != 1 || got.Events[0].Chat.BusinessID != brandB || got.Events[0].Message.Text != "Из второго кабинета" {
			t.Fatalf("the wait for cabinet B = %s", text)
		}
		// Both write while nobody waits: the next wait gives both.
		tc.a.AddMessage(a.ChatID, markettest.Message{Sender: markettest.SenderCustomer, Message: "Из первого"})
		tc.b.AddMessage(b.ChatID, markettest.Message{Sender: markettest.SenderCustomer, Message: "Снова из второго"})
		var texts []string
		cursor := got.Cursor
		for len(texts) < 2 {
			var next tools.Events
			if text, isError := tc.h.call(t, "wait_for_messages", map[string]any{"cursor": cursor, "timeout_seconds": 300}, &next); isError || len(next.Events) == 0 {
				t.Fatalf("wait = %s", text)
			}
			for _, e := range next.Events {
				texts = append(texts, e.Message.Text)
			}
			cursor = next.Cursor
		}
		slices.Sort(texts)
		if strings.Join(texts, "|") != "Из первого|Снова из второго" {
			t.Errorf("heard %q", texts)
		}
		if text, isError := tc.h.call(t, "wait_for_messages", map[string]any{"chat_id": a.ChatID, "timeout_seconds": 1}, nil); !isError || !strings.Contains(text, "give business_id") {
			t.Errorf("a wait for one chat without its cabinet = %s", text)
		}
	})
}
