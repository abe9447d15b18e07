// Package shared keeps in Redis what the processes serving one seller share: per cabinet, the
// requests in flight and each operation's budget window (market.Shared), the turn of each chat's
// sends, the log of what happens in its chats (inbox.Log) and whose turn it is to poll; and the
// approvals that one process asks and another takes (tools.Approvals).
//
// Market counts its limits per cabinet, whatever process sends, so several processes with one
// key (two assistants on a laptop, replicas behind a load balancer) behave for Market as one
// client only when they count together. Every decision is one Lua script, atomic in Redis and
// timed by Redis' clock, so that the processes' clocks do not matter. Slots and turns are leases
// that a process renews while it uses them: those of a process that dies come back within
// seconds.
//
// When Redis cannot be reached, reads go on under a conservative limit of this process (one
// request in flight), sends are refused with ErrUnavailable rather than risk two processes
// sending to one chat at once, and the store goes back to Redis as soon as it answers again.
package shared

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is the cause of what cannot be done without Redis: a send.
var ErrUnavailable = errors.New("the shared store (Redis) cannot be reached")

// Bounds of the store's calls and leases.
const (
	// callTimeout bounds one call to Redis: a slow Redis holds nothing back for longer.
	callTimeout = 500 * time.Millisecond
	// leaseTTL is how long a slot, a chat's turn or a poller's turn outlives its holder.
	leaseTTL = 5 * time.Second
	// renewEvery is how often a held lease is renewed.
	renewEvery = leaseTTL / 3
	// retryEvery is how often a waiter asks again when no release is heard, in case one was
	// missed or a lease expired.
	retryEvery = 500 * time.Millisecond
	// wakeEvery is how often every waiter looks again, whatever it heard.
	wakeEvery = 2 * time.Second
	// healthEvery is how often the store looks whether Redis is back.
	healthEvery = time.Second
)

// Store is the connection to Redis and what the store's users wait on.
type Store struct {
	rdb    *redis.Client
	prefix string
	log    *slog.Logger

	down atomic.Bool // Redis failed; a probe looks for its return

	wake  *notifier
	sub   *redis.PubSub
	stop  context.CancelFunc
	works sync.WaitGroup
	queue chan job // scripts whose answer nobody waits for, in order

	closing sync.RWMutex // held to send to queue; Close takes it to close queue
	closed  bool
}

// job is a script to run in the background.
type job struct {
	script *redis.Script
	keys   []string
	args   []any
}

// queued bounds the calls waiting to be made in the background; beyond it a call is made at
// once, so that a slow Redis slows its callers rather than piling calls up.
const queued = 1024

// Options configure a Store.
type Options struct {
	// Prefix starts every key, so that several deployments can share one Redis; it defaults
	// to "mcm".
	Prefix string
	Logger *slog.Logger
}

// Open connects to the Redis at url (redis://, rediss:// or unix://) and checks that it answers.
// The error of a Redis that cannot be reached is one line, without the URL's password.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL is not a Redis URL such as redis://localhost:6379/0: %v", redactURL(err.Error(), url))
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = time.Second, callTimeout, callTimeout, time.Second
	opt.MaxRetries = 0 // the store decides what a failure means
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_URL %s does not answer: %v", redactURL(opt.Addr, url), redactURL(err.Error(), url))
	}
	s := &Store{rdb: rdb, prefix: cmp.Or(o.Prefix, "mcm"), log: o.Logger, wake: newNotifier(), queue: make(chan job, queued)}
	if s.log == nil {
		s.log = slog.Default()
	}
	wctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.sub = rdb.PSubscribe(wctx, s.prefix+":*")
	s.works.Go(func() { s.listen(wctx) })
	s.works.Go(s.work)
	return s, nil
}

// batch bounds the background scripts sent to Redis in one round trip: those queued while the
// last went.
const batch = 64

// work runs the background scripts, those queued together in one round trip.
func (s *Store) work() {
	for j := range s.queue {
		jobs := []job{j}
	more:
		for len(jobs) < batch {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break more
				}
				jobs = append(jobs, j)
			default:
				break more
			}
		}
		_ = s.call(context.Background(), func(ctx context.Context) error {
			cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, j := range jobs {
					j.script.EvalSha(ctx, p, j.keys, j.args...)
				}
				return nil
			})
			if err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
				return err
			}
			for i, c := range cmds { // a restarted Redis has forgotten the scripts: Run loads them
				if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
					if err := jobs[i].script.Run(ctx, s.rdb, jobs[i].keys, jobs[i].args...).Err(); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
}

// Close makes the calls still queued, stops the store's work and closes the connections.
func (s *Store) Close() error {
	s.closing.Lock()
	s.closed = true
	close(s.queue)
	s.closing.Unlock()
	s.stop()
	s.sub.Close()
	s.works.Wait()
	return s.rdb.Close()
}

// later runs a script whose answer nobody waits for, such as one that frees a slot, after those
// queued before it; a failure leaves what it would free to expire.
func (s *Store) later(script *redis.Script, keys []string, args ...any) {
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		return // what it would free expires
	}
	select {
	case s.queue <- job{script, keys, args}:
	default:
		_ = s.call(context.Background(), func(ctx context.Context) error { return script.Run(ctx, s.rdb, keys, args...).Err() })
	}
}

// listen turns the releases other processes publish into wake-ups of this process's waiters,
// and wakes them all now and then, so that a word lost on the way stalls no one for long.
func (s *Store) listen(ctx context.Context) {
	ch := s.sub.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	t := time.NewTicker(wakeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.wake.wakeAll()
		case m, ok := <-ch:
			if !ok {
				return
			}
			s.wake.wake(m.Channel)
		}
	}
}

// key names a key of the store: prefix:{scope}:name, the scope in braces so that a Redis
// Cluster keeps one cabinet's keys on one node, as scripts need.
func (s *Store) key(scope, name string) string {
	return s.prefix + ":{" + scope + "}:" + name
}

// call runs fn against Redis within callTimeout, and notes whether Redis answered.
func (s *Store) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.down.Load() {
		return ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err := fn(ctx)
	if err != nil && !errors.Is(err, redis.Nil) && !isScriptError(err) {
		if ctx.Err() != nil && context.Cause(ctx) != context.DeadlineExceeded {
			return err // the caller gave up: says nothing of Redis
		}
		s.lost(err)
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// isScriptError tells an error the scripts raise on purpose from a failure to reach Redis.
func isScriptError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !strings.HasPrefix(re.Error(), "LOADING") && !strings.HasPrefix(re.Error(), "BUSY")
}

// lost marks Redis as down and starts the probe that notices its return.
func (s *Store) lost(err error) {
	if s.down.Swap(true) {
		return
	}
	s.log.Warn("Redis cannot be reached: reads go on one at a time, sends are refused until it is back", "error", err)
	s.works.Go(func() {
		t := time.NewTicker(healthEvery)
		defer t.Stop()
		for range t.C {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			err := s.rdb.Ping(ctx).Err()
			cancel()
			if err == nil {
				s.down.Store(false)
				s.log.Info("Redis is back: limits and sends are shared again")
				s.wake.wakeAll()
				return
			}
		}
	})
}

// Up reports whether Redis answered the last call.
func (s *Store) Up() bool { return !s.down.Load() }

// redactURL removes the password of url from text.
func redactURL(text, url string) string {
	if opt, err := redis.ParseURL(url); err == nil && opt.Password != "" {
		text = strings.ReplaceAll(text, opt.Password, "xxxxx")
	}
	return text
}

// notifier hands out channels that are closed when their key is woken.
type notifier struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func newNotifier() *notifier { return &notifier{m: map[string]chan struct{}{}} }

// watch returns the channel closed at the next wake of key.
func (n *notifier) watch(key string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := n.m[key]
	if ch == nil {
		ch = make(chan struct{})
		n.m[key] = ch
	}
	return ch
}

func (n *notifier) wake(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch := n.m[key]; ch != nil {
		close(ch)
		delete(n.m, key)
	}
}

func (n *notifier) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, ch := range n.m {
		close(ch)
		delete(n.m, k)
	}
}

// waitFor waits until ch is closed, d passes or ctx ends.
func waitFor(ctx context.Context, ch <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-ch:
	case <-t.C:
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
