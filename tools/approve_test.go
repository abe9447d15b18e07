package tools_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcptransport "github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
	"github.com/yandex-market-mcp/market-chat-mcp/transport"
)

// The two generations of the protocol: the legacy one asks with elicitation/create within the
// call, the 2026-07-28 one with an input request and a second round.
const (
	legacy = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	modern = "2026-07-28"
)

// answerFunc answers the server's questions as a user would.
type answerFunc func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f answerFunc) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, req)
}

func answer(action mcp.ElicitationResponseAction, content any) answerFunc {
	return func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: action, Content: content}}, nil
	}
}

// asking is a server of the tools over Streamable HTTP, in memory, and a client of the given
// protocol version that answers its questions with ans (nil: a client that cannot ask).
type asking struct {
	sandbox *markettest.Server
	client  *client.Client
	answers sync.WaitGroup // answers still being given, waited for when the test ends

	mu    sync.Mutex
	asked []mcp.ElicitationRequest
}

// questions returns the questions asked so far.
func (a *asking) questions() []mcp.ElicitationRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.asked)
}

func newAsking(t *testing.T, confirm config.Confirm, version string, ans answerFunc) *asking {
	t.Helper()
	a := &asking{sandbox: markettest.NewInMemory()}
	t.Cleanup(a.sandbox.Close)
	mc, err := market.New(market.Options{BaseURL: a.sandbox.URL, APIKey: a.sandbox.APIKey, BusinessID: a.sandbox.BusinessID,
		HTTPClient: a.sandbox.Client(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	env := tools.OneCabinet(mc, nil)
	env.Confirm = confirm
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false))
	tools.Register(s, env, tools.All)
	h := transport.NewHTTP(s, transport.Options{Logger: slog.New(slog.DiscardHandler)})
	mem := markettest.ServeInMemory(h)
	opts := []client.ClientOption{client.WithProtocolVersion(version)}
	if ans != nil {
		opts = append(opts, client.WithElicitationHandler(answerFunc(func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
			a.answers.Add(1)
			defer a.answers.Done()
			a.mu.Lock()
			a.asked = append(a.asked, req)
			a.mu.Unlock()
			return ans(ctx, req)
		})))
	}
	tr, err := mcptransport.NewStreamableHTTP("http://mcp.invalid"+transport.PathStreamable, mcptransport.WithHTTPBasicClient(mem.Client()))
	if err != nil {
		t.Fatal(err)
	}
	a.client = client.NewClient(tr, opts...)
	t.Cleanup(func() {
		a.answers.Wait()
		a.client.Close()
		h.Close(context.Background())
		mem.Close()
	})
	ctx := context.Background()
	if err := a.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := a.client.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return a
}

// call calls a tool and returns its result's text, whether it is an error, and its structured
// content.
func (a *asking) call(t *testing.T, tool string, args map[string]any) (string, bool, map[string]any) {
	t.Helper()
	res, err := a.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var structured map[string]any
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &structured)
	}
	return res.Content[0].(mcp.TextContent).Text, res.IsError, structured
}

// writes counts the requests of the writing operations that reached Market.
func (a *asking) writes() int {
	st := a.sandbox.Stats().Requests
	return st[market.OpSendMessage.Name] + st[market.OpSendFile.Name] + st[market.OpCreateChat.Name]
}

// waitingChat is a chat of the sandbox that waits for the seller, with the buyer's name.
func waitingChat(t *testing.T, s *markettest.Server) markettest.Chat {
	for _, c := range s.Chats() {
		if c.Status == markettest.StatusWaitingForPartner && c.Context.Type == markettest.ContextOrder {
			return c
		}
	}
	t.Fatal("the sandbox has no chat about an order waiting for the seller")
	return markettest.Chat{}
}

// TestApproval: in a client that can ask, on either protocol, nothing reaches Market without
// the user's yes; a yes sends once, an edit sends the edited text, and any other answer sends
// nothing and says so as a result, not an error.
func TestApproval(t *testing.T) {
	const edited = "Здравствуйте! Отправим завтра до 12:00."
	cases := []struct {
		name   string
		answer answerFunc
		sent   string // the text that reaches the buyer; "" for none
		status string
	}{
		{"accept", answer(mcp.ElicitationResponseActionAccept, map[string]any{"message": "Отправим сегодня."}), "Отправим сегодня.", "approved"},
		{"accept without content", answer(mcp.ElicitationResponseActionAccept, nil), "Отправим сегодня.", "approved"},
		{"edit", answer(mcp.ElicitationResponseActionAccept, map[string]any{"message": edited}), edited, "edited"},
		{"decline", answer(mcp.ElicitationResponseActionDecline, nil), "", "declined"},
		{"cancel", answer(mcp.ElicitationResponseActionCancel, nil), "", "cancelled"},
		{"no answer", func(ctx context.Context, _ mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
			time.Sleep(6 * time.Minute) // past the bound, on the bubble's clock
			return answer(mcp.ElicitationResponseActionAccept, nil)(ctx, mcp.ElicitationRequest{})
		}, "", "unanswered"},
		{"wrong type", answer(mcp.ElicitationResponseActionAccept, map[string]any{"message": 42}), "", "invalid"},
		{"extra field", answer(mcp.ElicitationResponseActionAccept, map[string]any{"message": "Отправим сегодня.", "urgent": true}), "", "invalid"},
		{"empty edit", answer(mcp.ElicitationResponseActionAccept, map[string]any{"message": ""}), "", "invalid"},
		{"unknown action", answer("maybe", nil), "", "invalid"},
	}
	for _, version := range []string{legacy, modern} {
		for _, tc := range cases {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					a := newAsking(t, config.ConfirmAuto, version, tc.answer)
					chat := waitingChat(t, a.sandbox)
					before := len(a.sandbox.Messages(chat.ChatID))
					text, isError, out := a.call(t, "send_message", map[string]any{"chat_id": chat.ChatID, "message": "Отправим сегодня."})
					if isError {
						t.Fatalf("error result: %s", text)
					}
					if len(a.questions()) != 1 {
						t.Fatalf("asked %d times, want once", len(a.questions()))
					}
					q := a.questions()[0].Params
					for _, want := range []string{"Отправим сегодня.", chat.Context.Customer.Name, "business 7654321", "order"} {
						if !strings.Contains(q.Message, want) {
							t.Errorf("the question lacks %q:\n%s", want, q.Message)
						}
					}
					if out["approval"] != tc.status {
						t.Errorf("approval = %v, want %s: %s", out["approval"], tc.status, text)
					}
					msgs := a.sandbox.Messages(chat.ChatID)
					switch {
					case tc.sent == "" && (len(msgs) != before || a.writes() != 0):
						t.Errorf("sent without a yes: %d writes; %s", a.writes(), text)
					case tc.sent == "" && (!strings.Contains(text, "was not sent") || out["sent_at"] != nil):
						t.Errorf("the result does not say nothing was sent: %s", text)
					case tc.sent != "" && (len(msgs) != before+1 || msgs[len(msgs)-1].Message != tc.sent || a.writes() != 1):
						t.Errorf("after a yes, %d messages were added, %d writes; want %q once", len(msgs)-before, a.writes(), tc.sent)
					case tc.status == "edited" && (out["text"] != edited || !strings.Contains(text, edited)):
						t.Errorf("the result does not give the edited text: %s", text)
					}
				})
			})
		}
	}
}

// TestApprovalOfFilesAndChats: the question before a file names it, its type and its size; the
// one before a new chat names the order; neither can be edited, and a decline sends nothing.
func TestApprovalOfFilesAndChats(t *testing.T) {
	for _, version := range []string{legacy, modern} {
		t.Run(version, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newAsking(t, config.ConfirmAuto, version, answer(mcp.ElicitationResponseActionDecline, nil))
				chat := waitingChat(t, a.sandbox)
				pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 invoice"))
				text, isError, _ := a.call(t, "send_file", map[string]any{"chat_id": chat.ChatID, "content_base64": pdf, "file_name": "счёт.pdf"})
				if isError || !strings.Contains(text, "The file was not sent: the user declined") {
					t.Errorf("send_file declined = %s", text)
				}
				order := a.sandbox.Orders()[0].ID
				for _, o := range a.sandbox.Orders() {
					if !hasChat(a.sandbox, o.ID) {
						order = o.ID
					}
				}
				text, isError, out := a.call(t, "create_chat", map[string]any{"order_id": order})
				if isError || out["chat_id"] != nil || !strings.Contains(text, "The chat was not opened") {
					t.Errorf("create_chat declined = %s", text)
				}
				if a.writes() != 0 {
					t.Errorf("%d writes reached Market", a.writes())
				}
				if len(a.questions()) != 2 {
					t.Fatalf("asked %d times", len(a.questions()))
				}
				file, opening := a.questions()[0].Params, a.questions()[1].Params
				if !strings.Contains(file.Message, "счёт.pdf (application/pdf, 16 bytes)") || len(props(file)) != 0 {
					t.Errorf("the file's question = %q, schema %v", file.Message, file.RequestedSchema)
				}
				if !strings.Contains(opening.Message, "order") || !strings.Contains(opening.Message, "7654321") || len(props(opening)) != 0 {
					t.Errorf("the chat's question = %q", opening.Message)
				}
			})
		})
	}
}

func hasChat(s *markettest.Server, order int64) bool {
	for _, c := range s.Chats() {
		if c.Context.OrderID == order {
			return true
		}
	}
	return false
}

func props(p mcp.ElicitationParams) map[string]any {
	b, _ := json.Marshal(p.RequestedSchema)
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	_ = json.Unmarshal(b, &s)
	return s.Properties
}

// TestClientThatCannotAsk: auto sends as before, always refuses with a sentence that says how
// to go on, never sends without asking even a client that could ask.
func TestClientThatCannotAsk(t *testing.T) {
	for _, version := range []string{legacy, modern} {
		t.Run(version, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a := newAsking(t, config.ConfirmAuto, version, nil)
				chat := waitingChat(t, a.sandbox)
				if text, isError, out := a.call(t, "send_message", map[string]any{"chat_id": chat.ChatID, "message": "Да"}); isError || out["approval"] != nil || a.writes() != 1 {
					t.Errorf("auto, a client that cannot ask: %s", text)
				}
				a = newAsking(t, config.ConfirmAlways, version, nil)
				text, isError, _ := a.call(t, "send_message", map[string]any{"chat_id": chat.ChatID, "message": "Да"})
				if !isError || !strings.Contains(text, "MCP_CONFIRM_SENDS=always") || !strings.Contains(text, "cannot ask") || a.writes() != 0 {
					t.Errorf("always, a client that cannot ask: %s (%d writes)", text, a.writes())
				}
				a = newAsking(t, config.ConfirmNever, version, answer(mcp.ElicitationResponseActionDecline, nil))
				if text, isError, _ := a.call(t, "send_message", map[string]any{"chat_id": chat.ChatID, "message": "Да"}); isError || len(a.questions()) != 0 || a.writes() != 1 {
					t.Errorf("never: asked %d times: %s", len(a.questions()), text)
				}
			})
		})
	}
}

// TestApprovalIsTakenOnce: the answer to an input request, replayed, returns the first
// result and sends nothing again; an answer with other arguments sends nothing.
func TestApprovalIsTakenOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAsking(t, config.ConfirmAuto, modern, nil) // only for its sandbox
		mc, err := market.New(market.Options{BaseURL: a.sandbox.URL, APIKey: a.sandbox.APIKey, BusinessID: a.sandbox.BusinessID,
			HTTPClient: a.sandbox.Client(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		handler := sendMessage().Handler(tools.OneCabinet(mc, nil))
		ctx := server.WithRequestProtocolInfo(context.Background(), &server.RequestProtocolInfo{Modern: true, ProtocolVersion: modern,
			ClientCapabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{}}})
		chat := waitingChat(t, a.sandbox)
		req := mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_message", Arguments: map[string]any{"chat_id": chat.ChatID, "message": "Да"}}}
		first, err := handler(ctx, req)
		if err != nil || !first.NeedsInput() || first.RequestState == "" || a.writes() != 0 {
			t.Fatalf("first round = %+v, %v", first, err)
		}
		req.Params.RequestState = first.RequestState
		req.Params.InputResponses = mcp.InputResponses{}
		for id := range first.InputRequests {
			req.Params.InputResponses[id] = mcp.InputResponse{Elicitation: &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}}
		}
		var results []string
		for range 3 {
			res, err := handler(ctx, req)
			if err != nil || res.IsError {
				t.Fatalf("answer = %+v, %v", res, err)
			}
			b, _ := json.Marshal(res)
			results = append(results, string(b))
		}
		if a.writes() != 1 || results[1] != results[0] || results[2] != results[0] {
			t.Errorf("%d sends for one approval; results %q", a.writes(), results)
		}
		other := req
		other.Params.Arguments = map[string]any{"chat_id": chat.ChatID, "message": "Нет"}
		res, err := handler(ctx, other)
		if err != nil || res.IsError || a.writes() != 1 || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "not sent") {
			t.Errorf("an approval used for other arguments = %+v, %v (%d sends)", res, err, a.writes())
		}
	})
}

// sendMessage returns the send_message declaration.
func sendMessage() tools.Declaration {
	for _, d := range tools.All {
		if d.Definition().Name == "send_message" {
			return d
		}
	}
	panic("no send_message")
}
