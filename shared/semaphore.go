package shared

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/go-redis/v9"
)

// A semaphore of n slots: holders is a sorted set of lease ids scored by their expiry, queue
// the waiters by their arrival, alive the waiters' own expiry. A waiter takes a slot when it is
// among the first n-|holders| of the queue, so that the waiters of every process are served in
// the order they came; a waiter that stops asking (its process died) leaves the queue when its
// lease expires, and so does a holder that stops renewing.
var (
	acquireScript = redis.NewScript(`
local holders, queue, alive, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, limit, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', alive, '-inf', now)) do
  redis.call('ZREM', queue, dead)
  redis.call('ZREM', alive, dead)
end
if not redis.call('ZSCORE', queue, id) then
  redis.call('ZADD', queue, redis.call('INCR', seq), id)
end
local rank = redis.call('ZRANK', queue, id)
if rank < limit - redis.call('ZCARD', holders) then
  redis.call('ZREM', queue, id)
  redis.call('ZREM', alive, id)
  redis.call('ZADD', holders, now + ttl, id)
  for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, 3600000) end
  return 1
end
redis.call('ZADD', alive, now + ttl, id)
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, 3600000) end
return 0
`)
	renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  return 1
end
return 0
`)
	releaseScript = redis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) > 0 then redis.call('PUBLISH', KEYS[5], 'released') end
return 1
`)
)

// semaphore is one named semaphore of the store.
type semaphore struct {
	s     *Store
	keys  []string // holders, queue, alive, seq, and the channel releases are published on
	limit int
}

func (s *Store) semaphore(scope, name string, limit int) *semaphore {
	k := func(part string) string { return s.key(scope, name+":"+part) }
	return &semaphore{s: s, keys: []string{k("holders"), k("queue"), k("alive"), k("seq"), k("released")}, limit: limit}
}

// acquire waits for a slot and returns the function that frees it. The slot is renewed until
// then. It fails with ErrUnavailable if Redis cannot be reached.
func (m *semaphore) acquire(ctx context.Context) (release func(), err error) {
	id := rand.Text()
	for {
		woken := m.s.wake.watch(m.keys[4])
		var got int64
		err := m.s.call(ctx, func(ctx context.Context) error {
			var err error
			got, err = acquireScript.Run(ctx, m.s.rdb, m.keys[:4], id, m.limit, leaseTTL.Milliseconds()).Int64()
			return err
		})
		if err != nil {
			m.forget(id)
			return nil, err
		}
		if got == 1 {
			return m.hold(id), nil
		}
		if err := waitFor(ctx, woken, retryEvery); err != nil {
			m.forget(id)
			return nil, err
		}
	}
}

// hold renews the lease id until the returned function releases it.
func (m *semaphore) hold(id string) func() {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(renewEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = m.s.call(ctx, func(ctx context.Context) error {
					return renewScript.Run(ctx, m.s.rdb, m.keys[:1], id, leaseTTL.Milliseconds()).Err()
				})
			}
		}
	}()
	return func() {
		stop()
		<-done
		m.forget(id)
	}
}

// forget gives up lease id, held or waited for, in the background; a failure leaves it to
// expire.
func (m *semaphore) forget(id string) {
	m.s.later(releaseScript, m.keys, id)
}
