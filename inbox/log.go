package inbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Log is the events of one cabinet, in the order they were heard, each once. Appending
// deduplicates by Event.Key, so that the same event heard twice, from a repeated notification or
// two pollers, is kept once. A Cursor marks a place in the log: the events after it are those a
// waiter has not been given yet.
type Log interface {
	// Append adds the events that the log does not hold yet.
	Append(ctx context.Context, events ...Event) error
	// Read returns up to max events after cursor, and the cursor after the last of them (cursor
	// itself when there are none). An empty cursor is the log's end.
	Read(ctx context.Context, cursor Cursor, max int) ([]Event, Cursor, error)
	// Wait returns when the log may hold an event after cursor, or when ctx ends.
	Wait(ctx context.Context, cursor Cursor) error
}

// Cursor is a place in a Log, opaque to callers.
type Cursor string

// ErrCursor is the cause of a cursor that the log does not know: another server's, or one so old
// that its events are no longer kept.
var ErrCursor = errors.New("the cursor is not one of this server's current ones")

// memoryLog is the Log of one process.
type memoryLog struct {
	epoch string // tells this process's cursors from others'

	mu      sync.Mutex
	events  []Event // the newest, at most capacity
	first   int64   // the sequence number of events[0]
	keys    map[string]bool
	changed chan struct{}
}

// capacity is how many events a memoryLog keeps: a waiter whose cursor is older has missed
// some, and is told so.
const capacity = 10000

// NewMemoryLog returns an empty log kept in this process.
func NewMemoryLog() Log {
	return &memoryLog{epoch: rand.Text()[:8], first: 1, keys: make(map[string]bool), changed: make(chan struct{})}
}

func (l *memoryLog) Append(_ context.Context, events ...Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	added := false
	for _, e := range events {
		if l.keys[e.Key] {
			continue
		}
		l.keys[e.Key] = true
		l.events = append(l.events, e)
		added = true
	}
	if over := len(l.events) - capacity; over > 0 {
		for _, e := range l.events[:over] {
			delete(l.keys, e.Key)
		}
		l.events = append([]Event(nil), l.events[over:]...)
		l.first += int64(over)
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return nil
}

// seq reads a cursor: the sequence number of the last event given. The log's end is
// first+len(events)-1.
func (l *memoryLog) seq(c Cursor) (int64, error) {
	end := l.first + int64(len(l.events)) - 1
	if c == "" {
		return end, nil
	}
	epoch, n, ok := strings.Cut(string(c), ".")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || epoch != l.epoch || seq > end {
		return 0, ErrCursor
	}
	if seq < l.first-1 {
		return 0, fmt.Errorf("%w: its events are older than the %d the server keeps", ErrCursor, capacity)
	}
	return seq, nil
}

func (l *memoryLog) cursor(seq int64) Cursor {
	return Cursor(l.epoch + "." + strconv.FormatInt(seq, 10))
}

func (l *memoryLog) Read(_ context.Context, c Cursor, limit int) ([]Event, Cursor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq, err := l.seq(c)
	if err != nil {
		return nil, "", err
	}
	from := int(seq + 1 - l.first)
	to := min(from+limit, len(l.events))
	out := append([]Event(nil), l.events[from:to]...)
	return out, l.cursor(seq + int64(len(out))), nil
}

func (l *memoryLog) Wait(ctx context.Context, c Cursor) error {
	l.mu.Lock()
	seq, err := l.seq(c)
	end := l.first + int64(len(l.events)) - 1
	changed := l.changed
	l.mu.Unlock()
	if err != nil || seq < end {
		return err
	}
	select {
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
