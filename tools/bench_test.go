package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// BenchmarkCallTool measures a tools/call as the server handles it once a transport has read
// it: decoding the message and the arguments, the Partner API request to a sandbox on loopback,
// and encoding the answer.
func BenchmarkCallTool(b *testing.B) {
	sandbox := markettest.New(markettest.WithBudget(markettest.OpGetChats, 1<<30),
		markettest.WithBudget(markettest.OpGetChatHistory, 1<<30), markettest.WithoutRequestLog())
	defer sandbox.Close()
	mc, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	s := server.NewMCPServer("bench", "0", server.WithToolCapabilities(false))
	tools.Register(s, tools.OneCabinet(mc, nil), tools.All)
	ctx := context.Background()
	s.HandleMessage(ctx, []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`))
	for _, c := range []struct{ tool, args string }{
		{"list_chats", `{"statuses":["WAITING_FOR_PARTNER"]}`},
		{"get_history", fmt.Sprintf(`{"chat_id":%d}`, sandbox.Chats()[1].ChatID)},
	} {
		msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args + `}}`)
		b.Run(c.tool, func(b *testing.B) {
			for b.Loop() {
				if _, err := json.Marshal(s.HandleMessage(ctx, msg)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
