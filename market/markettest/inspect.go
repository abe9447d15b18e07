package markettest

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Request is a request the server received, as it received it.
type Request struct {
	// Op is the operationId the request addressed, or "" for a file download or a request that
	// named no operation.
	Op     string
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the body as read; one larger than the operation allows is cut after the limit.
	Body []byte
	// At is the time on the server's clock when the request arrived.
	At time.Time
}

// Stats counts what the server has seen.
type Stats struct {
	// Requests counts the requests of each operation by operationId, whatever their answer.
	Requests map[string]int
	// ParallelLimited and BudgetLimited count the 420 answers the limits sent, for too many
	// requests in flight and for a spent budget. Injected 420s are not counted.
	ParallelLimited int
	BudgetLimited   int
	// InFlight is the number of requests being served now; MaxInFlight the most at any moment,
	// including requests that were then refused for exceeding the parallel limit.
	InFlight    int
	MaxInFlight int
	// Usage tells, per operation, how much of the budget of the windows that have ended was spent.
	Usage map[string]Usage
}

// Usage sums up the budget windows of one operation that have ended.
type Usage struct {
	Windows int // windows that have ended
	Budget  int // their budgets, summed
	Used    int // the requests charged to them
}

// RateLimited is the number of 420 answers the limits sent.
func (s Stats) RateLimited() int { return s.ParallelLimited + s.BudgetLimited }

// Requests returns every request received so far, oldest first. It is empty with
// WithoutRequestLog.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	reqs := slices.Clone(s.log.requests)
	for i := range reqs {
		r := &reqs[i]
		// url.Values has the shape of http.Header, whose Clone copies the value slices too.
		r.Query = url.Values(http.Header(r.Query).Clone())
		r.Header, r.Body = r.Header.Clone(), bytes.Clone(r.Body)
	}
	return reqs
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.log.mu.Lock()
	st := Stats{Requests: maps.Clone(s.log.perOp)}
	s.log.mu.Unlock()
	s.limits.stats(&st)
	return st
}

type requestLog struct {
	mu       sync.Mutex
	off      bool
	requests []Request
	perOp    map[string]int
}

func (l *requestLog) record(r *http.Request, op string, body []byte, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if op != "" {
		l.perOp[op]++
	}
	if l.off {
		return
	}
	l.requests = append(l.requests, Request{
		Op:     op,
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   body,
		At:     at,
	})
}
