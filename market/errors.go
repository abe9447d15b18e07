package market

import (
	"fmt"
	"strings"
	"time"
)

// APIError is an answer of the Partner API other than 2xx and 420: the HTTP status and the first
// entry of the error envelope {"status":"ERROR","errors":[{"code","message"}]}.
type APIError struct {
	Op      string // operationId, e.g. "getChat"
	Status  int    // HTTP status
	Code    string // the API's error code, e.g. "NOT_FOUND"; an open set
	Message string // the API's message, human prose
	TraceID string // the traceparent trace id, for Market support
	// Redirect is the host a 3xx answer pointed to; the client follows no redirects, so that
	// the credentials and the request never leave the configured host.
	Redirect string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Redirect != "" {
		b.WriteString(": a redirect to " + e.Redirect + ", not followed")
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + e.TraceID + ")")
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: a server-side failure.
func (e *APIError) Temporary() bool { return e.Status >= 500 }

// RateLimitError says that an operation's budget is spent (HTTP 420, or known to be spent from an
// earlier answer's X-RateLimit-Resource-* headers) and when it is available again.
type RateLimitError struct {
	Op      string
	Until   time.Time // zero when the API did not say (the parallel-requests limit)
	Limit   int       // the window's budget, when known
	Message string    // the API's message, when the API answered
	TraceID string
	// Local is true when the client knew the budget spent and did not ask the API: waiting
	// until Until would take longer than the caller allows.
	Local bool
	// Parallel is true when the API refused for too many requests in flight, not for a spent
	// budget: its answer had no Until, or said that budget was left.
	Parallel bool
	// Pending is true when the client held the request back for the answers of earlier
	// requests, which tell what is left of the budget, and they did not come within the caller's
	// bounds.
	Pending bool
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: rate limit reached", e.Op)
	switch {
	case e.Pending:
		b.WriteString("; earlier requests that tell what is left of the budget are not answered yet")
	case !e.Until.IsZero():
		fmt.Fprintf(&b, "; it resets in %s, at %s", max(time.Until(e.Until), 0).Round(time.Second), e.Until.UTC().Format(time.RFC3339))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + e.TraceID + ")")
	}
	return b.String()
}

// ResponseError is a 2xx answer the client could not read: not JSON, or not the documented shape.
type ResponseError struct {
	Op      string
	Status  int
	Err     error
	TraceID string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s: unreadable answer (HTTP %d, trace %s): %v", e.Op, e.Status, e.TraceID, e.Err)
}

func (e *ResponseError) Unwrap() error { return e.Err }

// statusEnhanceYourCalm is what the Partner API answers when a limit is reached.
const statusEnhanceYourCalm = 420

// NetworkError is an attempt that got no answer: no connection could be made, it broke, or the
// answer took longer than the timeout.
type NetworkError struct {
	Op      string
	TraceID string
	// Sent is true when the request may have reached the API: a connection had been made.
	Sent bool
	Err  error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s (trace %s): %v", e.Op, e.TraceID, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// UnconfirmedError is a send that failed in a way that leaves open whether the buyer got it,
// which the chat's history could not settle: it could not be read, or it did not show the send
// although the last attempt may still have been stored. The caller should read the history
// before sending again.
type UnconfirmedError struct {
	Op     string
	ChatID int64
	Err    error // why the last attempt failed
	// Check is why the history could not tell; nil when it was read and lacked the send.
	Check error
	// Attempts is how many times the send went out.
	Attempts int
}

func (e *UnconfirmedError) Error() string {
	if e.Check == nil {
		return fmt.Sprintf("%s to chat %d is unconfirmed after %d attempts: %v; the chat's history does not show it yet", e.Op, e.ChatID, e.Attempts, e.Err)
	}
	return fmt.Sprintf("%s to chat %d is unconfirmed: %v; reading the chat's history failed too: %v", e.Op, e.ChatID, e.Err, e.Check)
}

func (e *UnconfirmedError) Unwrap() error { return e.Err }
