package tools_test

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
	"github.com/yandex-market-mcp/market-chat-mcp/schema"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// harness is an MCP client connected in-process to a server whose tools talk to a sandbox.
type harness struct {
	sandbox *markettest.Server
	client  *client.Client
}

// newHarness connects a client to a server of the tools, against an in-memory sandbox: inside a
// synctest bubble, every wait runs on the bubble's clock.
func newHarness(t *testing.T, readOnly bool, env func(*tools.Env), opts ...markettest.Option) *harness {
	t.Helper()
	sandbox := markettest.NewInMemory(opts...)
	t.Cleanup(sandbox.Close)
	mc, err := market.New(market.Options{BaseURL: sandbox.URL, APIKey: sandbox.APIKey, BusinessID: sandbox.BusinessID,
		HTTPClient: sandbox.Client(), Logger: slog.New(slog.DiscardHandler),
		Download: market.DownloadOptions{Resolver: loopback, Dial: sandbox.Dial}})
	if err != nil {
		t.Fatal(err)
	}
	e := tools.OneCabinet(mc, nil)
	if env != nil {
		env(e)
	}
	declared, err := tools.Select("", readOnly)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{sandbox: sandbox, client: serve(t, e, declared)}
}

// serve connects a client in-process to a server of the tools in env.
func serve(t *testing.T, env *tools.Env, declared []tools.Declaration) *client.Client {
	t.Helper()
	s := server.NewMCPServer("test", "0", server.WithToolCapabilities(false))
	tools.Register(s, env, declared)
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "0"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// loopback resolves every host to 127.0.0.1.
var loopback = market.ResolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
})

// call calls a tool. It fails the test on a protocol error and returns the result's text and
// whether it is an error result; a successful result is checked against the tool's output
// schema and decoded into out.
func (h *harness) call(t *testing.T, name string, args any, out any) (text string, isError bool) {
	t.Helper()
	res, err := h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items, want 1", name, len(res.Content))
	}
	text = res.Content[0].(mcp.TextContent).Text
	if res.IsError {
		return text, true
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(structured, &generic); err != nil {
		t.Fatal(err)
	}
	if missing := notInText(generic, text); len(missing) > 0 {
		t.Errorf("%s: the text lacks %q of the structured content:\n%s", name, missing, text)
	}
	if err := outputSchema(t, name).Check(generic); err != nil {
		t.Errorf("%s: structuredContent does not match the outputSchema: %v", name, err)
	}
	if out != nil {
		if err := json.Unmarshal(structured, out); err != nil {
			t.Fatal(err)
		}
	}
	return text, false
}

// notInText returns what a model needs of a structured result that its text does not show:
// every id, page token, status, message text and file name.
func notInText(v any, text string) []string {
	var missing []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				// A message's id is in the text when the message has files, or starts or ends
				// the history (see render.go).
				if _, files := v["attachments"]; k == "message_id" && !files {
					continue
				}
				walk(k, sub)
			}
		case []any:
			for _, sub := range v {
				walk(key, sub)
			}
		case float64:
			if strings.HasSuffix(key, "_id") || key == "size" {
				if s := strconv.FormatFloat(v, 'f', -1, 64); !strings.Contains(text, s) {
					missing = append(missing, key+"="+s)
				}
			}
		case string:
			want := v
			switch key {
			case "text":
				want, _, _ = strings.Cut(v, "\n")
			case "name", "customer_name", "file_name":
				want = strconv.Quote(v)
			case "next_page_token", "status", "customer_public_id", "content_type":
			default:
				return
			}
			if !strings.Contains(text, want) {
				missing = append(missing, key+"="+want)
			}
		}
	}
	walk("", v)
	return missing
}

// outputSchema compiles the outputSchema that tools/list shows for a tool.
func outputSchema(t *testing.T, name string) *schema.Schema {
	t.Helper()
	for _, d := range tools.All {
		if def := d.Definition(); def.Name == name {
			s, err := schema.Parse(def.RawOutputSchema)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("no tool %s", name)
	return nil
}

func TestGoldenDefinitions(t *testing.T) {
	for _, d := range tools.All {
		def, err := tools.ReflectedDefinition(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.MarshalIndent(def, "", "  ")
		if err != nil {
			t.Fatalf("%s does not marshal (tools/list would fail): %v", def.Name, err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", def.Name+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./tools -update to write it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s changed; if that is intended, run go test ./tools -update and review the diff\ngot:\n%s", def.Name, got)
		}
	}
}

// TestGeneratedSchemas checks that schemas_gen.go, which tools/list is answered from, holds the
// schemas the tools' types make.
func TestGeneratedSchemas(t *testing.T) {
	want, err := tools.GeneratedSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("schemas_gen.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("schemas_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("schemas_gen.go does not hold the schemas of the tools' types: run go test ./tools -update and review the diff")
	}
}

func TestDefinitions(t *testing.T) {
	for _, d := range tools.All {
		def := d.Definition()
		raw, _ := json.Marshal(def)
		for _, banned := range []string{`"$ref"`, `"$defs"`, `"$schema"`, `"$id"`} {
			if strings.Contains(string(raw), banned) {
				t.Errorf("%s: schema contains %s", def.Name, banned)
			}
		}
		var in, out map[string]any
		_ = json.Unmarshal(def.RawInputSchema, &in)
		_ = json.Unmarshal(def.RawOutputSchema, &out)
		if in["type"] != "object" || in["additionalProperties"] != false || out["type"] != "object" {
			t.Errorf("%s: schemas are not closed objects: %v / %v", def.Name, in, out)
		}
		write := d.Operation().Write
		a := def.Annotations
		if *a.ReadOnlyHint == write || *a.DestructiveHint || !*a.OpenWorldHint || a.Title == "" || def.Title != a.Title {
			t.Errorf("%s: annotations %+v do not match a %v tool", def.Name, a, map[bool]string{true: "writing", false: "reading"}[write])
		}
		if *a.IdempotentHint != d.Operation().Idempotent {
			t.Errorf("%s: idempotentHint %v, operation %s idempotent %v", def.Name, *a.IdempotentHint, d.Operation().Name, d.Operation().Idempotent)
		}
	}
}

func TestContractNames(t *testing.T) {
	want := map[string][]string{ // every tool takes business_id besides
		"list_cabinets":     {},
		"list_chats":        {"statuses", "types", "context_types", "order_ids", "return_ids", "limit", "page_token"},
		"get_history":       {"chat_id", "message_id_from", "limit", "page_token"},
		"get_chat":          {"chat_id"},
		"get_message":       {"chat_id", "message_id"},
		"get_attachment":    {"chat_id", "message_id", "index"},
		"wait_for_messages": {"chat_id", "cursor", "timeout_seconds"},
		"create_chat":       {"order_id", "return_id"},
		"send_message":      {"chat_id", "message"},
		"send_file":         {"chat_id", "path", "content_base64", "file_name"},
	}
	for name, args := range want {
		want[name] = append(args, "business_id")
	}
	ops := map[string]string{"list_cabinets": "", "list_chats": "getChats", "get_history": "getChatHistory", "get_chat": "getChat",
		"get_message": "getChatMessage", "get_attachment": "getChatMessage", "wait_for_messages": "", "create_chat": "createChat", "send_message": "sendMessageToChat", "send_file": "sendFileToChat"}
	if len(tools.All) != len(want) {
		t.Errorf("%d tools, want %d", len(tools.All), len(want))
	}
	for _, d := range tools.All {
		def := d.Definition()
		var in struct {
			Properties map[string]any `json:"properties"`
		}
		_ = json.Unmarshal(def.RawInputSchema, &in)
		args := want[def.Name]
		if len(in.Properties) != len(args) {
			t.Errorf("%s: arguments %v, want %v", def.Name, in.Properties, args)
		}
		for _, a := range args {
			if _, ok := in.Properties[a]; !ok {
				t.Errorf("%s: no argument %s", def.Name, a)
			}
		}
		if d.Operation().Name != ops[def.Name] {
			t.Errorf("%s calls %s, want %s", def.Name, d.Operation().Name, ops[def.Name])
		}
	}
}

func TestReadOnly(t *testing.T) {
	h := newHarness(t, true, nil)
	list, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range list.Tools {
		names = append(names, tl.Name)
	}
	if got := strings.Join(names, ","); got != "get_attachment,get_chat,get_history,get_message,list_cabinets,list_chats,wait_for_messages" {
		t.Errorf("read-only tools = %s", got)
	}
	_, err = h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
		Name: "send_message", Arguments: map[string]any{"chat_id": 1, "message": "hi"}}})
	if err == nil {
		t.Error("send_message was callable in read-only mode")
	}
	if n := len(h.sandbox.Requests()); n != 0 {
		t.Errorf("%d requests reached Market", n)
	}
}

func TestMarkdownListsEveryTool(t *testing.T) {
	md := tools.Markdown()
	for _, d := range tools.All {
		def := d.Definition()
		if !strings.Contains(md, "### `"+def.Name+"`") || !strings.Contains(md, def.Description) {
			t.Errorf("reference lacks %s", def.Name)
		}
	}
	for _, rule := range []string{"| `limit` | integer | ≥ 1, ≤ 20 |", "| `message` | string | required, at least 1 characters, at most 4096 characters |"} {
		if !strings.Contains(md, rule) {
			t.Errorf("reference lacks %q", rule)
		}
	}
}

// TestSelect: MCP_TOOLS picks the tools by name, read-only, or read-only with additions;
// read-only mode removes the writing ones whatever it says; an unknown name lists the valid.
func TestSelect(t *testing.T) {
	names := func(ds []tools.Declaration) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Definition().Name)
		}
		return strings.Join(out, ",")
	}
	reading := "list_cabinets,list_chats,get_chat,get_history,get_message,get_attachment,wait_for_messages"
	for _, tc := range []struct {
		spec     string
		readOnly bool
		want     string
	}{
		{"", false, reading + ",create_chat,send_message,send_file"},
		{"", true, reading},
		{"read-only", false, reading},
		{"read-only+send_message", false, reading + ",send_message"},
		{" read-only + send_message , send_file ", false, reading + ",send_message,send_file"},
		{"list_chats,get_history,send_message", false, "list_chats,get_history,send_message"},
		{"read-only+send_message", true, reading},
	} {
		got, err := tools.Select(tc.spec, tc.readOnly)
		if err != nil || names(got) != tc.want {
			t.Errorf("Select(%q, %v) = %s, %v; want %s", tc.spec, tc.readOnly, names(got), err, tc.want)
		}
	}
	for _, spec := range []string{"send_mesage", "list_chats,delete_chat", "send_message+read-only"} {
		_, err := tools.Select(spec, false)
		if err == nil || !strings.Contains(err.Error(), "MCP_TOOLS") || !strings.Contains(err.Error(), "read-only or list_cabinets, list_chats") {
			t.Errorf("Select(%q) = %v", spec, err)
		}
	}
}
