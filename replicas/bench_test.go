//go:build redis

package replicas

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/burst"
	"github.com/yandex-market-mcp/market-chat-mcp/internal/redistest"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/shared"
)

// BenchmarkCallLatency measures one getChat through the client, against the in-memory API on
// loopback with a budget it never spends, with the limits kept in this process and with them kept in a Redis
// on loopback. It reports the median and the p99 of a call; the difference is what Redis adds.
func BenchmarkCallLatency(b *testing.B) {
	r := redistest.Start(b)
	sandbox := markettest.New(markettest.WithBudget(markettest.OpGetChat, 1<<30), markettest.WithoutRequestLog())
	b.Cleanup(sandbox.Close)
	store, err := shared.Open(context.Background(), r.URL, shared.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	chat := sandbox.Chats()[0].ChatID
	for name, limits := range map[string]market.Shared{"in-process": nil, "redis": store.Cabinet(sandbox.BusinessID)} {
		b.Run(name, func(b *testing.B) {
			c, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID,
				Logger: slog.New(slog.DiscardHandler), Shared: limits})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for range 50 { // connections open, windows known
				if _, err := c.GetChat(ctx, chat); err != nil {
					b.Fatal(err)
				}
			}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := c.GetChat(ctx, chat); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "ms-p99")
		})
	}
}

// BenchmarkReplicasBurst keeps more callers busy than the limits allow (see package burst),
// spread over one process, three processes sharing one Redis, and three that share nothing. It
// reports the share of the budget used, the 420 answers, the most requests in flight and the
// calls answered per second.
func BenchmarkReplicasBurst(b *testing.B) {
	r := redistest.Start(b)
	stores := func() (market.Shared, error) {
		s, err := shared.Open(context.Background(), r.URL, shared.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, err
		}
		b.Cleanup(func() { s.Close() })
		return s.Cabinet(markettest.DefaultBusinessID), nil
	}
	for _, tc := range []struct {
		name string
		p    burst.Processes
	}{
		{"one process", burst.One},
		{"three with Redis", burst.Processes{N: 3, Shared: stores}},
		{"three without Redis", burst.Processes{N: 3}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				res, err := burst.Run(context.Background(), tc.p)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(100*res.BudgetUsed, "%budget-used")
				b.ReportMetric(float64(res.RateLimited), "420s")
				b.ReportMetric(float64(res.MaxInFlight), "max-in-flight")
				b.ReportMetric(res.PerSecond, "calls/s")
			}
		})
	}
}
