package market_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

func ids(ms []market.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.MessageID
	}
	return out
}

// TestBeforeAndAfter walks the 127-message chat back from its newest message and forward from
// its oldest, whichever order the API pages in and whether messageIdFrom includes its message.
func TestBeforeAndAfter(t *testing.T) {
	for _, newestFirst := range []bool{false, true} {
		for _, exclusive := range []bool{false, true} {
			t.Run(fmt.Sprintf("newest first %v, exclusive %v", newestFirst, exclusive), func(t *testing.T) {
				var opts []markettest.Option
				if newestFirst {
					opts = append(opts, markettest.WithHistoryNewestFirst())
				}
				if exclusive {
					opts = append(opts, markettest.WithExclusiveMessageIDFrom())
				}
				s := newServer(t, opts...)
				c := newClient(t, s)
				chat := longChat(t, s).ChatID
				var all []int64
				for _, m := range s.Messages(chat) {
					all = append(all, m.MessageID)
				}

				var back []int64
				before := int64(0)
				for pages := 0; ; pages++ {
					requests := len(s.Requests())
					w, err := c.Before(t.Context(), chat, before, 20)
					if err != nil {
						t.Fatal(err)
					}
					if newestFirst && pages == 0 && len(s.Requests())-requests != 1 {
						t.Errorf("the newest 20 of newest-first pages took %d requests", len(s.Requests())-requests)
					}
					if w.Context.OrderID == 0 || !slices.IsSorted(ids(w.Messages)) {
						t.Fatalf("window %+v", w)
					}
					back = append(ids(w.Messages), back...)
					if !w.More {
						break
					}
					before = w.Messages[0].MessageID
				}
				if !slices.Equal(back, all) {
					t.Errorf("walking back gave %d messages, want the chat's %d in order", len(back), len(all))
				}

				var forward []int64
				after := all[0]
				for {
					w, err := c.After(t.Context(), chat, after, 30)
					if err != nil {
						t.Fatal(err)
					}
					forward = append(forward, ids(w.Messages)...)
					if !w.More {
						break
					}
					after = w.Messages[len(w.Messages)-1].MessageID
				}
				if !slices.Equal(forward, all[1:]) {
					t.Errorf("walking forward gave %d messages, want the %d after the first in order", len(forward), len(all)-1)
				}
			})
		}
	}
}
