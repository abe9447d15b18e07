// Package burst drives the Partner API client harder than Market's limits allow, against the
// in-memory Partner API, and measures how much of the limits it uses without crossing them. The
// market package's benchmark and the benchmark command both run it.
package burst

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// The shape of a burst: more callers than the API lets in at once, against a budget small
// enough to be spent several times over in a few seconds.
const (
	Callers = 16          // callers, each calling getChat again as soon as it has an answer
	Budget  = 40          // requests per window
	Window  = time.Second // the length of a budget window
	Windows = 5           // windows that end before the burst stops
)

// Result is what a burst measured.
type Result struct {
	// BudgetUsed is the share of the ended windows' budget that was used, from 0 to 1.
	BudgetUsed float64
	// RateLimited is the number of 420 answers.
	RateLimited int
	// MaxInFlight is the most requests in flight at once.
	MaxInFlight int
	// PerSecond is the calls answered per second.
	PerSecond float64
}

// Processes are the clients of one business that a burst spreads its callers over, as several
// server processes would: Shared makes each one's market.Shared (nil: its own, in-process).
type Processes struct {
	N      int
	Shared func() (market.Shared, error)
}

// One is a burst's one process, alone.
var One = Processes{N: 1}

// Run keeps Callers callers busy calling getChat through the clients of p, against an in-memory
// API with a budget of Budget requests per Window and 4 requests in flight, until Windows windows
// have ended or ctx is done.
func Run(ctx context.Context, p Processes) (Result, error) {
	s := markettest.New(markettest.WithBudget(markettest.OpGetChat, Budget),
		markettest.WithLimitWindow(Window), markettest.WithoutRequestLog())
	defer s.Close()
	clients := make([]*market.Client, p.N)
	for i := range clients {
		o := market.Options{BaseURL: s.URL, APIKey: s.APIKey, BusinessID: s.BusinessID,
			Logger: slog.New(slog.DiscardHandler), MaxWait: 10 * Window}
		if p.Shared != nil {
			var err error
			if o.Shared, err = p.Shared(); err != nil {
				return Result{}, err
			}
		}
		c, err := market.New(o)
		if err != nil {
			return Result{}, err
		}
		clients[i] = c
	}
	chat := s.Chats()[0].ChatID
	run, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	var answered atomic.Int64
	began := time.Now()
	for i := range Callers {
		c := clients[i%len(clients)]
		wg.Go(func() {
			for run.Err() == nil {
				_, err := c.GetChat(run, chat)
				switch {
				case err == nil:
					answered.Add(1)
				case run.Err() != nil:
				case errors.As(err, new(*market.RateLimitError)) && p.N > 1:
					// several processes that do not share limits meet 420s: count them, go on
				default:
					stop(err)
				}
			}
		})
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.Stats().Usage[markettest.OpGetChat].Windows < Windows && run.Err() == nil {
		select {
		case <-run.Done():
		case <-tick.C:
		}
	}
	stop(nil)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := context.Cause(run); !errors.Is(err, context.Canceled) {
		return Result{}, err // a call failed
	}
	st := s.Stats()
	u := st.Usage[markettest.OpGetChat]
	return Result{
		BudgetUsed:  float64(u.Used) / float64(u.Budget),
		RateLimited: st.RateLimited(),
		MaxInFlight: st.MaxInFlight,
		PerSecond:   float64(answered.Load()) / time.Since(began).Seconds(),
	}, nil
}
