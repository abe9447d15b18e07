package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/schema"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

// binary is the server, built once for the tests that run it as a user would.
var binary string

func TestMain(m *testing.M) {
	os.Exit(serverproc.RunWithServer(m, ".", &binary))
}

// marketEnv points the server at a sandbox as a seller would point it at Market.
func marketEnv(s *markettest.Server, extra ...string) []string {
	return append([]string{
		"YANDEX_MARKET_BASE_URL=" + s.URL,
		"YANDEX_MARKET_API_KEY=" + s.APIKey,
		fmt.Sprintf("YANDEX_MARKET_BUSINESS_ID=%d", s.BusinessID),
		"YANDEX_MARKET_OAUTH_TOKEN=",
		"MCP_TRANSPORT=", "MCP_ADDR=", "MCP_AUTH_TOKEN=", "MCP_READ_ONLY=", "MCP_FILE_ROOTS=", "MCP_LOG_LEVEL=debug",
		"YANDEX_MARKET_NOTIFY_PATH=", "YANDEX_MARKET_POLL_SHARE=", "YANDEX_MARKET_CABINETS_FILE=", "MCP_TOOLS=", "MCP_CONFIRM_SENDS=",
	}, extra...)
}

// startHTTP runs the server with --transport http on a free port until the test ends.
func startHTTP(t *testing.T, env []string, args ...string) *serverproc.HTTP {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--transport", "http", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = serverproc.Env(env...)
	return serverproc.StartHTTPForTest(t, cmd)
}

func connect(t *testing.T, c *client.Client) *client.Client {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "0"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if res.ServerInfo.Name != name || res.Instructions == "" {
		t.Errorf("initialize = %+v", res)
	}
	return c
}

// bearer is the MCP_AUTH_TOKEN of the HTTP servers under test.
const bearer = "e2e-bearer-7f9c2b1d"

// transports open a client of the server over each transport, the server's stderr beside it.
var transports = map[string]func(t *testing.T, env []string, args ...string) (*client.Client, *serverproc.Output){
	"stdio": func(t *testing.T, env []string, args ...string) (*client.Client, *serverproc.Output) {
		stderr := &serverproc.Output{}
		c, err := client.NewStdioMCPClientWithOptions(binary, env, args, transport.WithCommandStderrWriter(stderr))
		if err != nil {
			t.Fatal(err)
		}
		return c, stderr
	},
	"streamable": func(t *testing.T, env []string, args ...string) (*client.Client, *serverproc.Output) {
		h := startHTTP(t, append(env, "MCP_AUTH_TOKEN="+bearer), args...)
		c, err := client.NewStreamableHttpClient(h.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer}))
		if err != nil {
			t.Fatal(err)
		}
		return c, h.Stderr
	},
	"sse": func(t *testing.T, env []string, args ...string) (*client.Client, *serverproc.Output) {
		h := startHTTP(t, append(env, "MCP_AUTH_TOKEN="+bearer), args...)
		c, err := client.NewSSEMCPClient(h.Base+"/sse", transport.WithHeaders(map[string]string{"Authorization": "Bearer " + bearer}))
		if err != nil {
			t.Fatal(err)
		}
		return c, h.Stderr
	},
}

// TestEveryToolOverEveryTransport runs a seller's session over each transport, failures
// included, and then looks for the API key and the bearer token in everything the server said.
func TestEveryToolOverEveryTransport(t *testing.T) {
	for name, open := range transports {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sandbox := markettest.New()
			t.Cleanup(sandbox.Close)
			roots := t.TempDir()
			if err := os.WriteFile(filepath.Join(roots, "инструкция.pdf"), []byte("%PDF-1.4 инструкция"), 0o600); err != nil {
				t.Fatal(err)
			}
			c, stderr := open(t, marketEnv(sandbox, "MCP_FILE_ROOTS="+roots))
			connect(t, c)
			said := exerciseEveryTool(t, c, sandbox)
			said += failEveryWay(t, c, sandbox)
			if strings.Count(stderr.String(), "market request") < 10 {
				t.Errorf("the debug log lacks the requests:\n%s", stderr)
			}
			for _, secret := range []string{sandbox.APIKey, bearer} {
				if strings.Contains(said, secret) || strings.Contains(stderr.String(), secret) {
					t.Errorf("a secret appears in the session's output or log")
				}
			}
		})
	}
}

// failEveryWay makes Market fail in each way and returns what the tools said.
func failEveryWay(t *testing.T, c *client.Client, sandbox *markettest.Server) string {
	chat := sandbox.Chats()[0].ChatID
	var said strings.Builder
	for _, f := range []struct {
		op    string
		fault markettest.Fault
	}{
		{markettest.OpGetChat, markettest.Fault{Status: 500}},
		{markettest.OpGetChat, markettest.Fault{Status: 401}},
		{markettest.OpGetChat, markettest.Fault{Body: "<html>proxy error</html>"}},
		{markettest.OpGetChat, markettest.Fault{Status: 420, Until: time.Now().Add(time.Hour)}}, // last: it spends the budget
	} {
		// Reads are retried, so a fault must outlast every attempt to reach the tool.
		sandbox.Inject(f.op, slices.Repeat([]markettest.Fault{f.fault}, market.DefaultMaxAttempts)...)
		res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "get_chat", Arguments: map[string]any{"chat_id": chat}}})
		if err != nil {
			t.Fatalf("get_chat with %+v: %v", f.fault, err)
		}
		if !res.IsError {
			t.Errorf("get_chat with %+v succeeded", f.fault)
		}
		for _, content := range res.Content {
			said.WriteString(content.(mcp.TextContent).Text)
		}
	}
	return said.String()
}

// exerciseEveryTool walks through a seller's work with every tool, checks the sandbox, and
// returns everything the tools said.
func exerciseEveryTool(t *testing.T, c *client.Client, sandbox *markettest.Server) string {
	ctx := context.Background()
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]*schema.Schema{}
	for _, tl := range list.Tools {
		raw, _ := json.Marshal(tl.OutputSchema)
		if len(tl.RawOutputSchema) > 0 {
			raw = tl.RawOutputSchema
		}
		if outputs[tl.Name], err = schema.Parse(raw); err != nil {
			t.Fatalf("%s: outputSchema: %v", tl.Name, err)
		}
	}
	if len(outputs) != len(tools.All) {
		t.Fatalf("%d tools listed", len(outputs))
	}
	var said strings.Builder
	call := func(tool string, args map[string]any, out any) {
		t.Helper()
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		said.Write(res.RawStructuredContent)
		for _, content := range res.Content {
			said.WriteString(content.(mcp.TextContent).Text)
		}
		if res.IsError {
			t.Fatalf("%s: %v", tool, res.Content)
		}
		var structured any
		if err := json.Unmarshal(res.RawStructuredContent, &structured); err != nil {
			t.Fatalf("%s: structuredContent: %v", tool, err)
		}
		if err := outputs[tool].Check(structured); err != nil {
			t.Errorf("%s: structuredContent breaks the outputSchema: %v", tool, err)
		}
		if err := json.Unmarshal(res.RawStructuredContent, out); err != nil {
			t.Fatal(err)
		}
	}

	var waiting tools.ChatList
	call("list_chats", map[string]any{"statuses": []string{"WAITING_FOR_PARTNER"}}, &waiting)
	if len(waiting.Chats) == 0 {
		t.Fatal("no chat waits for the seller")
	}
	chatID := waiting.Chats[0].ChatID
	var chat tools.Chat
	call("get_chat", map[string]any{"chat_id": chatID}, &chat)
	var history tools.History
	call("get_history", map[string]any{"chat_id": chatID}, &history)
	if n := len(sandbox.Messages(chatID)); len(history.Messages) != n || chat.ChatID != chatID {
		t.Errorf("history has %d messages, sandbox %d", len(history.Messages), n)
	}
	last := history.Messages[len(history.Messages)-1]
	var msg tools.ChatMessage
	call("get_message", map[string]any{"chat_id": chatID, "message_id": last.MessageID}, &msg)
	if msg.Message.Text != last.Text {
		t.Errorf("get_message = %+v, want %+v", msg.Message, last)
	}
	answer := "Здравствуйте! Обменяем товар, курьер заберёт его завтра."
	var sent tools.Sent
	call("send_message", map[string]any{"chat_id": chatID, "message": answer}, &sent)
	var file tools.SentFile
	call("send_file", map[string]any{"chat_id": chatID, "path": "инструкция.pdf"}, &file)
	call("send_file", map[string]any{"chat_id": chatID, "file_name": "note.txt", "content_base64": base64.StdEncoding.EncodeToString([]byte("спасибо"))}, &file)
	msgs := sandbox.Messages(chatID)
	if n := len(msgs); n < 3 || msgs[n-3].Message != answer || msgs[n-2].Payload[0].Name != "инструкция.pdf" || msgs[n-1].Payload[0].Name != "note.txt" {
		t.Errorf("sandbox holds %+v", msgs[max(0, len(msgs)-3):])
	}
	order := int64(0)
	for _, o := range sandbox.Orders() {
		if _, err := findChat(sandbox, o.ID); err != nil {
			order = o.ID
			break
		}
	}
	var created tools.CreatedChat
	call("create_chat", map[string]any{"order_id": order}, &created)
	if id, err := findChat(sandbox, order); err != nil || id != created.ChatID {
		t.Errorf("create_chat = %+v; sandbox chat %d, %v", created, id, err)
	}

	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "get_chat", Arguments: map[string]any{"chat_id": 404404}}})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "chat 404404 not found (404") {
		t.Errorf("get_chat of a missing chat = %+v, %v", res, err)
	}
	return said.String()
}

func TestReadOnlyOverEveryTransport(t *testing.T) {
	for name, open := range transports {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sandbox := markettest.New()
			t.Cleanup(sandbox.Close)
			// A client's launch arguments cannot lift the operator's setting.
			c, _ := open(t, marketEnv(sandbox, "MCP_READ_ONLY=true"), "--read-only=false")
			connect(t, c)
			list, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Tools) != 7 {
				t.Errorf("%d tools in read-only mode", len(list.Tools))
			}
			for _, tl := range list.Tools {
				if !*tl.Annotations.ReadOnlyHint {
					t.Errorf("%s is listed in read-only mode", tl.Name)
				}
			}
			res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_message",
				Arguments: map[string]any{"chat_id": sandbox.Chats()[0].ChatID, "message": "hi"}}})
			if err == nil && !res.IsError {
				t.Error("send_message worked in read-only mode")
			}
			if reqs := sandbox.Stats().Requests[markettest.OpSendMessageToChat]; reqs != 0 {
				t.Errorf("%d sends reached Market", reqs)
			}
		})
	}
}

func TestHTTPNeedsTheToken(t *testing.T) {
	sandbox := markettest.New()
	defer sandbox.Close()
	base := startHTTP(t, append(marketEnv(sandbox), "MCP_AUTH_TOKEN="+bearer)).Base
	for _, path := range []string{"/mcp", "/sse", "/message?sessionId=x"} {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		if path == "/sse" {
			req.Method = http.MethodGet
		}
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s with a wrong token: %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if body, err := httpGet(base + "/healthz"); err != nil || body != `{"status":"ok"}` {
		t.Errorf("healthz = %q, %v", body, err)
	}
}

func findChat(s *markettest.Server, order int64) (int64, error) {
	for _, c := range s.Chats() {
		if c.Context.Type == markettest.ContextOrder && c.Context.OrderID == order {
			return c.ChatID, nil
		}
	}
	return 0, fmt.Errorf("no chat about order %d", order)
}

func TestStdoutIsOnlyProtocol(t *testing.T) {
	sandbox := markettest.New()
	defer sandbox.Close()
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), marketEnv(sandbox)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_chats","arguments":{"limit":2}}}
`)
	// Stdin stays open until both answers are out: at its end the server cancels the calls still
	// running, and list_chats would race that.
	out := bufio.NewReader(pipe)
	for range 2 {
		line, err := out.ReadBytes('\n')
		stdout.Write(line)
		if err != nil {
			break
		}
	}
	stdin.Close()
	rest, _ := io.ReadAll(out)
	stdout.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines:\n%s", len(lines), stdout.String())
	}
	for _, l := range lines {
		var m struct {
			JSONRPC string          `json:"jsonrpc"`
			Result  json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.JSONRPC != "2.0" || len(m.Result) == 0 {
			t.Errorf("stdout line is not a JSON-RPC result: %s", l)
		}
	}
	if !strings.Contains(stderr.String(), "market request") || strings.Contains(stderr.String()+stdout.String(), sandbox.APIKey) {
		t.Errorf("stderr should hold the debug log and no key:\n%s", stderr.String())
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args   []string
		env    []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--version"}, nil, 0, name + " ", ""},
		{[]string{"--help"}, nil, 0, "YANDEX_MARKET_BUSINESS_ID", ""},
		{nil, []string{"YANDEX_MARKET_API_KEY=k", "YANDEX_MARKET_BUSINESS_ID=abc"}, 2, "", "YANDEX_MARKET_BUSINESS_ID must be a positive integer"},
		{nil, []string{"YANDEX_MARKET_API_KEY=", "YANDEX_MARKET_BUSINESS_ID="}, 2, "", "YANDEX_MARKET_API_KEY is not set"},
		{[]string{"--transport", "carrier-pigeon"}, nil, 2, "", "MCP_TRANSPORT (--transport) must be stdio or http"},
		{[]string{"--sandbox"}, []string{"MCP_FILE_ROOTS=/does/not/exist"}, 2, "", `MCP_FILE_ROOTS must list folders that files may be sent from: "/does/not/exist": no such file or directory`},
		{[]string{"--sandbox"}, []string{"MCP_FILE_ROOTS=/"}, 2, "", `"/": holds /proc`},
		{[]string{"--sandbox", "--transport", "http"}, []string{"MCP_ALLOWED_ORIGINS=*", "MCP_AUTH_TOKEN="}, 2, "", "MCP_AUTH_TOKEN must be set too"},
		{[]string{"--sandbox"}, []string{"MCP_TOOLS=read-only+send_mesage"}, 2, "", `MCP_TOOLS names "send_mesage", which is no tool; the tools are read-only or list_cabinets, list_chats`},
		{nil, []string{"YANDEX_MARKET_API_KEY=", "YANDEX_MARKET_BUSINESS_ID=", "YANDEX_MARKET_CABINETS_FILE=/does/not/exist"}, 2, "", "YANDEX_MARKET_CABINETS_FILE /does/not/exist: no such file or directory"},
	}
	for _, tt := range tests {
		cmd := exec.Command(binary, tt.args...)
		cmd.Env = append(os.Environ(), tt.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q", tt.env, tt.args, code, stdout.String(), stderr.String())
		}
		if tt.code == 2 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%v: the error takes more than one line: %q", tt.env, stderr.String())
		}
	}
}

func TestDemo(t *testing.T) {
	out, err := exec.Command(binary, "demo").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"→ list_chats", "→ get_chat", "→ get_history", "→ get_message", "→ send_message", "→ send_file", "→ create_chat",
		"wait for the seller's answer", "is now WAITING_FOR_CUSTOMER", "opened chat", "message must be at least 1 character long"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestSandboxFlag(t *testing.T) {
	c, err := client.NewStdioMCPClient(binary, []string{"YANDEX_MARKET_API_KEY=", "YANDEX_MARKET_BUSINESS_ID="}, "--sandbox")
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c)
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_chats", Arguments: map[string]any{}}})
	if err != nil || res.IsError {
		t.Fatalf("list_chats in the sandbox: %+v %v", res, err)
	}
}

func TestHTTPShutdownOnSignal(t *testing.T) {
	sandbox := markettest.New()
	defer sandbox.Close()
	h := startHTTP(t, marketEnv(sandbox))
	sse, err := client.NewSSEMCPClient(h.Base + "/sse") // an open stream must not hold the shutdown up
	if err != nil {
		t.Fatal(err)
	}
	connect(t, sse)
	resp, err := httpGet(h.Base + "/healthz")
	if err != nil || resp != `{"status":"ok"}` {
		t.Fatalf("healthz = %q, %v", resp, err)
	}
	if err := h.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, h.Stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not stop after SIGTERM:\n%s", h.Stderr)
	}
}

// TestHTTPStopDuringSend: SIGTERM while a send waits for Market's answer. The call ends with a
// result that says the send is unconfirmed, a log line names its chat, and the process exits 0.
func TestHTTPStopDuringSend(t *testing.T) {
	sandbox := markettest.New()
	defer sandbox.Close()
	h := startHTTP(t, append(marketEnv(sandbox), "MCP_AUTH_TOKEN="+bearer))
	c, err := client.NewStreamableHttpClient(h.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer}))
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c)
	chat := sandbox.Chats()[0].ChatID
	sandbox.Inject(markettest.OpSendMessageToChat, markettest.Fault{Delay: time.Minute, Commit: true})
	type outcome struct {
		res *mcp.CallToolResult
		err error
	}
	result := make(chan outcome, 1)
	go func() {
		res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_message",
			Arguments: map[string]any{"chat_id": chat, "message": "Здравствуйте! Уже отправили."}}})
		result <- outcome{res, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); sandbox.Stats().InFlight == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the send did not reach the sandbox")
		}
	}
	if err := h.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var got outcome
	select {
	case got = <-result:
	case <-time.After(30 * time.Second):
		t.Fatalf("the call did not end:\n%s", h.Stderr)
	}
	if got.err != nil || !got.res.IsError || !strings.Contains(got.res.Content[0].(mcp.TextContent).Text, "get_history before sending again") {
		t.Errorf("the call ended with %+v, %v; want a result that says the send is unconfirmed", got.res, got.err)
	}
	if err := h.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, h.Stderr)
	}
	if log := h.Stderr.String(); !strings.Contains(log, "cut short") || !strings.Contains(log, fmt.Sprintf("chat_id=%d", chat)) {
		t.Errorf("no log line names the chat of the send:\n%s", log)
	}
}

// TestBigRequestIDs: a JSON-RPC id beyond 2^53 comes back exactly, over stdio and over HTTP.
func TestBigRequestIDs(t *testing.T) {
	const id = "9007199254740993"
	init := `{"jsonrpc":"2.0","id":` + id + `,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`

	cmd := exec.Command(binary, "--sandbox")
	cmd.Env = serverproc.Env()
	cmd.Stdin = strings.NewReader(init + "\n")
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"id":`+id+`,`) {
		t.Errorf("stdio answered %s (%v), want id %s", out, err, id)
	}

	h := startHTTP(t, append(serverproc.Env(), "MCP_AUTH_TOKEN="+bearer), "--sandbox")
	req, _ := http.NewRequest(http.MethodPost, h.URL, strings.NewReader(init))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"id":`+id+`,`) {
		t.Errorf("HTTP answered %s, want id %s", body, id)
	}
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// TestSeeAndHear: a client over each transport sees a buyer's photo with get_attachment, and
// hears the buyer's next message with wait_for_messages, by polling.
func TestSeeAndHear(t *testing.T) {
	for name, open := range transports {
		if name == "sse" {
			continue // the same server as streamable; the SSE client is covered by the other tests
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sandbox := markettest.New()
			t.Cleanup(sandbox.Close)
			c, _ := open(t, marketEnv(sandbox, "YANDEX_MARKET_POLL_SHARE=1"))
			connect(t, c)
			seePhoto(t, c, sandbox)
			hear(t, c, sandbox)
		})
	}
}

// TestHearByNotification: a notification posted to the server's receiver wakes a wait at once.
func TestHearByNotification(t *testing.T) {
	sandbox := markettest.New()
	defer sandbox.Close()
	const path = "/market-notify-0123456789abcdef0123456789abcdef"
	h := startHTTP(t, append(marketEnv(sandbox), "MCP_AUTH_TOKEN="+bearer, "YANDEX_MARKET_NOTIFY_PATH="+path, "YANDEX_MARKET_NOTIFY_FROM=127.0.0.1"))
	c, err := client.NewStreamableHttpClient(h.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer}))
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c)
	sandbox.NotifyTo(h.Base+path+"/notification", nil)
	ping, err := http.Post(h.Base+path, "application/json", strings.NewReader(`{"notificationType":"PING"}`))
	if err != nil || ping.StatusCode != 200 {
		t.Fatalf("PING: %v, %v", ping, err)
	}
	ping.Body.Close()
	hear(t, c, sandbox)
	if reqs := sandbox.Stats().Requests[markettest.OpGetChats]; reqs != 0 {
		t.Errorf("%d getChats requests: with notifications the server does not poll", reqs)
	}
}

// seePhoto calls get_attachment for a buyer's photo and checks that it comes as an image.
func seePhoto(t *testing.T, c *client.Client, sandbox *markettest.Server) {
	t.Helper()
	for _, ch := range sandbox.Chats() {
		for _, m := range sandbox.Messages(ch.ChatID) {
			if len(m.Payload) == 0 || !strings.HasSuffix(m.Payload[0].Name, ".jpg") {
				continue
			}
			res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "get_attachment",
				Arguments: map[string]any{"chat_id": ch.ChatID, "message_id": m.MessageID}}})
			if err != nil || res.IsError || len(res.Content) != 2 {
				t.Fatalf("get_attachment: %+v, %v", res, err)
			}
			img, ok := res.Content[1].(mcp.ImageContent)
			data, derr := base64.StdEncoding.DecodeString(img.Data)
			if !ok || img.MIMEType != "image/jpeg" || derr != nil || len(data) < 100 || data[0] != 0xff {
				t.Errorf("the photo came as %T %q", res.Content[1], img.MIMEType)
			}
			return
		}
	}
	t.Fatal("the sandbox has no photo")
}

// hear starts a wait, has a buyer write, and checks that the wait returns the message.
func hear(t *testing.T, c *client.Client, sandbox *markettest.Server) {
	t.Helper()
	chat := sandbox.Chats()[1].ChatID
	var first tools.Events
	callJSON(t, c, "wait_for_messages", map[string]any{"chat_id": chat, "timeout_seconds": 1}, &first)
	type outcome struct {
		events tools.Events
		err    error
	}
	done := make(chan outcome, 1)
	go func() {
		var got tools.Events
		err := callStructured(c, "wait_for_messages", map[string]any{"chat_id": chat, "cursor": first.Cursor, "timeout_seconds": 60}, &got)
		done <- outcome{got, err}
	}()
	time.Sleep(200 * time.Millisecond)
	m, _ := sandbox.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: "Курьер так и не приехал"})
	select {
	case got := <-done:
		if got.err != nil || len(got.events.Events) != 1 || got.events.Events[0].Message.MessageID != m.MessageID ||
			got.events.Events[0].Message.Text != "Курьер так и не приехал" || got.events.Events[0].Chat.ChatID != chat {
			t.Errorf("the wait gave %+v, %v", got.events, got.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the wait did not hear the message")
	}
}

func callStructured(c *client.Client, tool string, args map[string]any, out any) error {
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("%s: %v", tool, res.Content)
	}
	return json.Unmarshal(res.RawStructuredContent, out)
}

func callJSON(t *testing.T, c *client.Client, tool string, args map[string]any, out any) {
	t.Helper()
	if err := callStructured(c, tool, args, out); err != nil {
		t.Fatal(err)
	}
}
