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

// Shared is where the API's limits of one business are counted: the requests in flight, each
// operation's budget window, and the turn of each chat's sends. Market counts them per business,
// whatever process sends, so the clients of one business in several processes share them
// (Options.Shared); a client without it keeps them in this process (see NewLocal).
type Shared interface {
	// Enter waits for one of the business's max slots for a request in flight and returns the
	// function that frees it.
	Enter(ctx context.Context, max int) (leave func(), err error)
	// Admit decides whether a request of op may leave now, by the budget window its answers
	// have told. An admitted request counts as pending, as spent, until Settle. With the
	// admission it takes one of max slots in flight if one is free with nobody waiting for it
	// (Admission.Leave), so that a request that waits for nothing costs one decision.
	Admit(ctx context.Context, op Operation, max int) (Admission, error)
	// Settle ends an admitted request with what its answer told, or with nil when it got none.
	Settle(ctx context.Context, op Operation, a Admission, told *Told)
	// Changed returns a channel that is closed when a request of op settles, after which a
	// refused Admit may succeed.
	Changed(op Operation) <-chan struct{}
	// Window returns what is known of op's current window.
	Window(ctx context.Context, op Operation) Budget
	// LockChat waits for the chat's turn to send, in the order callers came as far as it can
	// tell, and returns the function that ends it.
	LockChat(ctx context.Context, chatID int64) (unlock func(), err error)
}

// Admission is Shared.Admit's answer.
type Admission struct {
	// Admitted is true when the request may leave; Lease then names it for Settle.
	Admitted bool
	Lease    string
	// Until is when a refused request may try again: zero while it waits for the answers of
	// earlier requests, which tell what is left of the budget.
	Until time.Time
	// Limit is the operation's budget as last told.
	Limit int
	// Leave, when not nil, frees the slot in flight taken with the admission; without it the
	// request takes one with Enter.
	Leave func()
}

// Told is what an answer said of its operation's budget.
type Told struct {
	Status int
	// Headers is false when the answer carried no limit headers; the rest is then zero.
	Headers          bool
	Limit, Remaining int
	// Until is the window's end by this process's clock, believed no further than maxWindow.
	Until time.Time
	// Window names the window as Market does, by its end in Market's clock (Unix seconds): the
	// same for every process that hears of it, whatever their clocks.
	Window int64
}

// told reads an answer's limit headers; skew is the API's clock minus ours.
func told(status int, h http.Header, skew time.Duration) *Told {
	t := &Told{Status: status}
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Resource-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Resource-Remaining"))
	until, err3 := http.ParseTime(h.Get("X-RateLimit-Resource-Until"))
	if err1 == nil && err2 == nil && err3 == nil {
		t.Headers, t.Limit, t.Remaining, t.Window = true, limit, remaining, until.Unix()
		t.Until = capWindow(until.Add(-skew), time.Now()) // by our clock, which the waits run on
	}
	return t
}

// NewLocal returns the Shared of one process: what the client keeps when no other process
// sends for the business.
func NewLocal() Shared {
	l := &local{budgets: make(map[string]*budget, len(Operations))}
	for _, op := range Operations {
		l.budgets[op.Name] = newBudget(op)
	}
	return l
}

// local is the Shared of one process.
type local struct {
	once    sync.Once
	gate    gate
	budgets map[string]*budget // by operation name
	chats   chatQueues
}

func (l *local) Enter(ctx context.Context, max int) (func(), error) {
	l.once.Do(func() { l.gate = make(gate, max) })
	if err := l.gate.enter(ctx); err != nil {
		return nil, err
	}
	return l.gate.leave, nil
}

func (l *local) Admit(_ context.Context, op Operation, max int) (Admission, error) {
	a := l.budgets[op.Name].admit()
	l.once.Do(func() { l.gate = make(gate, max) })
	if a.Admitted {
		select {
		case l.gate <- struct{}{}: // succeeds only when no caller is blocked entering
			a.Leave = l.gate.leave
		default:
		}
	}
	return a, nil
}

func (l *local) Settle(_ context.Context, op Operation, _ Admission, t *Told) {
	l.budgets[op.Name].settle(t)
}

func (l *local) Changed(op Operation) <-chan struct{} {
	b := l.budgets[op.Name]
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

func (l *local) Window(_ context.Context, op Operation) Budget {
	return l.budgets[op.Name].window()
}

func (l *local) LockChat(ctx context.Context, chatID int64) (func(), error) {
	return l.chats.lock(ctx, chatID)
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

// budget is one process's view of one operation's hourly budget.
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

// admit decides whether a request may leave now, and counts it as pending if so.
func (b *budget) admit() Admission {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.known && !now.Before(b.until) {
		b.known = false // the window is over; the next answer tells the new one
	}
	a := Admission{Limit: b.bucket.Burst()}
	switch {
	case now.Before(b.hold):
		a.Until = b.hold
	case b.known && b.remaining-b.pending > 0:
		a.Admitted = true
	case b.known && b.remaining > 0:
		// requests in flight may still leave room: wait for their answers
	case b.known:
		a.Until = b.until
	case b.pending > 0 && !b.blind:
		// one request at a time until an answer tells the window
	default:
		r := b.bucket.ReserveN(now, 1)
		if d := r.DelayFrom(now); d == 0 {
			a.Admitted = true
		} else {
			r.CancelAt(now)
			a.Until = now.Add(d)
		}
	}
	if a.Admitted {
		b.pending++
	}
	return a
}

// settle records the end of an admitted request: what its answer told, if it got one.
func (b *budget) settle(t *Told) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	if t != nil {
		b.learn(t)
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// learn takes what an answer says of the window. Within one window the counter only goes down,
// so an answer that overtook a later one cannot raise it. A 420 for a spent budget holds every
// request back until its Until, whatever window earlier answers told.
func (b *budget) learn(t *Told) {
	if !t.Headers {
		// A 420 of the parallel limit has no headers and says nothing of the budget.
		b.blind = t.Status != statusEnhanceYourCalm
		return
	}
	b.blind = false
	if t.Limit > 0 && t.Limit != b.bucket.Burst() {
		b.bucket.SetLimit(rate.Limit(float64(t.Limit) / 3600))
		b.bucket.SetBurst(t.Limit)
	}
	if t.Status == statusEnhanceYourCalm {
		if t.Remaining == 0 && t.Until.After(b.hold) {
			b.hold = t.Until
		}
		return // with budget left, it was the parallel limit
	}
	switch {
	case !b.known || t.Until.After(b.until):
		b.known, b.until, b.remaining = true, t.Until, t.Remaining
	case t.Until.Equal(b.until):
		b.remaining = min(b.remaining, t.Remaining)
	}
}

// window tells what is known of the current window.
func (b *budget) window() Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := Budget{Op: b.op.Name, Limit: b.op.HourlyLimit}
	if b.known && time.Now().Before(b.until) {
		v.Known, v.Remaining, v.Until = true, max(b.remaining-b.pending, 0), b.until
	}
	return v
}

// Wait describes a call held back by a limit, for progress reports.
type Wait struct {
	Op string // the operation, e.g. "getChats"
	// Until is when the call expects to go on. It is zero while the call waits for the answers
	// of earlier requests, which tell what is left of the budget.
	Until time.Time
}

// admit waits until a request of op may be sent and returns its admission. It waits at most
// c.maxWait, and not past ctx's deadline: a wait for a time beyond either ends at once, and a
// wait for answers of earlier requests ends when maxWait is over, with a *RateLimitError.
func (c *Client) admit(ctx context.Context, op Operation) (Admission, error) {
	bound := time.Now().Add(c.maxWait) // the end of a wait for answers
	var told Wait
	for {
		changed := c.shared.Changed(op)
		a, err := c.shared.Admit(ctx, op, c.parallel)
		if err != nil || a.Admitted {
			return a, err
		}
		now := time.Now()
		w := Wait{Op: op.Name, Until: a.Until}
		wake := w.Until
		if wake.IsZero() {
			wake = bound
		}
		deadline, bounded := ctx.Deadline()
		if wake.Sub(now) > c.maxWait || !now.Before(wake) && w.Until.IsZero() || bounded && deadline.Before(wake) && !w.Until.IsZero() {
			return a, &RateLimitError{Op: op.Name, Until: w.Until, Limit: a.Limit, Local: true, Pending: w.Until.IsZero()}
		}
		if w != told {
			notifyWait(ctx, w)
			told = w
		}
		if err := sleepUntil(ctx, wake, changed); err != nil {
			return a, err
		}
	}
}

// sleepUntil waits until the given time or until changed is closed.
func sleepUntil(ctx context.Context, until time.Time, changed <-chan struct{}) error {
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
func (c *Client) Budgets(ctx context.Context) []Budget {
	out := make([]Budget, 0, len(Operations))
	for _, op := range Operations {
		out = append(out, c.shared.Window(ctx, op))
	}
	return out
}
