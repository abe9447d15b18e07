//go:build redis

package shared_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/internal/redistest"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/shared"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// open connects a store, as one process would, to r.
func open(t *testing.T, r *redistest.Server) *shared.Store {
	t.Helper()
	s, err := shared.Open(context.Background(), r.URL, shared.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSlotsAcrossProcesses: the slots of a business are shared by every store, waiters get
// them in the order they came, and the slots of a process that stops renewing come back.
func TestSlotsAcrossProcesses(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Cabinet(1), open(t, r).Cabinet(1)
	ctx := context.Background()
	var leaves []func()
	for _, c := range []*shared.Cabinet{a, b} {
		leave, err := c.Enter(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leave)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 3 {
		c := []*shared.Cabinet{a, b}[i%2]
		wg.Go(func() {
			leave, err := c.Enter(ctx, 2)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			leave()
		})
		time.Sleep(100 * time.Millisecond) // they come in this order
	}
	mu.Lock()
	if len(order) != 0 {
		t.Errorf("a third request entered while two held the slots: %v", order)
	}
	mu.Unlock()
	leaves[0]() // one slot for the three, in turn
	wg.Wait()
	leaves[1]()
	if fmt.Sprint(order) != "[0 1 2]" {
		t.Errorf("the waiters entered in the order %v, not the order they came", order)
	}
}

// TestSlotsOfADeadProcessComeBack: a process that took every slot and died (its store closed
// without releasing them) holds nobody back for longer than a lease.
func TestSlotsOfADeadProcessComeBack(t *testing.T) {
	r := redistest.Start(t)
	dead, err := shared.Open(context.Background(), r.URL, shared.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := dead.Cabinet(1).Enter(context.Background(), 4); err != nil {
			t.Fatal(err)
		}
	}
	dead.Close() // the renewals stop with it, as with a killed process
	start := time.Now()
	leave, err := open(t, r).Cabinet(1).Enter(context.Background(), 4)
	if err != nil {
		t.Fatal(err)
	}
	leave()
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the dead process's slots came back after %s", waited)
	}
}

func told(status, limit, remaining int, window int64, in time.Duration) *market.Told {
	return &market.Told{Status: status, Headers: true, Limit: limit, Remaining: remaining, Window: window, Until: time.Now().Add(in)}
}

// TestBudgetAcrossProcesses: the window one process learns holds for all; requests in flight
// count as spent; the lower remaining of one window wins; a 420 of a spent budget holds every
// process back without a request.
func TestBudgetAcrossProcesses(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Cabinet(1), open(t, r).Cabinet(1)
	ctx := context.Background()
	op := market.OpGetChats
	first, err := a.Admit(ctx, op, 4)
	if err != nil || !first.Admitted {
		t.Fatalf("the first request = %+v, %v", first, err)
	}
	if second, _ := b.Admit(ctx, op, 4); second.Admitted || !second.Until.IsZero() {
		t.Errorf("while the window is unknown, a second request = %+v, want a wait for the first's answer", second)
	}
	a.Settle(ctx, op, first, told(200, 100, 3, 1000, time.Hour))
	eventually(t, "the window is told", func() bool { return b.Window(ctx, op).Known })
	var admitted []market.Admission
	for _, c := range []*shared.Cabinet{a, b, a, b} {
		adm, err := c.Admit(ctx, op, 4)
		if err != nil {
			t.Fatal(err)
		}
		if adm.Admitted {
			admitted = append(admitted, adm)
		}
	}
	if len(admitted) != 3 {
		t.Errorf("%d of 4 admitted with 3 left, want 3", len(admitted))
	}
	if w := b.Window(ctx, op); !w.Known || w.Remaining != 0 || w.Limit != op.HourlyLimit {
		t.Errorf("window with 3 in flight = %+v", w)
	}
	b.Settle(ctx, op, admitted[0], told(200, 100, 5, 1000, time.Hour)) // an answer that overtook a later one
	eventually(t, "the settle lands", func() bool { return a.Window(ctx, op).Remaining != 0 })
	if w := a.Window(ctx, op); w.Remaining != 1 {
		t.Errorf("after a late answer of the same window, remaining = %d, want 3-2 in flight", w.Remaining)
	}
	a.Settle(ctx, op, admitted[1], told(420, 100, 0, 1000, 2*time.Second))
	b.Settle(ctx, op, admitted[2], nil)
	eventually(t, "the settles land", func() bool { return b.Window(ctx, op).Remaining == 3 })
	held, _ := b.Admit(ctx, op, 4)
	if held.Admitted || time.Until(held.Until) < time.Second {
		t.Errorf("after a 420 of a spent budget, another process = %+v, want held about 2s", held)
	}
	// b waits (its admission was refused); a settle in a wakes it at once, not at the periodic
	// wake-up.
	time.Sleep(2 * time.Second) // the hold ends
	adm, _ := a.Admit(ctx, op, 4)
	a.Settle(ctx, op, adm, told(200, 100, 0, 1000, time.Hour))
	eventually(t, "the budget is spent", func() bool { return !b.Window(ctx, op).Known || b.Window(ctx, op).Remaining == 0 })
	if refused, _ := b.Admit(ctx, op, 4); refused.Admitted {
		t.Fatal("admitted with the budget spent")
	}
	changed := b.Changed(op)
	start := time.Now()
	a.Settle(ctx, op, market.Admission{Lease: "late"}, told(200, 100, 0, 1000, time.Hour))
	select {
	case <-changed:
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("the waiter woke %s after the settle", d)
		}
	case <-time.After(3 * time.Second):
		t.Error("a settle in one process did not wake another's waiter")
	}
}

// eventually waits for cond, which a write in the background makes true soon.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
	}
}

// TestChatTurns: one chat's sends take turns across processes; another chat's do not wait.
func TestChatTurns(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Cabinet(1), open(t, r).Cabinet(1)
	ctx := context.Background()
	unlock, err := a.LockChat(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.LockChat(ctx, 43)
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	if _, err := b.LockChat(short, 42); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second process took a chat's turn while the first held it: %v", err)
	}
	unlock()
	next, err := b.LockChat(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	next()
}

// TestRedisLost: without Redis, requests go on one at a time and sends are refused; when it is
// back, everything is shared again, without a restart.
func TestRedisLost(t *testing.T) {
	r := redistest.Start(t)
	s := open(t, r)
	c := s.Cabinet(1)
	ctx := context.Background()
	r.Stop()
	leave, err := c.Enter(ctx, 4)
	if err != nil {
		t.Fatalf("a read without Redis: %v", err)
	}
	blocked, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := c.Enter(blocked, 4); err == nil {
		t.Error("without Redis, a second request entered beside the first")
	}
	cancel()
	leave()
	if a, err := c.Admit(ctx, market.OpGetChats, 4); err != nil || !a.Admitted {
		t.Errorf("without Redis, a read's budget = %+v, %v", a, err)
	}
	if _, err := c.LockChat(ctx, 7); !errors.Is(err, shared.ErrUnavailable) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("a send without Redis: %v", err)
	}
	r.Restart()
	for deadline := time.Now().Add(5 * time.Second); !s.Up() && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
	}
	unlock, err := c.LockChat(ctx, 7)
	if err != nil {
		t.Fatalf("after Redis came back: %v", err)
	}
	unlock()
}

// TestOpenFails: a Redis that does not answer stops the start with one line, without the
// password.
func TestOpenFails(t *testing.T) {
	_, err := shared.Open(context.Background(), "redis://:s3cret-pass@127.0.0.1:1/0", shared.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret-pass") || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("Open of a Redis that is not there: %v", err)
	}
	if _, err := shared.Open(context.Background(), "http://localhost", shared.Options{}); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("Open of a URL that is no Redis's: %v", err)
	}
}

func event(chat int64, text string) inbox.Event {
	m := market.Message{MessageID: chat*100 + int64(len(text)), Text: text, Sender: market.SenderCustomer}
	return inbox.Event{Kind: inbox.KindMessage, Chat: market.Chat{ChatID: chat}, Message: &m, Key: fmt.Sprintf("m:%d:%d", chat, m.MessageID)}
}

// TestLogAcrossProcesses: what one process appends another reads from its cursor, each event
// once however many heard it; a wait in one wakes at an append in another.
func TestLogAcrossProcesses(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Log(1), open(t, r).Log(1)
	ctx := context.Background()
	_, start, err := b.Read(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	woke := make(chan error, 1)
	go func() { woke <- b.Wait(ctx, start) }()
	time.Sleep(100 * time.Millisecond)
	if err := a.Append(ctx, event(5, "Здравствуйте"), event(6, "Когда доставка?")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the wait in another process did not wake")
	}
	if err := b.Append(ctx, event(5, "Здравствуйте"), event(7, "Спасибо")); err != nil { // heard twice
		t.Fatal(err)
	}
	got, cursor, err := b.Read(ctx, start, 10)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range got {
		texts = append(texts, e.Message.Text)
	}
	if strings.Join(texts, "|") != "Здравствуйте|Когда доставка?|Спасибо" {
		t.Errorf("read %q", texts)
	}
	if more, _, _ := a.Read(ctx, cursor, 10); len(more) != 0 {
		t.Errorf("after the last cursor, %d more", len(more))
	}
	for _, bad := range []inbox.Cursor{"garbage", "ABCDEFGH.1", "99999999999999-0"} {
		if _, _, err := a.Read(ctx, bad, 10); !errors.Is(err, inbox.ErrCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

// TestPollingTurn: one process at a time has the turn to poll, until it gives it up.
func TestPollingTurn(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Turn(1), open(t, r).Turn(1)
	ctx := context.Background()
	if ok, err := a.Take(ctx); !ok || err != nil {
		t.Fatalf("the first take: %v, %v", ok, err)
	}
	if ok, _ := b.Take(ctx); ok {
		t.Error("two processes have the turn")
	}
	if ok, _ := a.Take(ctx); !ok {
		t.Error("the holder could not keep its turn")
	}
	a.Give(ctx)
	if ok, _ := b.Take(ctx); !ok {
		t.Error("the turn given up did not pass on")
	}
}

// TestApprovalsAcrossProcesses: a question put by one process is taken once by another; a
// replay gets the first result; other arguments or an expired question get none.
func TestApprovalsAcrossProcesses(t *testing.T) {
	r := redistest.Start(t)
	a, b := open(t, r).Approvals(), open(t, r).Approvals()
	ctx := context.Background()
	if err := a.Put(ctx, "q1", "args", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, "q1", "other"); !errors.Is(err, tools.ErrNoApproval) {
		t.Errorf("claim with other arguments: %v", err)
	}
	if res, err := b.Claim(ctx, "q1", "args"); res != nil || err != nil {
		t.Fatalf("the first claim: %q, %v", res, err)
	}
	if _, err := a.Claim(ctx, "q1", "args"); !errors.Is(err, tools.ErrApprovalBusy) {
		t.Errorf("a claim while the first acts: %v", err)
	}
	if err := b.Finish(ctx, "q1", []byte(`{"sent":true}`), time.Minute); err != nil {
		t.Fatal(err)
	}
	if res, err := a.Claim(ctx, "q1", "args"); string(res) != `{"sent":true}` || err != nil {
		t.Errorf("a replay: %q, %v", res, err)
	}
	if err := a.Put(ctx, "q2", "args", 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := b.Claim(ctx, "q2", "args"); !errors.Is(err, tools.ErrNoApproval) {
		t.Errorf("an expired question: %v", err)
	}
}
