package shared

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
)

// Log is the inbox.Log of one cabinet in a Redis stream: every process appends what it hears
// (notifications it received, what its polling found) and every process's waiters read it, so
// that a cursor given by one process goes on in another. A cursor is a stream id.
type Log struct {
	s      *Store
	stream string
	wake   string // the channel appends are published on
	seen   func(key string) string
}

// logCapacity is about how many events the stream keeps; an older cursor is refused.
const logCapacity = 10000

// seenFor is how long an event's key is remembered, so that the same event heard again by any
// process is not appended twice.
const seenFor = 24 * 60 * 60 // seconds

// Log returns the shared log of business.
func (s *Store) Log(business int64) *Log {
	b := itoa(business)
	return &Log{s: s, stream: s.key(b, "events"), wake: s.key(b, "events:appended"),
		seen: func(key string) string { return s.key(b, "seen:"+key) }}
}

var appendScript = redis.NewScript(`
local added = 0
for i = 3, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', tonumber(ARGV[1])) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', tonumber(ARGV[2]), '*', 'e', ARGV[i])
    added = added + 1
  end
end
if added > 0 then redis.call('PUBLISH', KEYS[2], 'appended') end
return added
`)

// Append adds the events no process has appended yet.
func (l *Log) Append(ctx context.Context, events ...inbox.Event) error {
	if len(events) == 0 {
		return nil
	}
	keys := []string{l.stream, l.wake}
	args := []any{seenFor, logCapacity}
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		keys = append(keys, l.seen(e.Key))
		args = append(args, string(b))
	}
	return l.s.call(ctx, func(ctx context.Context) error {
		return appendScript.Run(ctx, l.s.rdb, keys, args...).Err()
	})
}

// streamID is the form of a stream id.
var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// Read returns up to max events after cursor.
func (l *Log) Read(ctx context.Context, c inbox.Cursor, limit int) ([]inbox.Event, inbox.Cursor, error) {
	last, err := l.last(ctx)
	if err != nil {
		return nil, "", err
	}
	if c == "" {
		return nil, last, nil
	}
	if !streamID.MatchString(string(c)) || after(string(c), string(last)) {
		return nil, "", inbox.ErrCursor
	}
	if limit <= 0 || string(c) == string(last) {
		return nil, c, nil
	}
	var msgs []redis.XMessage
	err = l.s.call(ctx, func(ctx context.Context) error {
		var err error
		msgs, err = l.s.rdb.XRangeN(ctx, l.stream, "("+string(c), "+", int64(limit)).Result()
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if err := l.kept(ctx, c); err != nil {
		return nil, "", err
	}
	out := make([]inbox.Event, 0, len(msgs))
	next := c
	for _, m := range msgs {
		var e inbox.Event
		if raw, ok := m.Values["e"].(string); ok && json.Unmarshal([]byte(raw), &e) == nil {
			out = append(out, e)
		}
		next = inbox.Cursor(m.ID)
	}
	return out, next, nil
}

// kept refuses a cursor whose next events the stream no longer keeps.
func (l *Log) kept(ctx context.Context, c inbox.Cursor) error {
	var first []redis.XMessage
	var n int64
	err := l.s.call(ctx, func(ctx context.Context) error {
		var err error
		if first, err = l.s.rdb.XRangeN(ctx, l.stream, "-", "+", 1).Result(); err != nil {
			return err
		}
		n, err = l.s.rdb.XLen(ctx, l.stream).Result()
		return err
	})
	if err != nil {
		return err
	}
	// A full stream has been trimmed: a cursor before its first event may have missed some.
	if n >= logCapacity && len(first) == 1 && after(first[0].ID, string(c)) {
		return fmt.Errorf("%w: its events are older than the %d the server keeps", inbox.ErrCursor, logCapacity)
	}
	return nil
}

// last returns the id of the stream's newest event, or 0-0 for an empty stream.
func (l *Log) last(ctx context.Context) (inbox.Cursor, error) {
	var msgs []redis.XMessage
	err := l.s.call(ctx, func(ctx context.Context) error {
		var err error
		msgs, err = l.s.rdb.XRevRangeN(ctx, l.stream, "+", "-", 1).Result()
		return err
	})
	if err != nil || len(msgs) == 0 {
		return "0-0", err
	}
	return inbox.Cursor(msgs[0].ID), nil
}

// Wait returns when an event after cursor may have been appended by any process, or when ctx
// ends.
func (l *Log) Wait(ctx context.Context, c inbox.Cursor) error {
	for {
		woken := l.s.wake.watch(l.wake)
		last, err := l.last(ctx)
		if err != nil {
			return err
		}
		if after(string(last), string(c)) {
			return nil
		}
		if err := waitFor(ctx, woken, 4*retryEvery); err != nil {
			return err
		}
	}
}

// after reports whether stream id a comes after b.
func after(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am > bm || am == bm && as > bs
}

func splitID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}

// Turn is whose turn it is to poll one cabinet's chats: one process at a time, for as long as
// it keeps taking it.
type Turn struct {
	s   *Store
	key string
	id  string
}

// Turn returns the polling turn of business, for this process.
func (s *Store) Turn(business int64) *Turn {
	return &Turn{s: s, key: s.key(itoa(business), "poller"), id: rand.Text()}
}

var takeScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
`)

var giveScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// Take takes or keeps the turn, for pollTurn; it reports false while another process has it.
// Without Redis every process polls: the log's keys keep what they find once.
func (t *Turn) Take(ctx context.Context) (bool, error) {
	var got int64
	err := t.s.call(ctx, func(ctx context.Context) error {
		var err error
		got, err = takeScript.Run(ctx, t.s.rdb, []string{t.key}, t.id, pollTurn.Milliseconds()).Int64()
		return err
	})
	return got == 1, err
}

// Give gives the turn up, if this process has it.
func (t *Turn) Give(ctx context.Context) {
	_ = t.s.call(ctx, func(ctx context.Context) error {
		return giveScript.Run(ctx, t.s.rdb, []string{t.key}, t.id).Err()
	})
}

// pollTurn is how long a turn to poll lasts unless taken again: longer than a round of polling
// usually takes, short enough that a process that died hands it on soon.
const pollTurn = 30 * time.Second
