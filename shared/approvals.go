package shared

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// Approvals keeps the questions asked of the user in the store, so that the answer to a
// question one process asked can come to any (tools.Approvals).
type Approvals struct{ s *Store }

// Approvals returns the store's approvals.
func (s *Store) Approvals() *Approvals { return &Approvals{s} }

func (a *Approvals) key(id string) string { return a.s.key("approvals", id) }

// Put keeps a question asked for the call whose arguments hash to args.
func (a *Approvals) Put(ctx context.Context, id, args string, ttl time.Duration) error {
	return a.s.call(ctx, func(ctx context.Context) error {
		_, err := a.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, a.key(id), "args", args)
			p.PExpire(ctx, a.key(id), ttl)
			return nil
		})
		return err
	})
}

var claimScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'args', 'claimed', 'result')
if f[1] == false or f[1] ~= ARGV[1] then return {-1, ''} end
if f[3] then return {1, f[3]} end
if f[2] then return {-2, ''} end
redis.call('HSET', KEYS[1], 'claimed', '1')
return {0, ''}
`)

// Claim takes the answer to question id, once: a replay gets the result of the call that took
// it.
func (a *Approvals) Claim(ctx context.Context, id, args string) ([]byte, error) {
	var v []any
	err := a.s.call(ctx, func(ctx context.Context) error {
		var err error
		v, err = claimScript.Run(ctx, a.s.rdb, []string{a.key(id)}, args).Slice()
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(v) != 2 {
		return nil, errors.New("the approval store gave an unexpected answer")
	}
	switch code, _ := v[0].(int64); code {
	case -1:
		return nil, tools.ErrNoApproval
	case -2:
		return nil, tools.ErrApprovalBusy
	case 1:
		s, _ := v[1].(string)
		return []byte(s), nil
	}
	return nil, nil
}

// Finish keeps the result of the call that claimed question id, for replays.
func (a *Approvals) Finish(ctx context.Context, id string, result []byte, ttl time.Duration) error {
	return a.s.call(ctx, func(ctx context.Context) error {
		_, err := a.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, a.key(id), "result", result)
			p.PExpire(ctx, a.key(id), ttl)
			return nil
		})
		return err
	})
}
