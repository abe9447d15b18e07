package market_test

import (
	"context"
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/burst"
)

// BenchmarkSaturatingBurst keeps more callers busy than the limits allow, against a server
// that enforces 4 requests in flight and a budget of 40 requests per one-second window, until
// five windows have ended (see package burst). It reports the share of those windows' budget
// that was used and the number of 420 answers. The goal: at least 95 % used, no 420.
func BenchmarkSaturatingBurst(b *testing.B) {
	for b.Loop() {
		r, err := burst.Run(context.Background(), burst.One)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(100*r.BudgetUsed, "%budget-used")
		b.ReportMetric(float64(r.RateLimited), "420s")
		b.ReportMetric(float64(r.MaxInFlight), "max-in-flight")
	}
}
