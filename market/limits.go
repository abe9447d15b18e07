package market

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxParallel is the API's limit of requests in flight per business.
const DefaultMaxParallel = 4

// DefaultMaxWait bounds how long a call waits for a limit: a spent budget to come back, or the
// answers of earlier requests that tell what is left of it.
const DefaultMaxWait = 30 * time.Second

// maxWindow is the furthest off an end of a budget window is believed. The API's budgets are
// hourly; an answer that names a later end (a year ahead, say) would otherwise hold an operation
// back until the process restarts.
const maxWindow = time.Hour + time.Minute

// capWindow returns until, or the furthest end of a window that is believed if until is later.
func capWindow(until, now time.Time) time.Time {
	if furthest := now.Add(maxWindow); until.After(furthest) {
		return furthest
	}
	return until
}

// gate admits at most cap(g) requests at a time. Callers blocked on a channel send are served
// in the order they came, so the requests of a burst leave in the order they were made.
type gate chan struct{}

func (g gate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gate) leave() { <-g }

// budget is the client's view of one operation's hourly budget.
//
// The API counts requests in fixed windows and tells, in every answer, the window's budget,
// what is left and when it ends. While the client knows the window, it sends only as many
// requests as are left, counting those still in flight as spent, and when none are left it
// waits for the window's end without asking the API. While it does not know the window (at
// start, after a window ends), one request at a time goes out to learn it. A token bucket at the
// documented hourly rate stands in for the API's word when answers carry no limit headers.
type budget struct {
	op     Operation
	mu     sync.Mutex
	bucket *rate.Limiter

	known     bool      // an answer told the current window
	remaining int       // the least Remaining the API reported for the window
	until     time.Time // the window's end
	hold      time.Time // no request leaves before this: the Until of a 420 for a spent budget
	blind     bool      // answers come without limit headers: only the bucket counts
	pending   int       // admitted requests whose answers have not come back
	changed   chan struct{}
}

func newBudget(op Operation) *budget {
	return &budget{
		op:      op,
		bucket:  rate.NewLimiter(rate.Limit(float64(op.HourlyLimit)/3600), op.HourlyLimit),
		changed: make(chan struct{}),
	}
}

// Wait describes a call held back by a limit, for progress reports.
type Wait struct {
	Op string // the operation, e.g. "getChats"
	// Until is when the call expects to go on. It is zero while the call waits for the answers
	// of earlier requests, which tell what is left of the budget.
	Until time.Time
}

// admit waits until a request may be sent and counts it as pending. It waits at most maxWait,
// and not past ctx's deadline: a wait for a time beyond either ends at once, and a wait for
// answers of earlier requests ends when maxWait is over, with a *RateLimitError.
func (b *budget) admit(ctx context.Context, maxWait time.Duration) error {
	bound := time.Now().Add(maxWait) // the end of a wait for answers
	var told Wait
	for {
		b.mu.Lock()
		now := time.Now()
		if b.known && !now.Before(b.until) {
			b.known = false // the window is over; the next answer tells the new one
		}
		w := Wait{Op: b.op.Name}
		switch {
		case now.Before(b.hold):
			w.Until = b.hold
		case b.known && b.remaining-b.pending > 0:
			b.pending++
			b.mu.Unlock()
			return nil
		case b.known && b.remaining > 0:
			// requests in flight may still leave room: wait for their answers
		case b.known:
			w.Until = b.until
		case b.pending > 0 && !b.blind:
			// one request at a time until an answer tells the window
		default:
			r := b.bucket.ReserveN(now, 1)
			if d := r.DelayFrom(now); d == 0 {
				b.pending++
				b.mu.Unlock()
				return nil
			} else {
				r.CancelAt(now)
				w.Until = now.Add(d)
			}
		}
		changed := b.changed
		limit := b.bucket.Burst()
		b.mu.Unlock()

		wake := w.Until
		if wake.IsZero() {
			wake = bound
		}
		deadline, bounded := ctx.Deadline()
		if wake.Sub(now) > maxWait || !now.Before(wake) && w.Until.IsZero() || bounded && deadline.Before(wake) && !w.Until.IsZero() {
			return &RateLimitError{Op: b.op.Name, Until: w.Until, Limit: limit, Local: true, Pending: w.Until.IsZero()}
		}
		if w != told {
			notifyWait(ctx, w)
			told = w
		}
		if err := b.sleep(ctx, wake, changed); err != nil {
			return err
		}
	}
}

// sleep waits until the given time or until the budget changes.
func (b *budget) sleep(ctx context.Context, until time.Time, changed <-chan struct{}) error {
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-changed:
	}
	return nil
}

// done records the end of an admitted request: its answer's status and headers, if it got an
// answer (status 0 when it did not). skew is the API's clock minus ours.
func (b *budget) done(status int, h http.Header, skew time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	if status != 0 {
		b.learn(status, h, skew)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// learn takes what an answer says of the window. Within one window the counter only goes down,
// so an answer that overtook a later one cannot raise it. A 420 for a spent budget holds every
// request back until its Until, whatever window earlier answers told.
func (b *budget) learn(status int, h http.Header, skew time.Duration) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Resource-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Resource-Remaining"))
	until, err3 := http.ParseTime(h.Get("X-RateLimit-Resource-Until"))
	if err1 != nil || err2 != nil || err3 != nil {
		// A 420 of the parallel limit has no headers and says nothing of the budget.
		b.blind = status != statusEnhanceYourCalm
		return
	}
	b.blind = false
	until = capWindow(until.Add(-skew), time.Now()) // by our clock, which the waits run on
	if limit > 0 && limit != b.bucket.Burst() {
		b.bucket.SetLimit(rate.Limit(float64(limit) / 3600))
		b.bucket.SetBurst(limit)
	}
	if status == statusEnhanceYourCalm {
		if remaining == 0 && until.After(b.hold) {
			b.hold = until
		}
		return // with budget left, it was the parallel limit
	}
	switch {
	case !b.known || until.After(b.until):
		b.known, b.until, b.remaining = true, until, remaining
	case until.Equal(b.until):
		b.remaining = min(b.remaining, remaining)
	}
}

// waitNotifierKey carries a function told of every wait on a limit.
type waitNotifierKey struct{}

// WithWaitNotifier returns a context whose calls report to notify each time they wait for a
// limit, so that a caller can tell its user why nothing happens.
func WithWaitNotifier(ctx context.Context, notify func(Wait)) context.Context {
	return context.WithValue(ctx, waitNotifierKey{}, notify)
}

func notifyWait(ctx context.Context, w Wait) {
	if notify, ok := ctx.Value(waitNotifierKey{}).(func(Wait)); ok {
		notify(w)
	}
}

// Budget is what the client knows of an operation's hourly budget.
type Budget struct {
	Op string
	// Known is false until an answer has told the current window.
	Known bool
	// Limit, Remaining and Until are the window's budget, what is left of it (less the requests
	// in flight) and its end, when Known.
	Limit, Remaining int
	Until            time.Time
}

// Budgets returns what the client knows of each operation's budget, in the order of Operations.
func (c *Client) Budgets() []Budget {
	out := make([]Budget, 0, len(Operations))
	now := time.Now()
	for _, op := range Operations {
		b := c.budgets[op.Name]
		b.mu.Lock()
		v := Budget{Op: op.Name, Limit: op.HourlyLimit}
		if b.known && now.Before(b.until) {
			v.Known, v.Remaining, v.Until = true, max(b.remaining-b.pending, 0), b.until
		}
		b.mu.Unlock()
		out = append(out, v)
	}
	return out
}
