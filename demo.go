package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/client"
	mcptransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
	"github.com/yandex-market-mcp/market-chat-mcp/transport"
)

// demo starts the sandbox Market and the server over Streamable HTTP in this process, connects an
// MCP client to it, and walks through a seller's morning: every tool once.
func demo(ctx context.Context, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sandbox := markettest.New(markettest.WithBuyers(demoReplyAfter, 0))
	defer sandbox.Close()
	mc, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID, Logger: logger})
	if err != nil {
		return err
	}
	// The demo polls with the whole of getChats' budget, so that the buyer's answer shows up
	// within a second or two, not the seven of the default share.
	in := inbox.New(mc, inbox.NewMemoryLog(), inbox.Options{PollShare: 1, Logger: logger})
	defer in.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- transport.NewHTTP(newServer(tools.OneCabinet(mc, in), tools.All), transport.Options{Logger: logger}).Serve(ctx, ln, logger)
	}()
	defer func() { cancel(); <-served }()

	url := "http://" + ln.Addr().String() + transport.PathStreamable
	tr, err := mcptransport.NewStreamableHTTP(url)
	if err != nil {
		return err
	}
	p := &printer{w: stdout}
	// The demo's user answers the server's questions before each send: yes, with a signature
	// added to the message.
	c := client.NewClient(tr, client.WithElicitationHandler(demoUser{p}))
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return err
	}
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ClientInfo: mcp.Implementation{Name: name + "-demo", Version: versionString()},
	}})
	if err != nil {
		return err
	}
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return err
	}
	p.line("%s %s, against the built-in sandbox Market (business %d; no account needed).", name, versionString(), sandbox.BusinessID)
	p.line("An MCP client connected over Streamable HTTP at %s (protocol %s).", url, init.ProtocolVersion)
	names := make([]string, 0, len(list.Tools))
	for _, t := range list.Tools {
		names = append(names, t.Name)
	}
	p.line("The server offers %d tools: %s.", len(names), strings.Join(names, ", "))

	call := func(tool string, args map[string]any, out any) error {
		p.line("\n→ %s %s", tool, compact(args))
		return callTool(ctx, c, tool, args, out)
	}

	var cabinets tools.CabinetList
	if err := call("list_cabinets", map[string]any{}, &cabinets); err != nil {
		return err
	}
	for _, cab := range cabinets.Cabinets {
		for _, b := range cab.Budgets {
			if b.Operation == market.OpGetChats.Name {
				p.line("  cabinet %d, %s: %d of its %d getChats requests an hour left.", cab.BusinessID, cab.Mode, b.Remaining, b.Limit)
			}
		}
	}

	var waiting tools.ChatList
	if err := call("list_chats", map[string]any{"statuses": []string{"WAITING_FOR_PARTNER"}}, &waiting); err != nil {
		return err
	}
	p.line("  %d chats wait for the seller's answer:", len(waiting.Chats))
	for _, ch := range waiting.Chats {
		p.line("  • chat %d · %s · %s · last message %s", ch.ChatID, describe(ch.Context), ch.Context.CustomerName, ch.UpdatedAt)
	}
	if len(waiting.Chats) == 0 {
		return errors.New("the sandbox has no chat waiting for the seller")
	}
	chatID := waiting.Chats[0].ChatID

	var chat tools.Chat
	if err := call("get_chat", map[string]any{"chat_id": chatID}, &chat); err != nil {
		return err
	}
	p.line("  chat %d is a %s chat about %s, status %s, opened %s.", chat.ChatID, chat.Type, describe(chat.Context), chat.Status, chat.CreatedAt)

	var history tools.History
	if err := call("get_history", map[string]any{"chat_id": chatID, "limit": 20}, &history); err != nil {
		return err
	}
	p.line("  the chat's messages (%d):", len(history.Messages))
	for _, m := range history.Messages {
		p.line("  %s %-8s %s%s", m.CreatedAt, m.Sender, clip(m.Text, 90), attachments(m.Attachments))
	}
	last := history.Messages[len(history.Messages)-1]

	var msg tools.ChatMessage
	if err := call("get_message", map[string]any{"chat_id": chatID, "message_id": last.MessageID}, &msg); err != nil {
		return err
	}
	p.line("  message %d from %s: %s", msg.Message.MessageID, msg.Message.Sender, clip(msg.Message.Text, 90))

	for _, m := range history.Messages {
		if len(m.Attachments) == 0 {
			continue
		}
		var file tools.AttachmentFile
		if err := call("get_attachment", map[string]any{"chat_id": chatID, "message_id": m.MessageID, "index": 0}, &file); err != nil {
			return err
		}
		p.line("  %s (%s, %d bytes), shown to the model as a %d×%d image.", file.Name, file.ContentType, file.Size, file.SentWidth, file.SentHeight)
		break
	}

	var listening tools.Events
	if err := call("wait_for_messages", map[string]any{"chat_id": chatID, "timeout_seconds": 1}, &listening); err != nil {
		return err
	}
	p.line("  listening from cursor %s (%d events so far).", listening.Cursor, len(listening.Events))

	answer := "Здравствуйте! Спасибо, что написали. Уже разбираемся и ответим сегодня в течение часа."
	var sent tools.Sent
	if err := call("send_message", map[string]any{"chat_id": chatID, "message": answer}, &sent); err != nil {
		return err
	}
	p.line("  sent at %s, approved by the user (%s), as: %s", sent.SentAt, sent.Approval, clip(cmp.Or(sent.Text, answer), 90))

	var reply tools.Events
	if err := call("wait_for_messages", map[string]any{"chat_id": chatID, "cursor": listening.Cursor, "timeout_seconds": 30}, &reply); err != nil {
		return err
	}
	for _, e := range reply.Events {
		if e.Message != nil {
			p.line("  the buyer answered at %s: %s", e.Message.CreatedAt, clip(e.Message.Text, 90))
		}
	}

	note := "Инструкция по возврату: упакуйте товар и отнесите его в любой пункт выдачи Маркета.\n"
	var file tools.SentFile
	if err := call("send_file", map[string]any{"chat_id": chatID, "file_name": "instrukciya.txt",
		"content_base64": base64.StdEncoding.EncodeToString([]byte(note))}, &file); err != nil {
		return err
	}
	p.line("  %s (%s, %d bytes) sent at %s.", file.FileName, file.ContentType, file.Size, file.SentAt)

	if err := callTool(ctx, c, "get_chat", map[string]any{"chat_id": chatID}, &chat); err != nil {
		return err
	}
	p.line("  chat %d is now %s.", chatID, chat.Status)

	order, ok := orderWithoutChat(sandbox)
	if !ok {
		return errors.New("the sandbox has no order without a chat")
	}
	var created tools.CreatedChat
	if err := call("create_chat", map[string]any{"order_id": order}, &created); err != nil {
		return err
	}
	p.line("  opened chat %d about order %d.", created.ChatID, created.Context.OrderID)

	p.line("\n→ send_message with an empty message (bad input is refused before anything reaches Market)")
	err = callTool(ctx, c, "send_message", map[string]any{"chat_id": chatID, "message": ""}, nil)
	p.line("  %v", err)
	p.line("\nEvery tool worked. Next: connect your MCP client with --sandbox, then with YANDEX_MARKET_API_KEY and YANDEX_MARKET_BUSINESS_ID (see README.md).")
	return p.err
}

// demoUser is the demo's user: it shows the server's question and approves, signing messages.
type demoUser struct{ p *printer }

// demoSignature is what the demo's user adds to a message before approving it.
const demoSignature = " — Магазин «Дом и техника»"

func (u demoUser) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	u.p.line("  the server asks the user first:")
	for line := range strings.SplitSeq(req.Params.Message, "\n") {
		u.p.line("  │ %s", clip(line, 100))
	}
	res := &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}
	if schema, ok := req.Params.RequestedSchema.(map[string]any); ok {
		if props, _ := schema["properties"].(map[string]any); props["message"] != nil {
			text, _ := props["message"].(map[string]any)["default"].(string)
			res.Content = map[string]any{"message": text + demoSignature}
			u.p.line("  the user signs the message and approves it.")
			return res, nil
		}
	}
	u.p.line("  the user approves.")
	return res, nil
}

// demoReplyAfter is how soon the demo's buyer answers.
const demoReplyAfter = 2 * time.Second

// toolError is a tool result with isError set: the tool's words for the model.
type toolError string

func (e toolError) Error() string { return string(e) }

// callTool calls a tool and decodes its structured result into out.
func callTool(ctx context.Context, c *client.Client, tool string, args map[string]any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		return fmt.Errorf("%s: %w", tool, err)
	}
	if res.IsError {
		var text []string
		for _, c := range res.Content {
			if tc, ok := c.(mcp.TextContent); ok {
				text = append(text, tc.Text)
			}
		}
		return toolError(strings.Join(text, " "))
	}
	if out == nil {
		return nil
	}
	raw := res.RawStructuredContent
	if len(raw) == 0 {
		if raw, err = json.Marshal(res.StructuredContent); err != nil {
			return err
		}
	}
	return json.Unmarshal(raw, out)
}

// printer writes lines and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// orderWithoutChat finds an order of the sandbox that has no chat yet.
func orderWithoutChat(sandbox *markettest.Server) (int64, bool) {
	with := map[int64]bool{}
	for _, c := range sandbox.Chats() {
		if c.Context.Type == markettest.ContextOrder {
			with[c.Context.OrderID] = true
		}
	}
	for _, o := range sandbox.Orders() {
		if !with[o.ID] {
			return o.ID, true
		}
	}
	return 0, false
}

func describe(c tools.Context) string {
	switch {
	case c.ReturnID != 0:
		return fmt.Sprintf("return %d (order %d)", c.ReturnID, c.OrderID)
	case c.OrderID != 0:
		return fmt.Sprintf("order %d", c.OrderID)
	}
	return "a direct question"
}

func attachments(as []tools.Attachment) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, " [%s, %d bytes]", a.Name, a.Size)
	}
	return b.String()
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return clip(string(b), 120)
}
