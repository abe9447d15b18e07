package shared

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// Cabinet is the market.Shared of one business, kept in the store.
type Cabinet struct {
	s        *Store
	business string
	// fallback counts this process's requests while Redis cannot be reached: one at a time.
	fallback market.Shared
}

// Cabinet returns the shared limits of business.
func (s *Store) Cabinet(business int64) *Cabinet {
	return &Cabinet{s: s, business: itoa(business), fallback: market.NewLocal()}
}

// fallbackParallel is the requests in flight a process allows itself without Redis: with a few
// processes, still within the API's four.
const fallbackParallel = 1

// localLease marks an admission the fallback made.
const localLease = "local"

// Enter waits for one of the business's max slots, across every process of the store.
func (c *Cabinet) Enter(ctx context.Context, max int) (func(), error) {
	if c.s.Up() {
		leave, err := c.s.semaphore(c.business, "inflight", max).acquire(ctx)
		if err == nil || ctx.Err() != nil {
			return leave, err
		}
	}
	return c.fallback.Enter(ctx, fallbackParallel)
}

// The budget window of one operation: the hash holds known, remaining, until, hold (all in
// Redis' milliseconds), blind, limit and the token bucket's tokens and time; pending is the
// sorted set of admitted requests by their lease's expiry, counted as spent until they settle.
var (
	admitScript = redis.NewScript(`
local w, pending, waiting, holders, queue, alive = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local lease, ttl, documented = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local slot, max, slotTTL = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', pending, '-inf', now)
local inflight = redis.call('ZCARD', pending)
local f = redis.call('HMGET', w, 'known', 'remaining', 'until', 'hold', 'blind', 'limit', 'tokens', 'ts')
local known, remaining, untl, hold = f[1] == '1', tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0
local blind, limit = f[5] == '1', tonumber(f[6]) or documented
if known and now >= untl then
  known = false
  redis.call('HSET', w, 'known', '0')
end
local admitted, wait = false, 0
if now < hold then
  wait = hold
elseif known and remaining - inflight > 0 then
  admitted = true
elseif known and remaining > 0 then
  wait = 0
elseif known then
  wait = untl
elseif inflight > 0 and not blind then
  wait = 0
else
  local rate = limit / 3600000
  local tokens, ts = tonumber(f[7]) or limit, tonumber(f[8]) or now
  tokens = math.min(limit, tokens + (now - ts) * rate)
  if tokens >= 1 then
    admitted = true
    tokens = tokens - 1
  else
    wait = now + math.ceil((1 - tokens) / rate)
  end
  redis.call('HSET', w, 'tokens', tostring(tokens), 'ts', now)
end
redis.call('PEXPIRE', w, 7200000)
if admitted then
  redis.call('ZADD', pending, now + ttl, lease)
  redis.call('PEXPIRE', pending, 7200000)
  -- a slot in flight too, when one is free and nobody waits for it (see semaphore.go)
  redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
  for _, dead in ipairs(redis.call('ZRANGEBYSCORE', alive, '-inf', now)) do
    redis.call('ZREM', queue, dead)
    redis.call('ZREM', alive, dead)
  end
  if redis.call('ZCARD', queue) == 0 and redis.call('ZCARD', holders) < max then
    redis.call('ZADD', holders, now + slotTTL, slot)
    redis.call('PEXPIRE', holders, 3600000)
    return {1, 0, limit, now, 1}
  end
  return {1, 0, limit, now, 0}
end
-- refused: note a waiter, so that the next settle wakes it
redis.call('ZADD', waiting, now + 5000, lease)
redis.call('PEXPIRE', waiting, 60000)
return {0, wait, limit, now, 0}
`)
	settleScript = redis.NewScript(`
local w, pending = KEYS[1], KEYS[2]
local lease, status, headers = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local limit, remaining, wid, ends = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local t = redis.call('TIME')
local untl = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ends
redis.call('ZREM', pending, lease)
if status ~= 0 then
  if not headers then
    redis.call('HSET', w, 'blind', status ~= 420 and '1' or '0')
  else
    redis.call('HSET', w, 'blind', '0')
    if limit > 0 then redis.call('HSET', w, 'limit', limit) end
    local f = redis.call('HMGET', w, 'known', 'remaining', 'window', 'hold')
    local known, wr, ww, hold = f[1] == '1', tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0
    if status == 420 then
      if remaining == 0 and untl > hold then redis.call('HSET', w, 'hold', untl) end
    elseif not known or wid > ww then
      redis.call('HSET', w, 'known', '1', 'window', wid, 'until', untl, 'remaining', remaining)
    elseif wid == ww then
      redis.call('HSET', w, 'remaining', math.min(wr, remaining))
    end
  end
  redis.call('PEXPIRE', w, 7200000)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', untl - ends)
if redis.call('ZCARD', KEYS[3]) > 0 then redis.call('PUBLISH', KEYS[4], 'settled') end
return 1
`)
	windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local f = redis.call('HMGET', KEYS[1], 'known', 'remaining', 'until')
local untl = tonumber(f[3]) or 0
if f[1] == '1' and now < untl then
  return {1, tonumber(f[2]) - redis.call('ZCARD', KEYS[2]), untl, now}
end
return {0, 0, 0, now}
`)
)

// pendingTTL is how long an admitted request counts as spent if its process never settles it:
// longer than any exchange.
const pendingTTL = 2 * time.Minute

// budgetKeys are op's window, its pending requests, the processes' waiters for a settle, and
// the channel settles are published on when someone waits.
func (c *Cabinet) budgetKeys(op market.Operation) []string {
	k := func(part string) string { return c.s.key(c.business, "budget:"+op.Name+":"+part) }
	return []string{k("window"), k("pending"), k("waiting"), k("settled")}
}

// Admit decides by the window every process of the store has learnt, and takes a slot in
// flight with the admission when one is free: one call to Redis for a request that waits for
// nothing.
func (c *Cabinet) Admit(ctx context.Context, op market.Operation, max int) (market.Admission, error) {
	if c.s.Up() {
		lease, slot := rand.Text(), rand.Text()
		inflight := c.s.semaphore(c.business, "inflight", max)
		var v []int64
		err := c.s.call(ctx, func(ctx context.Context) error {
			var err error
			keys := append(c.budgetKeys(op)[:3], inflight.keys[:3]...)
			v, err = admitScript.Run(ctx, c.s.rdb, keys, lease, pendingTTL.Milliseconds(), op.HourlyLimit,
				slot, max, leaseTTL.Milliseconds()).Int64Slice()
			return err
		})
		if err == nil && len(v) == 5 {
			a := market.Admission{Admitted: v[0] == 1, Limit: int(v[2])}
			switch {
			case a.Admitted:
				a.Lease = lease
				if v[4] == 1 {
					a.Leave = inflight.hold(slot)
				}
			case v[1] != 0:
				a.Until = redisTime(v[1], v[3])
			}
			return a, nil
		}
		if ctx.Err() != nil {
			return market.Admission{}, ctx.Err()
		}
	}
	a, err := c.fallback.Admit(ctx, op, fallbackParallel)
	if a.Admitted {
		a.Lease = localLease
	}
	return a, err
}

// Settle ends an admission where it was made, and every process learns what the answer told.
// It is made in the background; a decision that comes before it lands counts the request as
// still in flight, which errs on the side of the limits.
func (c *Cabinet) Settle(ctx context.Context, op market.Operation, a market.Admission, told *market.Told) {
	if a.Lease == localLease {
		c.fallback.Settle(ctx, op, a, told)
		return
	}
	args := []any{a.Lease, 0, 0, 0, 0, 0, 0}
	if told != nil && told.Headers {
		args = []any{a.Lease, told.Status, 1, told.Limit, told.Remaining, told.Window, time.Until(told.Until).Milliseconds()}
	} else if told != nil {
		args[1] = told.Status
	}
	// In the background, after the slot's release: the caller has its answer already. A
	// failure leaves the lease to expire.
	c.s.later(settleScript, c.budgetKeys(op), args...)
}

// Changed is closed when a request of op settles in any process of the store while a refused
// admission waits, and at the latest after a while (see Store.listen), in case the word was
// lost.
func (c *Cabinet) Changed(op market.Operation) <-chan struct{} {
	if !c.s.Up() {
		return c.fallback.Changed(op)
	}
	return c.s.wake.watch(c.budgetKeys(op)[3])
}

// Window tells the window every process of the store has learnt.
func (c *Cabinet) Window(ctx context.Context, op market.Operation) market.Budget {
	var v []int64
	err := c.s.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = windowScript.Run(ctx, c.s.rdb, c.budgetKeys(op)[:2]).Int64Slice()
		return err
	})
	if err != nil || len(v) != 4 {
		return c.fallback.Window(ctx, op)
	}
	b := market.Budget{Op: op.Name, Limit: op.HourlyLimit}
	if v[0] == 1 {
		b.Known, b.Remaining, b.Until = true, max(int(v[1]), 0), redisTime(v[2], v[3])
	}
	return b
}

// LockChat waits for the chat's turn to send across every process of the store. Without
// Redis it refuses: two processes could then send to one chat at once.
func (c *Cabinet) LockChat(ctx context.Context, chatID int64) (func(), error) {
	unlock, err := c.s.semaphore(c.business, "chat:"+itoa(chatID), 1).acquire(ctx)
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("nothing was sent: %w, and without it another server could send to this chat at the same time; try again in a minute", ErrUnavailable)
	}
	return unlock, err
}

// redisTime converts a time of Redis' clock, in milliseconds, to this process's clock, given
// Redis' now: the two may differ, the span between them does not.
func redisTime(ms, redisNow int64) time.Time {
	return time.Now().Add(time.Duration(ms-redisNow) * time.Millisecond)
}

// String names the cabinet's keys, for logs.
func (c *Cabinet) String() string { return strings.TrimSuffix(c.s.key(c.business, ""), ":") }
