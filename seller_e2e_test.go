package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// elicit answers the server's questions as a user would, counting them.
type elicit struct {
	asked  atomic.Int32
	answer func(mcp.ElicitationRequest) *mcp.ElicitationResult
}

func (e *elicit) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	e.asked.Add(1)
	return e.answer(req), nil
}

// askingClient connects a client of the given protocol version that answers questions with
// e, over the transport named, to the server run with env.
func askingClient(t *testing.T, over, version string, e *elicit, env []string, args ...string) *client.Client {
	t.Helper()
	var tr transport.Interface
	switch over {
	case "stdio":
		tr = transport.NewStdioWithOptions(binary, serverproc.Env(env...), args, transport.WithCommandStderrWriter(&serverproc.Output{}))
	case "streamable":
		h := startHTTP(t, append(env, "MCP_AUTH_TOKEN="+bearer), args...)
		var err error
		if tr, err = transport.NewStreamableHTTP(h.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer})); err != nil {
			t.Fatal(err)
		}
	}
	c := client.NewClient(tr, client.WithProtocolVersion(version), client.WithElicitationHandler(e))
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "e2e", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestApprovalOverEveryTransport: the built server asks before a send over stdio and
// Streamable HTTP, on both generations of the protocol: a declined message reaches no buyer,
// an edited one reaches the buyer once, as edited.
func TestApprovalOverEveryTransport(t *testing.T) {
	for _, over := range []string{"stdio", "streamable"} {
		for _, version := range []string{"2026-07-28", mcp.LATEST_LEGACY_PROTOCOL_VERSION} {
			t.Run(over+"/"+version, func(t *testing.T) {
				t.Parallel()
				sandbox := markettest.New()
				t.Cleanup(sandbox.Close)
				chat := sandbox.Chats()[0].ChatID
				edited := "Отправим сегодня до 18:00 — " + over
				answers := []*mcp.ElicitationResult{
					{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}},
					{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"message": edited}}},
				}
				e := &elicit{answer: func(req mcp.ElicitationRequest) *mcp.ElicitationResult {
					if !strings.Contains(req.Params.Message, "Отправим завтра") {
						t.Errorf("the question does not show the text: %s", req.Params.Message)
					}
					return answers[0]
				}}
				c := askingClient(t, over, version, e, marketEnv(sandbox, "MCP_CONFIRM_SENDS=always"))
				send := func() (string, map[string]any) {
					res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_message",
						Arguments: map[string]any{"chat_id": chat, "message": "Отправим завтра."}}})
					if err != nil || res.IsError {
						t.Fatalf("send_message = %+v, %v", res, err)
					}
					var out map[string]any
					_ = json.Unmarshal(res.RawStructuredContent, &out)
					return res.Content[0].(mcp.TextContent).Text, out
				}
				before := len(sandbox.Messages(chat))
				if text, out := send(); out["approval"] != "declined" || len(sandbox.Messages(chat)) != before {
					t.Errorf("declined, and: %s", text)
				}
				answers = answers[1:]
				text, out := send()
				msgs := sandbox.Messages(chat)
				if out["approval"] != "edited" || out["text"] != edited || len(msgs) != before+1 || msgs[len(msgs)-1].Message != edited {
					t.Errorf("edited, and %d messages were added: %s", len(msgs)-before, text)
				}
				if n := e.asked.Load(); n != 2 {
					t.Errorf("asked %d times for two sends", n)
				}
				if n := sandbox.Stats().Requests["sendMessageToChat"]; n != 1 {
					t.Errorf("%d sends reached Market for one yes", n)
				}
			})
		}
	}
}

// writeCabinets writes a cabinets file that only its owner can read.
func writeCabinets(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cabinets.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSeveralCabinets: one server in two cabinets of one Market, as a seller of two brands runs
// it: a key given in the file and a key given by an environment variable, each used for its
// own cabinet; the chats of both in one list; a read-only cabinet; the prompts.
func TestSeveralCabinets(t *testing.T) {
	m := markettest.NewMarket(
		[]markettest.Option{markettest.WithBusinessID(111), markettest.WithAPIKey("ACMA:brand-a")},
		[]markettest.Option{markettest.WithBusinessID(222), markettest.WithAPIKey("ACMA:brand-b"), markettest.WithSeedShift(100000)},
	)
	t.Cleanup(m.Close)
	file := writeCabinets(t, `{"cabinets": [
		{"name": "Бренд А", "business_id": 111, "api_key": "ACMA:brand-a"},
		{"name": "Бренд Б", "business_id": 222, "api_key_env": "BRAND_B_KEY", "read_only": true}]}`)
	env := []string{"YANDEX_MARKET_BASE_URL=" + m.URL, "YANDEX_MARKET_CABINETS_FILE=" + file, "BRAND_B_KEY=ACMA:brand-b"}
	c, _ := transports["stdio"](t, serverproc.Env(env...))
	connect(t, c)

	var cabinets struct {
		Cabinets []struct {
			BusinessID int64  `json:"business_id"`
			Mode       string `json:"mode"`
		} `json:"cabinets"`
	}
	callJSON(t, c, "list_cabinets", nil, &cabinets)
	if got := fmt.Sprint(cabinets.Cabinets); got != "[{111 read-write} {222 read-only}]" {
		t.Errorf("list_cabinets = %s", got)
	}
	var list struct {
		Chats []struct {
			BusinessID int64 `json:"business_id"`
		} `json:"chats"`
	}
	callJSON(t, c, "list_chats", map[string]any{"limit": 20}, &list)
	per := map[int64]int{}
	for _, ch := range list.Chats {
		per[ch.BusinessID]++
	}
	if len(list.Chats) != 20 || per[111] == 0 || per[222] == 0 {
		t.Errorf("list_chats of both cabinets: %v", per)
	}
	for _, s := range m.Servers {
		if n := s.Stats().Requests["getChats"]; n != 1 {
			t.Errorf("business %d was asked for its chats %d times", s.BusinessID, n)
		}
	}
	b := m.Servers[1].Chats()[0].ChatID
	for args, want := range map[string]string{
		fmt.Sprintf(`{"chat_id": %d}`, b):                                      `give business_id, one of 111 "Бренд А", 222 "Бренд Б"`,
		fmt.Sprintf(`{"chat_id": %d, "business_id": 222, "message": "Да"}`, b): `cabinet 222 "Бренд Б" is read-only`,
	} {
		tool := "get_chat"
		if strings.Contains(args, "message") {
			tool = "send_message"
		}
		var a map[string]any
		_ = json.Unmarshal([]byte(args), &a)
		res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: a}})
		if err != nil || !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, want) {
			t.Errorf("%s(%s) = %+v, %v", tool, args, res, err)
		}
	}

	prompts, err := c.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
	if err != nil || len(prompts.Prompts) != 3 {
		t.Fatalf("prompts = %+v, %v", prompts, err)
	}
	got, err := c.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "answer_waiting_chats", Arguments: map[string]string{"business_id": "111"}}})
	if err != nil || !strings.Contains(got.Messages[0].Content.(mcp.TextContent).Text, "cabinet 111") {
		t.Errorf("answer_waiting_chats = %+v, %v", got, err)
	}
}

// TestSandboxOfSeveralCabinets: the built-in sandbox serves every cabinet of a cabinets file,
// each with its own chats, so that a seller can try the file before pointing it at Market.
func TestSandboxOfSeveralCabinets(t *testing.T) {
	file := writeCabinets(t, `{"cabinets": [{"name": "A", "business_id": 111, "api_key": "ACMA:a"}, {"name": "B", "business_id": 222, "oauth_token": "y0_b"}]}`)
	c, _ := transports["stdio"](t, serverproc.Env("YANDEX_MARKET_CABINETS_FILE="+file), "--sandbox")
	connect(t, c)
	var list struct {
		Chats []struct {
			ChatID     int64 `json:"chat_id"`
			BusinessID int64 `json:"business_id"`
		} `json:"chats"`
	}
	callJSON(t, c, "list_chats", map[string]any{"limit": 20, "statuses": []string{"WAITING_FOR_PARTNER"}}, &list)
	ids := map[int64]bool{}
	per := map[int64]int{}
	for _, ch := range list.Chats {
		ids[ch.ChatID] = true
		per[ch.BusinessID]++
	}
	if per[111] == 0 || per[111] != per[222] || len(ids) != len(list.Chats) {
		t.Errorf("the sandbox's cabinets: %v, %d distinct chats of %d", per, len(ids), len(list.Chats))
	}
}

// TestBadCabinetsFile: a cabinets file others can read stops the start with one line.
func TestBadCabinetsFile(t *testing.T) {
	file := writeCabinets(t, `{"cabinets": [{"name": "A", "business_id": 111, "api_key": "ACMA:a"}]}`)
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary)
	cmd.Env = serverproc.Env("YANDEX_MARKET_CABINETS_FILE=" + file)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "others can read it (mode -rw-r--r--), and it holds keys: chmod 600") ||
		strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || strings.Contains(string(out), "ACMA:a") {
		t.Errorf("exit %v: %s", err, out)
	}
}

// TestStatelessHTTPAsks: without sessions, a 2026-07-28 client is still asked before a send (its
// answer comes in a new request), and an older one, whose answer would need the session, counts
// as a client that cannot ask.
func TestStatelessHTTPAsks(t *testing.T) {
	sandbox := markettest.New()
	t.Cleanup(sandbox.Close)
	chat := sandbox.Chats()[0].ChatID
	env := marketEnv(sandbox, "MCP_CONFIRM_SENDS=always", "MCP_HTTP_STATELESS=true")
	for version, want := range map[string]string{"2026-07-28": "approved", mcp.LATEST_LEGACY_PROTOCOL_VERSION: "cannot ask"} {
		e := &elicit{answer: func(mcp.ElicitationRequest) *mcp.ElicitationResult {
			return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}
		}}
		c := askingClient(t, "streamable", version, e, env)
		res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_message",
			Arguments: map[string]any{"chat_id": chat, "message": "Без сессии"}}})
		if err != nil {
			t.Fatal(err)
		}
		text := res.Content[0].(mcp.TextContent).Text
		if !strings.Contains(text+string(res.RawStructuredContent), want) {
			t.Errorf("%s: %s %s", version, text, res.RawStructuredContent)
		}
	}
	count := 0
	for _, m := range sandbox.Messages(chat) {
		if m.Message == "Без сессии" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d sends reached the buyer, want the approved one", count)
	}
}
