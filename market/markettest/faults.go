package markettest

import (
	"cmp"
	"context"
	"net/http"
	"sync"
	"time"
)

// Fault is a failure injected into the answer to one request of an operation. The zero Fault
// answers normally. A request takes the next fault queued for its operation once it has passed
// the credential checks and before the limits are checked; see the package documentation.
//
// The parts apply in this order: Commit, then Delay, then the answer, which is Drop, else Body,
// else Status, else (with Commit) the committed answer, else the normal one.
type Fault struct {
	// Status answers with this status and the error envelope, e.g. 420, 500 or 503.
	Status int
	// Until, with Status 420, is sent as X-RateLimit-Resource-Until together with the
	// operation's limit and Remaining 0, as a spent budget is answered. Left zero, the 420 is
	// that of the parallel limit, with no X-RateLimit-Resource-* headers.
	Until time.Time
	// Delay holds the request this long before answering. It counts as in flight meanwhile. If
	// the client goes away or the server closes first, the connection is closed unanswered.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Commit applies a write's effect (the chat, message or file is stored) before the rest of
	// the fault, like a server that stored the data and then failed or timed out.
	Commit bool
	// Body answers with this raw body and status 200, or Status if set, e.g. "not json".
	Body string
}

// Inject queues faults for the requests of operation op (an operationId such as
// "sendMessageToChat"); each request of op takes the next one. It panics on an unknown
// operation.
func (s *Server) Inject(op string, faults ...Fault) {
	mustOperation(op)
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.byOp[op] = append(s.faults.byOp[op], faults...)
}

type faultQueue struct {
	mu   sync.Mutex
	byOp map[string][]Fault
}

func (q *faultQueue) next(op string) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	queue := q.byOp[op]
	if len(queue) == 0 {
		return Fault{}, false
	}
	q.byOp[op] = queue[1:]
	return queue[0], true
}

// serveFault answers a request of op as f says, and reports false if the request is still to be
// served as usual.
//
// Injected answers pass no limit checks, but spend budget and carry the X-RateLimit-Resource-*
// headers by their status as any answer does, so that a client meets the same headers.
func (s *Server) serveFault(w http.ResponseWriter, op *operation, c *call, f Fault) bool {
	var status int
	var body []byte
	if f.Commit {
		status, body = render(op.handle(s, c))
	}
	if f.Delay > 0 && !s.sleep(c.r.Context(), f.Delay) {
		drop(w)
		return true
	}
	switch {
	case f.Drop:
		drop(w)
	case f.Body != "":
		s.answer(w, op, time.Time{}, cmp.Or(f.Status, http.StatusOK), []byte(f.Body))
	case f.Status == statusLimit && f.Until.IsZero():
		s.limits.parallelRefusal().write(w)
	case f.Status == statusLimit:
		s.limits.budgetRefusal(op, f.Until).write(w)
	case f.Status != 0:
		s.answer(w, op, time.Time{}, f.Status, errorBody(f.Status, faultMessage(f.Status)))
	case f.Commit:
		s.answer(w, op, time.Time{}, status, body)
	default:
		return false
	}
	return true
}

func faultMessage(status int) string {
	if status == http.StatusServiceUnavailable {
		return "Service temporarily unavailable. Please, try again later"
	}
	return cmp.Or(http.StatusText(status), "Error")
}

// sleep waits for d and reports whether it did, rather than seeing the client go away or the
// server close.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting the handler resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
