package market

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// DefaultMaxAttempts bounds the exchanges of one call.
const DefaultMaxAttempts = 5

// maxRetryElapsed bounds the time a call spends retrying.
const maxRetryElapsed = 20 * time.Second

// newBackOff returns the pauses between attempts: jittered, doubling from a quarter second.
func newBackOff() backoff.BackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(250*time.Millisecond),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxInterval(4*time.Second),
		backoff.WithMaxElapsedTime(maxRetryElapsed),
	)
}

// retryable reports whether a failed attempt may be made again.
//
//   - A 420 of the parallel limit after a pause, and one of a spent budget when the wait it asks
//     for fits the caller's bounds: the API refused the request before doing anything. A spent
//     budget makes the next attempt wait for the window's end.
//   - A request that never reached the API (no connection could be made) always.
//   - Server failures, timeouts, broken connections and unreadable answers only when the
//     operation is idempotent: a send may have happened, and is settled by Client.send instead.
//   - Other answers never: the same request would fail the same way, and 4xx answers spend
//     budget.
func (c *Client) retryable(ctx context.Context, op Operation, err error) bool {
	var (
		rl   *RateLimitError
		ne   *NetworkError
		api  *APIError
		resp *ResponseError
	)
	switch {
	case errors.As(err, &rl):
		deadline, bounded := ctx.Deadline()
		return !rl.Local && (rl.Parallel || (time.Until(rl.Until) <= c.maxWait && (!bounded || deadline.After(rl.Until))))
	case errors.As(err, &ne):
		return !ne.Sent || op.Idempotent
	case errors.As(err, &api):
		return api.Temporary() && op.Idempotent
	case errors.As(err, &resp):
		return op.Idempotent
	}
	return false
}

// mayHaveHappened reports whether a failed write may still have been carried out by the API.
func mayHaveHappened(err error) bool {
	var (
		ne   *NetworkError
		api  *APIError
		resp *ResponseError
	)
	switch {
	case errors.As(err, &ne):
		return ne.Sent
	case errors.As(err, &api):
		return api.Temporary()
	case errors.As(err, &resp):
		return true
	}
	return false // refused, or stopped before it was sent
}

// sleep pauses for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
