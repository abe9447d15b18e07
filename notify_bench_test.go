package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcptransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
	"github.com/yandex-market-mcp/market-chat-mcp/transport"
)

// BenchmarkNotificationToWait measures how soon a notification of a buyer's message reaches a
// waiting wait_for_messages call: from just before the notification is posted to the server's
// receiver until the call's answer is read, over Streamable HTTP on loopback, the message read
// from an in-memory Partner API on loopback. It reports the median and the p99.
func BenchmarkNotificationToWait(b *testing.B) {
	logger := slog.New(slog.DiscardHandler)
	sandbox := markettest.New(markettest.WithoutLimits(), markettest.WithoutRequestLog())
	defer sandbox.Close()
	mc, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID, Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	in := inbox.New(mc, inbox.NewMemoryLog(), inbox.Options{Push: true, Logger: logger})
	defer in.Close()
	const path = "/notify-0123456789abcdef0123456789abcdef"
	receiver := inbox.Receiver(inbox.ReceiverOptions{Name: name, Version: "bench"}, in)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		h := transport.NewHTTP(newServer(tools.OneCabinet(mc, in), tools.All), transport.Options{Logger: logger,
			Routes: []transport.Route{{Path: path, Handler: receiver, MaxBody: inbox.MaxNotification}}})
		served <- h.Serve(ctx, ln, logger)
	}()
	defer func() { stop(); <-served }()
	base := "http://" + ln.Addr().String()
	c, err := client.NewStreamableHttpClient(base+transport.PathStreamable, mcptransport.WithHTTPTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	chat := sandbox.Chats()[1].ChatID
	wait := func(cursor string, seconds int) (tools.Events, error) {
		var out tools.Events
		return out, callTool(ctx, c, "wait_for_messages", map[string]any{"chat_id": chat, "cursor": cursor, "timeout_seconds": seconds}, &out)
	}
	start, err := wait("", 1) // the first cursor
	if err != nil {
		b.Fatal(err)
	}
	cursor := start.Cursor
	hc := &http.Client{}
	var took []time.Duration
	for b.Loop() {
		m, _ := sandbox.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: "Вопрос"})
		got := make(chan tools.Events, 1)
		go func() {
			e, err := wait(cursor, 30)
			if err != nil {
				b.Error(err)
			}
			got <- e
		}()
		time.Sleep(2 * time.Millisecond) // the call is waiting
		body := fmt.Sprintf(`{"notificationType":"CHAT_MESSAGE_SENT","chatId":%d,"messageId":"%d","businessId":%d,"sentAt":"2026-11-25T10:00:00+03:00"}`,
			chat, m.MessageID, sandbox.BusinessID)
		t0 := time.Now()
		resp, err := hc.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		e := <-got
		took = append(took, time.Since(t0))
		if len(e.Events) != 1 || e.Events[0].Message.MessageID != m.MessageID {
			b.Fatalf("the wait gave %+v", e)
		}
		cursor = e.Cursor
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "ms-p50")
	b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)])/float64(time.Millisecond), "ms-p99")
}
