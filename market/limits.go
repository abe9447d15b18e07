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

// DefaultMaxWait bounds how long a call waits for a spent budget to come back.
const DefaultMaxWait = 30 * time.Second

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
	Op    string    // the operation, e.g. "getChats"
	Until time.Time // when the call expects to go on
}

// admit waits until a request may be sent and counts it as pending. A wait longer than maxWait,
// or than ctx allows, ends at once with a *RateLimitError.
func (b *budget) admit(ctx context.Context, maxWait time.Duration) error {
	for {
		b.mu.Lock()
		now := time.Now()
		if b.known && !now.Before(b.until) {
			b.known = false // the window is over; the next answer tells the new one
		}
		var until time.Time // the wait's end, when it is known
		switch {
		case b.known && b.remaining-b.pending > 0:
			b.pending++
			b.mu.Unlock()
			return nil
		case b.known && b.remaining > 0:
			until = time.Time{} // requests in flight may still leave room: wait for their answers
		case b.known:
			until = b.until
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
				until = now.Add(d)
			}
		}
		changed := b.changed
		limit := b.bucket.Burst()
		b.mu.Unlock()

		if !until.IsZero() {
			d := time.Until(until)
			if deadline, ok := ctx.Deadline(); d > maxWait || (ok && deadline.Before(until)) {
				return &RateLimitError{Op: b.op.Name, Until: until, Limit: limit, Local: true}
			}
			notifyWait(ctx, Wait{Op: b.op.Name, Until: until})
		}
		if err := b.sleep(ctx, until, changed); err != nil {
			return err
		}
	}
}

// sleep waits until the given time (or indefinitely when it is zero) or until the budget changes.
func (b *budget) sleep(ctx context.Context, until time.Time, changed <-chan struct{}) error {
	var timer <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer:
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
// so an answer that overtook a later one cannot raise it.
func (b *budget) learn(status int, h http.Header, skew time.Duration) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Resource-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Resource-Remaining"))
	until, err3 := http.ParseTime(h.Get("X-RateLimit-Resource-Until"))
	until = until.Add(-skew) // by our clock, which the waits run on
	if err1 != nil || err2 != nil || err3 != nil {
		// A 420 of the parallel limit has no headers and says nothing of the budget.
		b.blind = status != statusEnhanceYourCalm
		return
	}
	b.blind = false
	if limit > 0 && limit != b.bucket.Burst() {
		b.bucket.SetLimit(rate.Limit(float64(limit) / 3600))
		b.bucket.SetBurst(limit)
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
