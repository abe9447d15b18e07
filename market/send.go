package market

import (
	"context"
	"errors"
	"html"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/yandex-market-mcp/market-chat-mcp/untrusted"
)

// maxSendAttempts bounds how often one send goes out.
const maxSendAttempts = 3

// settlePauses are the pauses before each further look at a history that lacks a send, in case
// the API stores a message a moment after it answered. Together they are longer than the API's
// own 10 s timeout.
var settlePauses = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// Sent is a message or file the client delivered.
type Sent struct {
	// At is when Market stored it, by Market's clock: its time in the chat's history when the
	// history settled the send, else the time of Market's answer.
	At time.Time
	// MessageID is the message's id when the history showed it, else 0.
	MessageID int64
}

// send delivers a write to a chat once. Sends to one chat go out one at a time, in the order
// they were made, so the buyer reads them in that order.
//
// The API has no idempotency key. Before the send the client notes the chat's newest message.
// When a send fails in a way that leaves open whether the API stored it (a server failure, a
// timeout or broken connection after the request left, an unreadable answer), the chat's
// history decides: if a seller's message newer than the noted one is one that match accepts,
// the send succeeded; if none shows up within the settle pauses, it goes out again. If the
// history cannot be read, or the last attempt is still unsettled, the call ends with an
// *UnconfirmedError rather than risk a duplicate.
func (c *Client) send(ctx context.Context, req *request, chatID int64, match func(*Message) bool) (Sent, error) {
	unlock, err := c.shared.LockChat(ctx, chatID)
	if err != nil {
		return Sent{}, err
	}
	defer unlock()
	baseline, baselineErr := c.newestMessage(ctx, chatID)
	if api, ok := errors.AsType[*APIError](baselineErr); ok && api.Status == http.StatusNotFound {
		return Sent{}, baselineErr // no such chat: sending would be refused the same way
	}
	for attempt := 1; ; attempt++ {
		err := c.do(ctx, req, nil)
		if err == nil {
			return Sent{At: req.answered}, nil
		}
		if !mayHaveHappened(err) {
			return Sent{}, err
		}
		c.log.InfoContext(ctx, "send unconfirmed; reading the chat's history", "op", req.op.Name, "chat_id", chatID, "attempt", attempt, "error", err)
		unconfirmed := &UnconfirmedError{Op: req.op.Name, ChatID: chatID, Err: err, Attempts: attempt, Check: baselineErr}
		if unconfirmed.Check == nil {
			unconfirmed.Check = ctx.Err()
		}
		if unconfirmed.Check != nil {
			return Sent{}, unconfirmed
		}
		m, err := c.delivered(ctx, chatID, baseline, match)
		switch {
		case err != nil:
			unconfirmed.Check = err
			return Sent{}, unconfirmed
		case m != nil:
			c.log.InfoContext(ctx, "send confirmed by the chat's history", "op", req.op.Name, "chat_id", chatID, "message_id", m.MessageID)
			return Sent{At: m.CreatedAt, MessageID: m.MessageID}, nil
		case attempt == maxSendAttempts:
			return Sent{}, unconfirmed
		}
		c.log.InfoContext(ctx, "send not in the chat's history; sending again", "op", req.op.Name, "chat_id", chatID)
	}
}

// delivered looks for the send among the seller's messages newer than baseline, again after
// each of settlePauses while it is not there.
func (c *Client) delivered(ctx context.Context, chatID, baseline int64, match func(*Message) bool) (*Message, error) {
	for i := 0; ; i++ {
		var found *Message
		_, err := c.eachHistoryPage(ctx, chatID, baseline, func(ms []Message) bool {
			for j := range ms {
				if m := &ms[j]; m.MessageID > baseline && m.Sender == SenderPartner && match(m) {
					found = m
					return false
				}
			}
			return true
		})
		if err != nil || found != nil || i == len(settlePauses) {
			return found, err
		}
		if err := sleep(ctx, settlePauses[i]); err != nil {
			return nil, err
		}
	}
}

// newestMessage returns the id of the chat's newest message, or 0 for an empty chat. It reads
// the history from the newest message the client has seen in the chat, so that for a chat
// read before it takes one request.
func (c *Client) newestMessage(ctx context.Context, chatID int64) (int64, error) {
	newest := c.newest.get(chatID)
	_, err := c.eachHistoryPage(ctx, chatID, newest, func(ms []Message) bool {
		for _, m := range ms {
			newest = max(newest, m.MessageID)
		}
		return !newestFirst(ms) // such pages begin with the newest message of all
	})
	return newest, err
}

// sameText reports whether a message's text is what was sent, allowing for what Market may do to
// text it stores: entities, invisible characters, spacing and the Unicode form.
func sameText(stored, sent string) bool { return normalText(stored) == normalText(sent) }

func normalText(s string) string {
	return norm.NFC.String(strings.Join(strings.Fields(untrusted.Clean(html.UnescapeString(s))), " "))
}

// sameName reports whether a stored file's name is the one sent, allowing for the encodings of a
// name in a form upload (quotes and line breaks as %22, %0D, %0A, or escaped with a backslash),
// case and the Unicode form.
func sameName(stored, sent string) bool {
	return strings.EqualFold(normalName(stored), normalName(sent))
}

var nameEncodings = strings.NewReplacer("%22", `"`, "%0D", "", "%0A", "", "%0d", "", "%0a", "", `\"`, `"`, `\\`, `\`)

func normalName(s string) string { return normalText(nameEncodings.Replace(s)) }

// newestMessages remembers, per chat, the newest message id the client has seen.
type newestMessages struct {
	mu sync.Mutex
	m  map[int64]int64
}

// maxRemembered bounds the chats remembered; past it the memory starts again.
const maxRemembered = 10000

func (n *newestMessages) get(chatID int64) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[chatID]
}

func (n *newestMessages) saw(chatID int64, ms []Message) {
	var newest int64
	for _, m := range ms {
		newest = max(newest, m.MessageID)
	}
	if newest == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil || len(n.m) >= maxRemembered {
		n.m = make(map[int64]int64)
	}
	n.m[chatID] = max(n.m[chatID], newest)
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
