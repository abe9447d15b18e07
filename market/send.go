package market

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Settling a send by the chat's history.
const (
	maxSendAttempts = 3
	// settleMargin widens the window in which a stored message counts as this send's: the API's
	// clock is known from Date headers to the second, and createdAt is given to the second.
	settleMargin = 3 * time.Second
	// settleMarginBlind replaces it while no answer has told the API's time.
	settleMarginBlind = 2 * time.Minute
	// settleRecheck is how long to wait before a second look at a history that lacks the send,
	// in case the API stores a message a moment after answering.
	settleRecheck = time.Second
	// maxSettlePages bounds the history read to settle one send.
	maxSettlePages = 20
)

// send delivers a write to a chat once. Sends to one chat go out one at a time, in the order
// they were made, so the buyer reads them in that order.
//
// The API has no idempotency key. When a send fails in a way that leaves open whether the API
// stored it (a server failure, a timeout or broken connection after the request left, an
// unreadable answer), the chat's history decides: if a seller's message that match accepts was
// stored since the send began, the send succeeded; if not, it goes out again. If the history
// cannot be read either, the call ends with an *UnconfirmedError rather than risk a duplicate.
func (c *Client) send(ctx context.Context, req *request, chatID int64, match func(*Message) bool) error {
	unlock, err := c.chats.lock(ctx, chatID)
	if err != nil {
		return err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		since := c.apiNow()
		err := c.do(ctx, req, nil)
		if err == nil || !mayHaveHappened(err) {
			return err
		}
		c.log.InfoContext(ctx, "send unconfirmed; reading the chat's history", "op", req.op.Name, "chat_id", chatID, "attempt", attempt, "error", err)
		if ctx.Err() != nil {
			return &UnconfirmedError{Op: req.op.Name, ChatID: chatID, Err: err, Check: ctx.Err()}
		}
		found, checkErr := c.delivered(ctx, chatID, since, match)
		switch {
		case checkErr != nil:
			return &UnconfirmedError{Op: req.op.Name, ChatID: chatID, Err: err, Check: checkErr}
		case found:
			c.log.InfoContext(ctx, "send confirmed by the chat's history", "op", req.op.Name, "chat_id", chatID)
			return nil
		case attempt == maxSendAttempts:
			return err
		}
		c.log.InfoContext(ctx, "send not in the chat's history; sending again", "op", req.op.Name, "chat_id", chatID)
	}
}

// apiNow is the earliest time, by the API's clock, that a message sent from now on can carry.
func (c *Client) apiNow() time.Time {
	if !c.skewSet.Load() {
		return time.Now().Add(-settleMarginBlind)
	}
	return time.Now().Add(time.Duration(c.skew.Load()) - settleMargin)
}

// delivered reports whether the chat holds a seller's message stored at or after since that
// match accepts, looking twice before it says no.
func (c *Client) delivered(ctx context.Context, chatID int64, since time.Time, match func(*Message) bool) (bool, error) {
	found, err := c.findSent(ctx, chatID, since, match)
	if err != nil || found {
		return found, err
	}
	if err := sleep(ctx, settleRecheck); err != nil {
		return false, err
	}
	return c.findSent(ctx, chatID, since, match)
}

// findSent reads the chat's history for the message. The API does not say in which order it
// gives messages, so every page is read, unless pages run newest first and this one already
// reached back before since.
func (c *Client) findSent(ctx context.Context, chatID int64, since time.Time, match func(*Message) bool) (bool, error) {
	page := Page{Limit: 100}
	for range maxSettlePages {
		h, err := c.GetChatHistory(ctx, chatID, 0, page)
		if err != nil {
			return false, err
		}
		ms := h.Messages
		for i := range ms {
			if ms[i].Sender == SenderPartner && !ms[i].CreatedAt.Before(since) && match(&ms[i]) {
				return true, nil
			}
		}
		newestFirst := len(ms) > 1 && ms[0].MessageID > ms[len(ms)-1].MessageID
		if h.NextPageToken == "" || (newestFirst && ms[len(ms)-1].CreatedAt.Before(since)) {
			return false, nil
		}
		page.Token = h.NextPageToken
	}
	return false, fmt.Errorf("the history is longer than %d pages", maxSettlePages)
}

// chatQueues serialises the sends to each chat.
type chatQueues struct {
	mu sync.Mutex
	m  map[int64]*chatQueue
}

type chatQueue struct {
	g     gate
	users int
}

// lock waits for the chat's turn, in the order callers came, and returns the function that ends it.
func (q *chatQueues) lock(ctx context.Context, chatID int64) (unlock func(), err error) {
	q.mu.Lock()
	if q.m == nil {
		q.m = make(map[int64]*chatQueue)
	}
	cq := q.m[chatID]
	if cq == nil {
		cq = &chatQueue{g: make(gate, 1)}
		q.m[chatID] = cq
	}
	cq.users++
	q.mu.Unlock()
	release := func() {
		q.mu.Lock()
		if cq.users--; cq.users == 0 {
			delete(q.m, chatID)
		}
		q.mu.Unlock()
	}
	if err := cq.g.enter(ctx); err != nil {
		release()
		return nil, err
	}
	return func() { cq.g.leave(); release() }, nil
}
