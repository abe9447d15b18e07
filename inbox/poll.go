package inbox

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// poller finds what is new by reading the API: the chats that changed (getChats lists them by
// their last activity, newest first), then what is new in their histories. Each operation gets
// a token bucket of the inbox's share of its hourly budget. What it learns (how far it has read,
// and each chat's newest message) is kept between runs, so that a run that starts later goes on
// where the last one stopped.
type poller struct {
	in      *Inbox
	chats   *rate.Limiter // getChats
	history *rate.Limiter // getChatHistory

	mu      sync.Mutex // one run at a time works on what is learned
	started bool
	since   time.Time // the activity of the chats read so far: newer is new
	known   map[int64]*chatState
}

type chatState struct {
	newest  int64     // the newest message id read
	updated time.Time // the chat's last activity when it was read
	status  market.ChatStatus
}

// Polling's bounds.
const (
	turnWait     = 2 * time.Second // how often a process asks for the turn another has
	chatsPerPage = 20
	maxPollPages = 5  // pages of getChats one round reads at most
	newPerChat   = 50 // messages read of one chat per round; the rest come in the next
)

func newPoller(in *Inbox) *poller {
	share := func(op market.Operation) *rate.Limiter {
		return rate.NewLimiter(rate.Limit(in.opts.PollShare*float64(op.HourlyLimit)/3600), 1)
	}
	return &poller{in: in, chats: share(market.OpGetChats), history: share(market.OpGetChatHistory), known: make(map[int64]*chatState)}
}

// run polls until ctx ends, in its turns when processes share the log.
func (p *poller) run(ctx context.Context) {
	if t := p.in.opts.Turn; t != nil {
		defer t.Give(context.WithoutCancel(ctx))
	}
	for ctx.Err() == nil {
		if t := p.in.opts.Turn; t != nil {
			// Without an answer about the turn, poll: the log keeps what two pollers find once.
			if ours, err := t.Take(ctx); err == nil && !ours {
				if sleep(ctx, turnWait) != nil {
					return
				}
				continue
			}
		}
		if err := p.round(ctx); err != nil && ctx.Err() == nil {
			p.in.logf.WarnContext(ctx, "polling for new messages failed; trying again", "error", err)
			if sleep(ctx, 5*time.Second) != nil {
				return
			}
		}
	}
}

// round reads the chats that changed since the last round and records what is new.
func (p *poller) round(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		return p.baseline(ctx)
	}
	var changed []market.Chat
	token := ""
	for range maxPollPages {
		if err := p.chats.Wait(ctx); err != nil {
			return err
		}
		page, err := p.in.mc.GetChats(ctx, market.ChatsFilter{}, market.Page{Limit: chatsPerPage, Token: token})
		if err != nil {
			return err
		}
		older := false
		for _, c := range page.Chats {
			if c.UpdatedAt.Before(p.since) {
				older = true
				break
			}
			if st := p.known[c.ChatID]; st == nil || c.UpdatedAt.After(st.updated) || c.Status != st.status {
				changed = append(changed, c)
			}
		}
		if older || page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	since := p.since
	for i := len(changed) - 1; i >= 0; i-- { // the longest waiting first
		c := changed[i]
		events, err := p.learn(ctx, c)
		if err != nil {
			return err
		}
		p.in.record(ctx, events...)
		if c.UpdatedAt.After(since) {
			since = c.UpdatedAt
		}
	}
	p.since = since
	return nil
}

// baseline takes the chats as they are now: nothing that happened before counts as new.
func (p *poller) baseline(ctx context.Context) error {
	if err := p.chats.Wait(ctx); err != nil {
		return err
	}
	page, err := p.in.mc.GetChats(ctx, market.ChatsFilter{}, market.Page{Limit: chatsPerPage})
	if err != nil {
		return err
	}
	for _, c := range page.Chats {
		if c.UpdatedAt.After(p.since) {
			p.since = c.UpdatedAt
		}
	}
	// The chats active at that very second are read now, so that their last messages are not
	// taken for new ones later.
	for _, c := range page.Chats {
		if !c.UpdatedAt.Equal(p.since) {
			continue
		}
		if err := p.history.Wait(ctx); err != nil {
			return err
		}
		w, err := p.in.mc.Before(ctx, c.ChatID, 0, 1)
		if err != nil {
			return err
		}
		st := &chatState{updated: c.UpdatedAt, status: c.Status}
		for _, m := range w.Messages {
			st.newest = max(st.newest, m.MessageID)
		}
		p.known[c.ChatID] = st
	}
	p.started = true
	return nil
}

// learn reads what is new in a chat that changed and returns it as events.
func (p *poller) learn(ctx context.Context, c market.Chat) ([]Event, error) {
	var events []Event
	st := p.known[c.ChatID]
	fresh := st == nil
	if fresh {
		st = &chatState{}
		if !c.CreatedAt.Before(p.since) { // opened since polling began
			kind := KindChatCreated
			if c.Type == market.ChatTypeArbitrage {
				kind = KindDisputeStarted
			}
			events = append(events, chatEvent(kind, c))
		}
	}
	if fresh || c.UpdatedAt.After(st.updated) {
		if err := p.history.Wait(ctx); err != nil {
			return nil, err
		}
		var w *market.Window
		var err error
		if st.newest == 0 {
			w, err = p.in.mc.Before(ctx, c.ChatID, 0, newPerChat)
		} else {
			w, err = p.in.mc.After(ctx, c.ChatID, st.newest, newPerChat)
		}
		if err != nil {
			return nil, err
		}
		for _, m := range w.Messages {
			st.newest = max(st.newest, m.MessageID)
			if m.Sender == market.SenderPartner || fresh && !m.CreatedAt.After(p.since) && c.CreatedAt.Before(p.since) {
				continue // the seller's own, or older than polling
			}
			events = append(events, messageEvent(c, m))
		}
		if !w.More || st.newest == 0 {
			st.updated = c.UpdatedAt
		}
	}
	if c.Type == market.ChatTypeArbitrage && c.Status == market.StatusFinished && st.status != "" && st.status != market.StatusFinished {
		events = append(events, chatEvent(KindDisputeFinished, c))
	}
	st.status = c.Status
	p.known[c.ChatID] = st
	return events, nil
}

// sleep pauses for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
