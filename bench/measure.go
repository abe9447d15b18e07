package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/burst"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// coldStart starts each server over stdio, in turn, warmup+rounds times, and times from just
// before the process is started to the answer to initialize, and to the answer to tools/list sent
// right after it. The first warmup rounds are not counted.
func coldStart(servers []*server, warmup, rounds int) (initialize, list map[*server]sample, err error) {
	initialize, list = map[*server]sample{}, map[*server]sample{}
	for round := range warmup + rounds {
		for i := range servers {
			s := servers[(round+i)%len(servers)] // each goes first in turn
			start := time.Now()
			c, err := s.startStdio()
			if err != nil {
				return nil, nil, err
			}
			_, err = c.call("initialize", initializeParams)
			answered := time.Since(start)
			if err == nil {
				err = c.notify("notifications/initialized")
			}
			if err == nil {
				_, err = c.call("tools/list", "")
			}
			listed := time.Since(start)
			c.kill()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", s.name, err)
			}
			if round >= warmup {
				initialize[s] = append(initialize[s], ms(answered))
				list[s] = append(list[s], ms(listed))
			}
		}
	}
	return initialize, list, nil
}

// route is one way of making a request, timed as a whole.
type route struct {
	name string
	call func(context.Context) error
}

// latency makes each route's request warmup+rounds times, the routes in turn within each round so
// that a slow moment of the machine falls on all of them alike, and returns the times in ms.
func latency(ctx context.Context, routes []route, warmup, rounds int) (map[string]sample, error) {
	times := map[string]sample{}
	for round := range warmup + rounds {
		for i := range routes {
			r := routes[(round+i)%len(routes)]
			start := time.Now()
			if err := r.call(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			if round >= warmup {
				times[r.name] = append(times[r.name], ms(time.Since(start)))
			}
		}
	}
	return times, nil
}

// direct sends the request that list_chats makes straight to the sandbox.
func direct(client *http.Client, sandbox *markettest.Server, body string) func(context.Context) error {
	url := sandbox.URL + "/v2/businesses/" + strconv.FormatInt(sandbox.BusinessID, 10) + "/chats"
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Api-Key", sandbox.APIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		drain(resp)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	}
}

// load is what throughput measured at one number of clients.
type load struct {
	rate    sample // calls per second, one per run
	latency sample // ms, one per call made during the runs
}

// throughput has clients sessions call a tool over Streamable HTTP, each as soon as it has its
// last answer: for warmup, then for runs periods of runLen, each counted apart.
func throughput(ctx context.Context, client *http.Client, url, params string, clients, runs int, warmup, runLen time.Duration) (load, error) {
	open := make([]*httpSession, clients)
	for i := range open {
		s, err := openSession(ctx, client, url)
		if err != nil {
			return load{}, err
		}
		open[i] = s
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		calls     atomic.Int64
		measuring atomic.Bool
		wg        sync.WaitGroup
		mu        sync.Mutex
		out       load
	)
	for _, s := range open {
		wg.Go(func() {
			var times sample
			for ctx.Err() == nil {
				start := time.Now()
				if _, err := s.call(ctx, "tools/call", params); err != nil {
					if ctx.Err() == nil {
						stop(err)
					}
					break
				}
				calls.Add(1)
				if measuring.Load() {
					times = append(times, ms(time.Since(start)))
				}
			}
			mu.Lock()
			out.latency = append(out.latency, times...)
			mu.Unlock()
		})
	}
	pause(ctx, warmup)
	measuring.Store(true)
	for range runs {
		before, start := calls.Load(), time.Now()
		pause(ctx, runLen)
		out.rate = append(out.rate, float64(calls.Load()-before)/time.Since(start).Seconds())
	}
	stop(nil)
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return load{}, err
	}
	return out, nil
}

// pause waits for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// idleMemory starts each server over stdio rounds times, initializes it, leaves it alone for
// settle and reads its memory in MiB: all resident, and anonymous.
func idleMemory(servers []*server, rounds int, settle time.Duration) (resident, anonymous map[*server]sample, err error) {
	resident, anonymous = map[*server]sample{}, map[*server]sample{}
	for range rounds {
		for _, s := range servers {
			c, err := s.startStdio()
			if err != nil {
				return nil, nil, err
			}
			err = c.initialize()
			time.Sleep(settle)
			var all, anon float64
			if err == nil {
				all, anon, err = memory(c.cmd.Process.Pid)
			}
			c.kill()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", s.name, err)
			}
			resident[s], anonymous[s] = append(resident[s], all), append(anonymous[s], anon)
		}
	}
	return resident, anonymous, nil
}

// sessionMemory starts a server over HTTP rounds times and reads its resident memory in MiB,
// settled, with one session open and then with n, each initialized and holding its GET stream.
func sessionMemory(ctx context.Context, s *server, client *http.Client, n, rounds int, settle time.Duration) (one, many sample, err error) {
	for range rounds {
		a, b, err := sessionMemoryOnce(ctx, s, client, n, settle)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.name, err)
		}
		one, many = append(one, a), append(many, b)
	}
	return one, many, nil
}

func sessionMemoryOnce(ctx context.Context, s *server, client *http.Client, n int, settle time.Duration) (one, many float64, err error) {
	h, err := s.startHTTP(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer h.Stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // closes the GET streams
	for i := range n {
		sess, err := openSession(ctx, client, h.URL)
		if err != nil {
			return 0, 0, err
		}
		if err := sess.listen(ctx); err != nil {
			return 0, 0, err
		}
		if i == 0 {
			time.Sleep(settle)
			if one, _, err = memory(h.Cmd.Process.Pid); err != nil {
				return 0, 0, err
			}
		}
	}
	time.Sleep(settle)
	many, _, err = memory(h.Cmd.Process.Pid)
	return one, many, err
}

// limits runs the saturating burst of package burst rounds times.
func limits(ctx context.Context, rounds int, logger *slog.Logger) (used sample, rateLimited int, err error) {
	for i := range rounds {
		r, err := burst.Run(ctx, burst.One)
		if err != nil {
			return nil, 0, err
		}
		logger.Info("burst", "round", i+1, "budget_used", r.BudgetUsed, "420s", r.RateLimited, "max_in_flight", r.MaxInFlight)
		used = append(used, 100*r.BudgetUsed)
		rateLimited += r.RateLimited
	}
	return used, rateLimited, nil
}

// inittrace is one line of GODEBUG=inittrace=1: "init PACKAGE @T ms, D ms clock, ...".
var inittrace = regexp.MustCompile(`(?m)^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

// initTime starts each server rounds times with GODEBUG=inittrace=1 and nothing on stdin, and
// returns the time its package initialization took before main, in ms: in all, and in pkg.
func initTime(servers []*server, pkg string, rounds int) (all, one map[*server]sample, err error) {
	all, one = map[*server]sample{}, map[*server]sample{}
	for range rounds {
		for _, s := range servers {
			cmd := s.command()
			cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return nil, nil, fmt.Errorf("%s with GODEBUG=inittrace=1: %w\n%s", s.name, err, stderr.String())
			}
			var total, own float64
			for _, m := range inittrace.FindAllStringSubmatch(stderr.String(), -1) {
				d, _ := strconv.ParseFloat(m[2], 64)
				total += d
				if m[1] == pkg {
					own += d
				}
			}
			all[s], one[s] = append(all[s], total), append(one[s], own)
		}
	}
	return all, one, nil
}
