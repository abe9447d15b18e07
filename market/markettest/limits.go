package markettest

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter enforces the API's limits for the server's business: a budget of requests per
// operation over fixed windows, and a cap on requests in flight.
//
// Assumption: a window opens with the first request of its operation and lasts the configured
// length; when it is over, the next request opens a new one with the whole budget. As the API documents,
// answers with 2xx and 4xx statuses spend budget; 5xx and 420 answers do not.
type limiter struct {
	off      bool
	window   time.Duration
	parallel int
	business int64
	budgets  map[string]*budget // by operation name; the map is not changed after construction

	mu              sync.Mutex
	inFlight        int
	maxInFlight     int
	parallelLimited int
	budgetLimited   int
}

type budget struct {
	limit int // constant
	used  int
	until time.Time // end of the current window; zero before the first request
	past  Usage     // the windows that have ended
}

// rateHeaders are the X-RateLimit-Resource-* values of an answer.
type rateHeaders struct {
	limit, remaining int
	until            time.Time
}

func (h rateHeaders) set(header http.Header) {
	header.Set("X-RateLimit-Resource-Limit", strconv.Itoa(h.limit))
	header.Set("X-RateLimit-Resource-Remaining", strconv.Itoa(h.remaining))
	header.Set("X-RateLimit-Resource-Until", h.until.UTC().Format(http.TimeFormat))
}

// refusal is a 420 answer. Its headers are nil for the parallel limit, whose end no one knows.
type refusal struct {
	msg     string
	headers *rateHeaders
}

func newLimiter(c config) *limiter {
	l := &limiter{
		off:      c.unlimited,
		window:   c.window,
		parallel: c.parallel,
		business: c.businessID,
		budgets:  make(map[string]*budget, len(c.budgets)),
	}
	for op, n := range c.budgets {
		l.budgets[op] = &budget{limit: n}
	}
	return l
}

// enter and leave count the requests in flight.
func (l *limiter) enter() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight++
	l.maxInFlight = max(l.maxInFlight, l.inFlight)
}

func (l *limiter) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
}

// admit checks the limits for a request of op and reserves one unit of its budget. The
// reservation, the end of the window it was taken from, goes back to settle.
func (l *limiter) admit(op *operation, now time.Time) (time.Time, *refusal) {
	if l.off {
		return time.Time{}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.parallel > 0 && l.inFlight > l.parallel {
		l.parallelLimited++
		return time.Time{}, l.parallelRefusal()
	}
	b := l.current(op.name, now)
	if b.used >= b.limit {
		l.budgetLimited++
		return time.Time{}, l.budgetRefusal(op, b.until)
	}
	b.used++
	return b.until, nil
}

// settle charges op's budget for an answer with the given status and returns the headers the
// answer carries; ok is false when limits are off. reserved is what admit returned, or zero for
// an answer that admit did not see (an injected one).
func (l *limiter) settle(op *operation, reserved time.Time, status int, now time.Time) (h rateHeaders, ok bool) {
	if l.off {
		return rateHeaders{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.current(op.name, now)
	charged := status < 500 && status != statusLimit
	switch {
	case reserved.IsZero() && charged:
		b.used++
	case !reserved.IsZero() && !charged && reserved.Equal(b.until):
		b.used-- // give back a reservation from this window; an older one has expired with it
	}
	return rateHeaders{limit: b.limit, remaining: max(b.limit-b.used, 0), until: b.until}, true
}

// current returns op's budget, first opening a new window if the last one is over. The caller
// holds l.mu.
func (l *limiter) current(op string, now time.Time) *budget {
	b := l.budgets[op]
	if !now.Before(b.until) {
		if !b.until.IsZero() {
			b.past.Windows++
			b.past.Used += b.used
			b.past.Budget += b.limit
		}
		b.used = 0
		// Whole seconds, so that the Until header, which has no fractions, is exact.
		b.until = now.Add(l.window + time.Second - 1).Truncate(time.Second)
	}
	return b
}

func (l *limiter) parallelRefusal() *refusal {
	return &refusal{msg: fmt.Sprintf("Hit rate limit of %d parallel requests for businessId %d",
		cmp.Or(l.parallel, defaultParallel), l.business)}
}

func (l *limiter) budgetRefusal(op *operation, until time.Time) *refusal {
	limit := l.budgets[op.name].limit
	return &refusal{
		msg: fmt.Sprintf("Hit rate limit of '%d' requests per '%s' for resource '%s' for businessId %d",
			limit, period(l.window), op.resource(), l.business),
		headers: &rateHeaders{limit: limit, remaining: 0, until: until},
	}
}

// period writes a window length the way the API's messages do, e.g. "1 hour" or "2 minutes".
func period(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d%u.d != 0 {
			continue
		}
		if n := d / u.d; n != 1 {
			return fmt.Sprintf("%d %ss", n, u.name)
		}
		return "1 " + u.name
	}
	return d.String()
}

func (r *refusal) write(w http.ResponseWriter) {
	if r.headers != nil {
		r.headers.set(w.Header())
	}
	writeBody(w, statusLimit, errorBody(statusLimit, r.msg))
}

func (l *limiter) stats(s *Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.InFlight, s.MaxInFlight = l.inFlight, l.maxInFlight
	s.ParallelLimited, s.BudgetLimited = l.parallelLimited, l.budgetLimited
	s.Usage = make(map[string]Usage, len(l.budgets))
	for op, b := range l.budgets {
		s.Usage[op] = b.past
	}
}
