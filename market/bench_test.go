package market_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// BenchmarkSaturatingBurst keeps more callers busy than the limits allow, against a server
// that enforces 4 requests in flight and a budget of 40 requests per one-second window, until
// five windows have ended. It reports the share of those windows' budget that was used and the
// number of 420 answers. The goal: at least 95 % used, no 420.
func BenchmarkSaturatingBurst(b *testing.B) {
	const (
		budget  = 40
		windows = 5
		callers = 16
	)
	for b.Loop() {
		s := markettest.New(markettest.WithBudget(markettest.OpGetChat, budget),
			markettest.WithLimitWindow(time.Second), markettest.WithoutRequestLog())
		c, err := market.New(market.Options{BaseURL: s.URL, APIKey: s.APIKey, BusinessID: s.BusinessID,
			Logger: slog.New(slog.DiscardHandler), MaxWait: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		chat := s.Chats()[0].ChatID
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for ctx.Err() == nil {
					if _, err := c.GetChat(ctx, chat); err != nil && !errors.Is(err, context.Canceled) {
						b.Error(err)
						return
					}
				}
			})
		}
		for s.Stats().Usage[markettest.OpGetChat].Windows < windows {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		st := s.Stats()
		u := st.Usage[markettest.OpGetChat]
		b.ReportMetric(100*float64(u.Used)/float64(u.Budget), "%budget-used")
		b.ReportMetric(float64(st.RateLimited()), "420s")
		b.ReportMetric(float64(st.MaxInFlight), "max-in-flight")
		s.Close()
	}
}
