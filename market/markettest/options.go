package markettest

import (
	"fmt"
	"time"
)

// DefaultAPIKey is the Api-Key token a Server accepts unless WithAPIKey names another.
const DefaultAPIKey = "ACMA:sandboxK7m2Qx9Lw4Zr8Tn1Vb6Hc3Jd5Fg0P:9f3a61c4"

// DefaultBusinessID is the business (cabinet) a Server serves unless WithBusinessID names another.
const DefaultBusinessID int64 = 7654321

// Defaults of the limits, as the API documents them.
const (
	defaultWindow   = time.Hour
	defaultParallel = 4
)

// Option configures a Server.
type Option func(*config)

type config struct {
	apiKey        string
	oauthToken    string
	businessID    int64
	now           func() time.Time
	window        time.Duration
	budgets       map[string]int // by operation name
	parallel      int
	unlimited     bool
	newestFirst   bool
	exclusiveFrom bool
	noSeed        bool
	seedShift     int64
	noRequestLog  bool
	replyAfter    time.Duration // the buyers' life; see WithBuyers
	questionEvery time.Duration
}

func newConfig(opts []Option) config {
	c := config{
		apiKey:     DefaultAPIKey,
		businessID: DefaultBusinessID,
		now:        time.Now,
		window:     defaultWindow,
		budgets:    make(map[string]int, len(operations)),
		parallel:   defaultParallel,
	}
	for _, op := range operations {
		c.budgets[op.name] = op.budget
	}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

// WithAPIKey sets the Api-Key token the server accepts.
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithOAuthToken makes the server accept "Authorization: Bearer <token>" besides the Api-Key.
func WithOAuthToken(token string) Option {
	return func(c *config) { c.oauthToken = token }
}

// WithBusinessID sets the business the server serves; other businesses get 403.
func WithBusinessID(id int64) Option {
	return func(c *config) { c.businessID = id }
}

// WithClock sets the clock used for message and chat times and for rate-limit windows, so tests
// can move time by hand; now is called from concurrent requests. Fault delays still take real
// time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithBudget sets how many requests of operation op (an operationId such as "getChats") a window
// allows. It panics on an unknown operation or a negative budget.
func WithBudget(op string, n int) Option {
	mustOperation(op)
	if n < 0 {
		panic(fmt.Sprintf("markettest: negative budget %d for %s", n, op))
	}
	return func(c *config) { c.budgets[op] = n }
}

// WithLimitWindow sets the length of the rate-limit window (one hour by default). It panics
// unless d is positive.
func WithLimitWindow(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("markettest: limit window %v is not positive", d))
	}
	return func(c *config) { c.window = d }
}

// WithParallelLimit sets how many requests may be in flight at once for the business (4 by
// default); 0 turns the check off.
func WithParallelLimit(n int) Option {
	return func(c *config) { c.parallel = n }
}

// WithoutLimits lifts every limit: no budget, no parallel limit and no X-RateLimit-Resource-*
// headers, for throughput benchmarks. Injected faults still apply.
func WithoutLimits() Option {
	return func(c *config) { c.unlimited = true }
}

// WithHistoryNewestFirst makes getChatHistory return messages newest first; the default is
// oldest first.
func WithHistoryNewestFirst() Option {
	return func(c *config) { c.newestFirst = true }
}

// WithExclusiveMessageIDFrom makes getChatHistory's messageIdFrom leave out the message it names;
// by default that message is included.
func WithExclusiveMessageIDFrom() Option {
	return func(c *config) { c.exclusiveFrom = true }
}

// WithoutSeed starts the server with no chats, orders or returns.
func WithoutSeed() Option {
	return func(c *config) { c.noSeed = true }
}

// WithSeedShift adds shift to every id of the seed (orders, returns, chats and messages), so
// that several servers joined as one Market (see Join) seed chats of their own ids.
func WithSeedShift(shift int64) Option {
	return func(c *config) { c.seedShift = shift }
}

// WithoutRequestLog stops the server from keeping every request for Requests, so that a
// long-running server does not grow without bound. Stats still counts them.
func WithoutRequestLog() Option {
	return func(c *config) { c.noRequestLog = true }
}
