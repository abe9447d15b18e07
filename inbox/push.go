package inbox

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// hint is what a notification says happened; the pusher reads what it names from the API.
type hint struct {
	kind                          Kind
	businessID, chatID, messageID int64
}

func (h hint) key() string {
	k := string(h.kind) + ":" + strconv.FormatInt(h.chatID, 10)
	if h.kind == KindMessage {
		k = "m:" + strconv.FormatInt(h.chatID, 10) + ":" + strconv.FormatInt(h.messageID, 10)
	}
	return k
}

// pusher reads what notifications name, one at a time, in the order they came.
type pusher struct {
	in    *Inbox
	hints chan hint
	stop  context.CancelFunc
	done  sync.WaitGroup

	mu    sync.Mutex
	seen  map[string]bool // hints read or queued, the newest maxSeen
	order []string
	chats map[int64]readChat
}

// readChat is a chat as read, and when: a read of the last minute serves the next events.
type readChat struct {
	chat market.Chat
	at   time.Time
}

// chatFresh is how long a chat read serves the events of its messages.
const chatFresh = time.Minute

// Bounds of the pusher.
const (
	maxQueued   = 256   // hints waiting to be read; past it a notification is refused, and Market repeats it
	maxSeen     = 10000 // hints remembered, to read each once
	readTimeout = 30 * time.Second
)

func newPusher(in *Inbox) *pusher {
	ctx, stop := context.WithCancel(context.Background())
	p := &pusher{in: in, hints: make(chan hint, maxQueued), stop: stop, seen: make(map[string]bool), chats: make(map[int64]readChat)}
	p.done.Go(func() { p.work(ctx) })
	return p
}

func (p *pusher) close() {
	p.stop()
	p.done.Wait()
}

// offer queues a hint unless it was seen already, and reports false when the queue is full.
func (p *pusher) offer(h hint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := h.key()
	if p.seen[k] {
		return true
	}
	select {
	case p.hints <- h:
	default:
		return false
	}
	p.seen[k] = true
	p.order = append(p.order, k)
	if len(p.order) > maxSeen {
		delete(p.seen, p.order[0])
		p.order = p.order[1:]
	}
	return true
}

func (p *pusher) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-p.hints:
			rctx, cancel := context.WithTimeout(ctx, readTimeout)
			if err := p.read(rctx, h); err != nil && ctx.Err() == nil {
				p.in.logf.WarnContext(ctx, "a notification named what could not be read", "kind", h.kind, "chat_id", h.chatID, "error", err)
				p.forget(h) // a repeat of the notification may be read again
			}
			cancel()
		}
	}
}

func (p *pusher) forget(h hint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.seen, h.key())
}

// read reads what a hint names and records it.
func (p *pusher) read(ctx context.Context, h hint) error {
	c, err := p.chat(ctx, h.chatID, h.kind != KindMessage)
	if err != nil {
		return err
	}
	if h.kind != KindMessage {
		p.in.record(ctx, chatEvent(h.kind, c))
		return nil
	}
	m, err := p.in.mc.GetChatMessage(ctx, h.chatID, h.messageID)
	if err != nil {
		return err
	}
	if m.Sender != market.SenderPartner {
		p.in.record(ctx, messageEvent(c, *m))
	}
	return nil
}

// chat returns a chat as read in the last minute, or read now when fresh is asked for, as a
// dispute's state must be.
func (p *pusher) chat(ctx context.Context, id int64, fresh bool) (market.Chat, error) {
	p.mu.Lock()
	c, ok := p.chats[id]
	p.mu.Unlock()
	if ok && !fresh && time.Since(c.at) < chatFresh {
		return c.chat, nil
	}
	got, err := p.in.mc.GetChat(ctx, id)
	if err != nil {
		return market.Chat{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.chats) >= maxSeen {
		clear(p.chats)
	}
	p.chats[id] = readChat{*got, time.Now()}
	return *got, nil
}
