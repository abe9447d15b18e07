//go:build redis

package replicas

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/redistest"
	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// binary is the server, built with -race by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(serverproc.RunWithServer(m, "..", &binary))
}

const bearer = "replicas-bearer-3c9e1f"

// setup starts a Redis and the in-memory Partner API, with Market's limits, until the test ends.
func setup(t *testing.T) (*redistest.Server, *markettest.Server) {
	r := redistest.Start(t)
	sandbox := markettest.New(markettest.WithoutRequestLog())
	t.Cleanup(sandbox.Close)
	return r, sandbox
}

// replica is one server process and a client of it.
type replica struct {
	proc   *serverproc.HTTP
	client *client.Client
}

// start runs n replicas of the server against sandbox, sharing r when it is not nil, behind
// stateless Streamable HTTP as a load balancer needs.
func start(t *testing.T, n int, sandbox *markettest.Server, r *redistest.Server, extra ...string) []*replica {
	t.Helper()
	env := []string{
		"YANDEX_MARKET_BASE_URL=" + sandbox.URL, "YANDEX_MARKET_API_KEY=" + sandbox.APIKey,
		fmt.Sprintf("YANDEX_MARKET_BUSINESS_ID=%d", sandbox.BusinessID), "YANDEX_MARKET_MAX_WAIT=2m",
		"MCP_AUTH_TOKEN=" + bearer, "MCP_HTTP_STATELESS=true", "MCP_LOG_LEVEL=debug",
	}
	if r != nil {
		env = append(env, "REDIS_URL="+r.URL)
	}
	var out []*replica
	for range n {
		cmd := exec.Command(binary, "--transport", "http", "--addr", "127.0.0.1:0")
		cmd.Env = serverproc.Env(append(env, extra...)...)
		h := serverproc.StartHTTPForTest(t, cmd)
		c, err := client.NewStreamableHttpClient(h.URL, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer}),
			transport.WithHTTPTimeout(3*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var init mcp.InitializeRequest
		init.Params.ClientInfo = mcp.Implementation{Name: "replicas", Version: "0"}
		if _, err := c.Initialize(context.Background(), init); err != nil {
			t.Fatal(err)
		}
		out = append(out, &replica{proc: h, client: c})
	}
	return out
}

// call calls a tool and returns its text, and whether it failed.
func (r *replica) call(tool string, args map[string]any) (string, bool) {
	res, err := r.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		return err.Error(), true
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	return text, res.IsError
}

// slowBurst makes 60 slow reads at once, spread over the replicas.
func slowBurst(t *testing.T, sandbox *markettest.Server, replicas []*replica) (failed int) {
	const calls = 60
	slow := make([]markettest.Fault, calls)
	for i := range slow {
		slow[i] = markettest.Fault{Delay: 150 * time.Millisecond}
	}
	sandbox.Inject(markettest.OpGetChat, slow...)
	chat := sandbox.Chats()[0].ChatID
	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range calls {
		wg.Go(func() {
			if text, isError := replicas[i%len(replicas)].call("get_chat", map[string]any{"chat_id": chat}); isError {
				bad.Add(1)
				t.Logf("call %d: %s", i, text)
			}
		})
	}
	wg.Wait()
	return int(bad.Load())
}

// TestBurstAcrossReplicas: three replicas sharing one Redis never have more than Market's four
// requests in flight and meet no 420; without Redis, the same burst breaks the limit.
func TestBurstAcrossReplicas(t *testing.T) {
	r, sandbox := setup(t)
	failed := slowBurst(t, sandbox, start(t, 3, sandbox, r))
	st := sandbox.Stats()
	if failed != 0 || st.RateLimited() != 0 || st.MaxInFlight > 4 || st.Requests[markettest.OpGetChat] != 60 {
		t.Errorf("with Redis: %d failed, %d answers 420, at most %d in flight, %d requests", failed, st.RateLimited(), st.MaxInFlight, st.Requests[markettest.OpGetChat])
	}

	alone := markettest.New(markettest.WithoutRequestLog())
	t.Cleanup(alone.Close)
	slowBurst(t, alone, start(t, 3, alone, nil))
	if st := alone.Stats(); st.MaxInFlight <= 4 && st.RateLimited() == 0 {
		t.Errorf("without Redis the replicas kept to the limit (%d in flight at most): the burst proves nothing", st.MaxInFlight)
	}
}

// TestKilledReplicaGivesBackSlots: a replica killed while it holds every slot holds the others
// back for no more than a lease.
func TestKilledReplicaGivesBackSlots(t *testing.T) {
	r, sandbox := setup(t)
	replicas := start(t, 3, sandbox, r)
	chat := sandbox.Chats()[0].ChatID
	replicas[0].call("get_chat", map[string]any{"chat_id": chat}) // tells every replica getChat's window
	held := make([]markettest.Fault, 4)
	for i := range held {
		held[i] = markettest.Fault{Delay: time.Minute}
	}
	sandbox.Inject(markettest.OpGetChat, held...)
	for range 4 {
		go replicas[0].call("get_chat", map[string]any{"chat_id": chat})
	}
	for deadline := time.Now().Add(20 * time.Second); sandbox.Stats().InFlight < 4; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first replica has %d requests in flight, want 4", sandbox.Stats().InFlight)
		}
	}
	if err := replicas[0].proc.Cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = replicas[0].proc.Wait()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if text, isError := replicas[1+i%2].call("get_chat", map[string]any{"chat_id": chat}); isError {
				t.Errorf("after the kill: %s", text)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the others finished %s after the kill", took)
	}
	if st := sandbox.Stats(); st.RateLimited() != 0 || st.MaxInFlight > 4 {
		t.Errorf("%d answers 420, at most %d in flight", st.RateLimited(), st.MaxInFlight)
	}
}

// sellerTexts counts the seller's messages of a chat by their text.
func sellerTexts(sandbox *markettest.Server, chat int64) (map[string]int, []string) {
	count := map[string]int{}
	var order []string
	for _, m := range sandbox.Messages(chat) {
		if m.Sender == markettest.SenderPartner {
			count[m.Message]++
			order = append(order, m.Message)
		}
	}
	return count, order
}

// TestRedisRestartedMidBurst: Redis lost and back in the middle of a burst of sends: a send
// that reports success reached the buyer once, one refused reached nobody, no message reached
// anyone twice, and the replicas send again without a restart.
func TestRedisRestartedMidBurst(t *testing.T) {
	r, sandbox := setup(t)
	replicas := start(t, 3, sandbox, r)
	chats := sandbox.Chats()
	type outcome struct {
		chat int64
		text string
		ok   bool
	}
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	for i, rep := range replicas {
		wg.Go(func() {
			for n := range 12 {
				chat := chats[n%4].ChatID
				text := fmt.Sprintf("Ответ %d от реплики %d", n, i)
				_, isError := rep.call("send_message", map[string]any{"chat_id": chat, "message": text})
				mu.Lock()
				outcomes = append(outcomes, outcome{chat, text, !isError})
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	r.Stop()
	time.Sleep(500 * time.Millisecond)
	r.Restart()
	wg.Wait()
	refused := 0
	for _, o := range outcomes {
		count, _ := sellerTexts(sandbox, o.chat)
		switch {
		case count[o.text] > 1:
			t.Errorf("%q reached the buyer %d times", o.text, count[o.text])
		case o.ok && count[o.text] != 1:
			t.Errorf("%q was reported sent, but the chat has it %d times", o.text, count[o.text])
		case !o.ok:
			refused++
		}
	}
	t.Logf("%d of %d sends were refused while Redis was away", refused, len(outcomes))
	var after string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var isError bool
		if after, isError = replicas[0].call("send_message", map[string]any{"chat_id": chats[0].ChatID, "message": "После возвращения Redis"}); !isError {
			return
		}
	}
	t.Errorf("no send went through after Redis came back: %s", after)
}

// TestOneChatTwoReplicas: sends to one chat through two replicas take turns, even when Market
// fails some after storing them: each arrives once, and each replica's arrive in its order.
func TestOneChatTwoReplicas(t *testing.T) {
	r, sandbox := setup(t)
	replicas := start(t, 2, sandbox, r)
	chat := sandbox.Chats()[0].ChatID
	sandbox.Inject(markettest.OpSendMessageToChat, markettest.Fault{Commit: true, Status: 500}, markettest.Fault{}, markettest.Fault{Commit: true, Drop: true})
	var wg sync.WaitGroup
	for i, rep := range replicas[:2] {
		wg.Go(func() {
			for n := range 5 {
				if text, isError := rep.call("send_message", map[string]any{"chat_id": chat, "message": "Да"}); isError {
					t.Errorf("replica %d, send %d: %s", i, n, text)
				}
				if text, isError := rep.call("send_message", map[string]any{"chat_id": chat, "message": fmt.Sprintf("%c%d", 'A'+i, n)}); isError {
					t.Errorf("replica %d, send %d: %s", i, n, text)
				}
			}
		})
	}
	wg.Wait()
	count, order := sellerTexts(sandbox, chat)
	if count["Да"] != 10 {
		t.Errorf("the same text sent 10 times through two replicas arrived %d times", count["Да"])
	}
	for i := range 2 {
		var mine []string
		for _, text := range order {
			if strings.HasPrefix(text, string(rune('A'+i))) {
				mine = append(mine, text)
			}
		}
		if want := fmt.Sprintf("%c0 %c1 %c2 %c3 %c4", 'A'+i, 'A'+i, 'A'+i, 'A'+i, 'A'+i); strings.Join(mine, " ") != want {
			t.Errorf("replica %d's messages arrived as %v", i, mine)
		}
	}
}

// TestNotificationWakesAnotherReplica: a notification that reaches one replica wakes a wait on
// another, whose cursor then goes on at either.
func TestNotificationWakesAnotherReplica(t *testing.T) {
	r, sandbox := setup(t)
	const path = "/market-notify-0123456789abcdef0123456789abcdef"
	replicas := start(t, 2, sandbox, r, "YANDEX_MARKET_NOTIFY_PATH="+path, "YANDEX_MARKET_NOTIFY_FROM=127.0.0.1")
	sandbox.NotifyTo(replicas[0].proc.Base+path, nil)
	var first struct {
		Cursor string `json:"cursor"`
	}
	res, err := replicas[1].client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "wait_for_messages", Arguments: map[string]any{"timeout_seconds": 1}}})
	if err != nil || res.IsError {
		t.Fatalf("a first wait: %+v, %v", res, err)
	}
	_ = json.Unmarshal(res.RawStructuredContent, &first)
	chat := sandbox.Chats()[1].ChatID
	done := make(chan string, 1)
	go func() {
		text, _ := replicas[1].call("wait_for_messages", map[string]any{"cursor": first.Cursor, "timeout_seconds": 60})
		done <- text
	}()
	time.Sleep(300 * time.Millisecond)
	sandbox.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: "Через другую реплику"})
	select {
	case text := <-done:
		if !strings.Contains(text, "Через другую реплику") {
			t.Errorf("the wait on the other replica gave: %s", text)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the notification to one replica did not wake the wait on the other")
	}
	if n := sandbox.Stats().Requests[markettest.OpGetChats]; n != 0 {
		t.Errorf("%d getChats requests: with notifications nobody polls", n)
	}
}

// rpc posts one JSON-RPC request to a replica's MCP endpoint as a 2026-07-28 client would,
// and returns its result.
func rpc(t *testing.T, rep *replica, params map[string]any) map[string]any {
	t.Helper()
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "replicas", "version": "0"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{"elicitation": map[string]any{}},
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
	req, _ := http.NewRequest(http.MethodPost, rep.proc.URL, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", params["name"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if data, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(data, `"result"`) {
				raw = []byte(data)
			}
		}
	}
	var out struct {
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Result == nil {
		t.Fatalf("%d %s: %v", res.StatusCode, raw, err)
	}
	return out.Result
}

// TestApprovalAcrossReplicas: a question asked by one replica is answered through another, as
// a load balancer may route the second round; the answer replayed through a third sends
// nothing more.
func TestApprovalAcrossReplicas(t *testing.T) {
	r, sandbox := setup(t)
	replicas := start(t, 3, sandbox, r, "MCP_CONFIRM_SENDS=always")
	chat := sandbox.Chats()[0].ChatID
	call := map[string]any{"name": "send_message", "arguments": map[string]any{"chat_id": chat, "message": "Черновик"}}
	asked := rpc(t, replicas[0], call)
	state, _ := asked["requestState"].(string)
	if asked["resultType"] != "input_required" || state == "" {
		t.Fatalf("the first round = %v", asked)
	}
	answer := map[string]any{"name": call["name"], "arguments": call["arguments"], "requestState": state,
		"inputResponses": map[string]any{"approve_send": map[string]any{"action": "accept", "content": map[string]any{"message": "Исправлено"}}}}
	var results []string
	for _, rep := range replicas[1:] {
		res := rpc(t, rep, answer)
		sc, _ := json.Marshal(res["structuredContent"])
		results = append(results, string(sc))
	}
	count, _ := sellerTexts(sandbox, chat)
	if count["Исправлено"] != 1 || count["Черновик"] != 0 || results[0] != results[1] || !strings.Contains(results[0], `"approval":"edited"`) {
		t.Errorf("sent %v; the answer's results %q", count, results)
	}
}
