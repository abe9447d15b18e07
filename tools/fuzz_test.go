package tools_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// FuzzToolArguments sends arbitrary argument bytes to every tool: no input may panic or hang,
// and whatever a tool accepts must produce a result that matches its outputSchema.
func FuzzToolArguments(f *testing.F) {
	for i, args := range []string{
		`{}`, `{"statuses":["WAITING_FOR_PARTNER"],"limit":20}`, `{"chat_id":4821003}`,
		`{"chat_id":4821003,"message_id_from":1,"limit":100}`, `{"chat_id":1,"message_id":2}`,
		`{"order_id":53814400291}`, `{"chat_id":4821003,"message":"Здравствуйте"}`,
		`{"chat_id":4821003,"content_base64":"aGk=","file_name":"a.txt"}`, `null`, `[]`, `{"chat_id":1e300}`,
	} {
		f.Add(uint8(i), []byte(args))
	}
	sandbox := markettest.New(markettest.WithoutLimits(), markettest.WithoutRequestLog())
	defer sandbox.Close()
	mc, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID})
	if err != nil {
		f.Fatal(err)
	}
	env := tools.OneCabinet(mc, nil)
	f.Fuzz(func(t *testing.T, tool uint8, args []byte) {
		d := tools.All[int(tool)%len(tools.All)]
		def := d.Definition()
		var req mcp.CallToolRequest
		req.Params.Name = def.Name
		req.Params.RawArguments = args
		res, err := d.Handler(env)(context.Background(), req)
		if err != nil || res == nil {
			t.Fatalf("%s(%s): result %v, error %v", def.Name, args, res, err)
		}
		if res.IsError {
			return
		}
		structured, _ := json.Marshal(res.StructuredContent)
		var v any
		if err := json.Unmarshal(structured, &v); err != nil {
			t.Fatal(err)
		}
		if err := outputSchema(t, def.Name).Check(v); err != nil {
			t.Fatalf("%s(%s): output breaks the outputSchema: %v", def.Name, args, err)
		}
	})
}
