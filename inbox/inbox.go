// Package inbox hears what happens in a cabinet's chats (new messages from buyers, Market and
// support, new chats, disputes started and finished) and hands it to whoever waits, in order,
// each once.
//
// It hears either from Market's push notifications (see Receiver) or, without them, by polling
// the API, and then only while someone waits and with at most a set share of each operation's
// hourly budget, so that the calls a seller's assistant makes keep theirs. A notification is
// only a hint: what reaches a waiter is always read from the API, so a forged or repeated
// notification costs at most one bounded read and adds nothing twice.
package inbox

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// Kind is what an Event tells.
type Kind string

// The kinds of events.
const (
	KindMessage         Kind = "message"          // a new message from a buyer, Market or support
	KindChatCreated     Kind = "chat_created"     // a chat was opened
	KindDisputeStarted  Kind = "dispute_started"  // a dispute (an ARBITRAGE chat) was opened
	KindDisputeFinished Kind = "dispute_finished" // a dispute was closed
)

// Event is something that happened in a chat, with the chat as the API told it.
type Event struct {
	Kind    Kind
	Chat    market.Chat
	Message *market.Message // for KindMessage
	// Key tells the event from others: the same event heard twice has the same key.
	Key string
}

func messageEvent(c market.Chat, m market.Message) Event {
	return Event{Kind: KindMessage, Chat: c, Message: &m, Key: "m:" + strconv.FormatInt(c.ChatID, 10) + ":" + strconv.FormatInt(m.MessageID, 10)}
}

func chatEvent(kind Kind, c market.Chat) Event {
	return Event{Kind: kind, Chat: c, Key: string(kind) + ":" + strconv.FormatInt(c.ChatID, 10)}
}

// Options configure an Inbox.
type Options struct {
	// Push is true when Market's notifications reach the Receiver: the inbox then does not poll.
	Push bool
	// PollShare is the share of each operation's hourly budget that polling may use; zero
	// means DefaultPollShare.
	PollShare float64
	// Turn, when processes share the log, lets one of them poll at a time; nil polls always.
	Turn   Turn
	Logger *slog.Logger
}

// Turn is whose turn it is to poll a cabinet's chats, among the processes that share its log.
type Turn interface {
	// Take takes or keeps the turn for a while; it reports false while another process has it.
	Take(ctx context.Context) (bool, error)
	// Give gives the turn up.
	Give(ctx context.Context)
}

// DefaultPollShare is the share of each hourly budget polling uses unless told otherwise.
const DefaultPollShare = 0.1

// Inbox is what happens in one cabinet's chats, as a log that waiters read.
type Inbox struct {
	mc   *market.Client
	log  Log
	opts Options
	poll *poller
	push *pusher
	logf *slog.Logger

	mu      sync.Mutex
	waiters int
	stop    context.CancelFunc // ends the poller; nil while it does not run
	polling sync.WaitGroup
}

// New returns the inbox of the cabinet that mc calls, with its events in log.
func New(mc *market.Client, log Log, o Options) *Inbox {
	if o.PollShare <= 0 {
		o.PollShare = DefaultPollShare
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	in := &Inbox{mc: mc, log: log, opts: o, logf: o.Logger}
	if o.Push {
		in.push = newPusher(in)
	} else {
		in.poll = newPoller(in)
	}
	return in
}

// Close stops the work in the background.
func (in *Inbox) Close() {
	in.mu.Lock()
	if in.stop != nil {
		in.stop()
	}
	in.mu.Unlock()
	in.polling.Wait()
	if in.push != nil {
		in.push.close()
	}
}

// Now returns the cursor of this moment: a wait from it gets what happens from now on.
func (in *Inbox) Now(ctx context.Context) (Cursor, error) {
	_, end, err := in.log.Read(ctx, "", 0)
	return end, err
}

// maxEvents bounds the events one Wait returns; the rest follow on the next.
const maxEvents = 50

// Wait returns the events after cursor (in chat chatID only, if it is not 0) as soon as there
// are any, or none when timeout passes, and the cursor to wait from next. An empty cursor is
// now: only what happens from now on. progress, if not nil, is called now and then while
// nothing has happened.
func (in *Inbox) Wait(ctx context.Context, chatID int64, cursor Cursor, timeout time.Duration, progress func(waited time.Duration)) ([]Event, Cursor, error) {
	in.join()
	defer in.leave()
	if cursor == "" {
		var err error
		if cursor, err = in.Now(ctx); err != nil {
			return nil, "", err
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	start := time.Now()
	for {
		events, next, err := in.log.Read(ctx, cursor, maxEvents)
		if err != nil {
			return nil, "", err
		}
		cursor = next
		var matched []Event
		for _, e := range events {
			if chatID == 0 || e.Chat.ChatID == chatID {
				matched = append(matched, e)
			}
		}
		if len(matched) > 0 {
			return matched, cursor, nil
		}
		if len(events) > 0 {
			continue // only other chats' events so far: read on
		}
		wctx, stop := context.WithTimeout(ctx, progressEvery)
		err = in.log.Wait(wctx, cursor)
		stop()
		switch {
		case context.Cause(ctx) == errTimedOut:
			return nil, cursor, nil // nothing happened
		case ctx.Err() != nil:
			return nil, "", ctx.Err()
		case wctx.Err() != nil:
			if progress != nil {
				progress(time.Since(start))
			}
		case err != nil:
			return nil, "", err
		}
	}
}

// errTimedOut is the cause of a wait's end when its time is up.
var errTimedOut = errors.New("the wait timed out")

// progressEvery is how often a waiting call reports that it still waits.
const progressEvery = 10 * time.Second

// join counts a waiter and, when polling, starts the poller with the first one.
func (in *Inbox) join() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.waiters++
	if in.poll != nil && in.stop == nil {
		ctx, stop := context.WithCancel(context.Background())
		in.stop = stop
		in.polling.Go(func() { in.poll.run(ctx) })
	}
}

// leave counts a waiter out and stops the poller with the last one. The poller keeps what it
// has learned, so that the next one goes on where it stopped and nothing is missed between
// calls.
func (in *Inbox) leave() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.waiters--; in.waiters == 0 && in.stop != nil {
		in.stop()
		in.stop = nil
	}
}

// record appends events to the log, logging a failure: the events will be heard again.
func (in *Inbox) record(ctx context.Context, events ...Event) {
	if len(events) == 0 {
		return
	}
	if err := in.log.Append(ctx, events...); err != nil {
		in.logf.WarnContext(ctx, "the inbox could not keep events", "events", len(events), "error", err)
	}
}
