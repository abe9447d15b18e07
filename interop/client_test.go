//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
)

// tsSummary is what client.mjs prints.
type tsSummary struct {
	SDKVersion string                 `json:"sdkVersion"`
	Node       string                 `json:"node"`
	Transports map[string]tsSession   `json:"transports"`
	Approvals  map[string]tsApprovals `json:"approvals"`
	WrongToken map[string]struct {
		Refused bool   `json:"refused"`
		Status  int    `json:"status"`
		Error   string `json:"error"`
	} `json:"wrongToken"`
}

// tsSession is one transport's session: every tool called once or more.
type tsSession struct {
	Error  string `json:"error"`
	Server struct {
		Name string `json:"name"`
	} `json:"server"`
	Tools []string `json:"tools"`
	Calls []struct {
		Tool         string          `json:"tool"`
		Args         json.RawMessage `json:"args"`
		Error        string          `json:"error"`
		IsError      bool            `json:"isError"`
		Text         string          `json:"text"`
		Structured   bool            `json:"structured"`
		SDKValidated bool            `json:"sdkValidated"`
		SchemaErrors []string        `json:"schemaErrors"`
		TextMatches  bool            `json:"textMatches"`
	} `json:"calls"`
	MessageMatches bool `json:"messageMatches"`
	SentSeen       bool `json:"sentSeen"`
	CreatedChat    *struct {
		OrderID        int64 `json:"orderId"`
		ChatID         int64 `json:"chatId"`
		ExistingChatID int64 `json:"existingChatId"`
	} `json:"createdChat"`
	EmptyMessage struct {
		IsError bool   `json:"isError"`
		Text    string `json:"text"`
	} `json:"emptyMessage"`
	AjvRejectsBadOutput bool `json:"ajvRejectsBadOutput"`
	AttachmentImage     bool `json:"attachmentImage"`
	WaitCursor          bool `json:"waitCursor"`
}

// tsApprovals is one transport's sends through a Client that can ask, one per kind of answer.
type tsApprovals struct {
	Error    string `json:"error"`
	Protocol string `json:"protocol"`
	Cases    map[string]struct {
		Asked     int    `json:"asked"`
		ShowsText bool   `json:"showsText"`
		Editable  bool   `json:"editable"`
		IsError   bool   `json:"isError"`
		Approval  string `json:"approval"`
		SentAt    string `json:"sentAt"`
		Text      string `json:"text"`
	} `json:"cases"`
	SellerTexts []string `json:"sellerTexts"`
}

var allTools = []string{"create_chat", "get_attachment", "get_chat", "get_history", "get_message", "list_cabinets", "list_chats", "send_file", "send_message", "wait_for_messages"}

// TestTypeScriptClient runs a seller's session through the TypeScript SDK's Client over stdio,
// Streamable HTTP and HTTP+SSE (see client.mjs), and a Client with a wrong token.
func TestTypeScriptClient(t *testing.T) {
	tools := need(t)
	const token = "interop-ts-5b27c4e9"
	// The user has 3 seconds to answer, so that the question nobody answers ends soon.
	const confirmFor = "MCP_CONFIRM_TIMEOUT=3s"
	base := startHTTP(t, "MCP_AUTH_TOKEN="+token, confirmFor)

	// client.mjs imports the SDK by name, which Node resolves from a node_modules beside the script.
	dir := t.TempDir()
	script, err := os.ReadFile("client.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tools.Link(dir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tools.Node(), "client.mjs")
	cmd.Dir = dir
	// The stdio server is node's child and shares its stderr; do not wait on it past node's end.
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = serverproc.Env("INTEROP_BINARY="+binary, "INTEROP_BASE_URL="+base, "INTEROP_TOKEN="+token, confirmFor)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.mjs: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	var sum tsSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("client.mjs printed no summary: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client.mjs summary:\n%s\nits stderr (with the stdio server's log):\n%s", stdout.String(), stderr.String())
		}
	})
	if want := pinned(t, "@modelcontextprotocol/sdk"); sum.SDKVersion != want {
		t.Errorf("the SDK is %s, package.json pins %s", sum.SDKVersion, want)
	}
	if !strings.HasPrefix(sum.Node, "v22.") {
		t.Errorf("client.mjs ran on Node %s, want 22", sum.Node)
	}

	namesMessage := regexp.MustCompile(`\bmessage\b`)
	for _, name := range []string{"stdio", "streamable", "sse"} {
		t.Run(name, func(t *testing.T) {
			s, ok := sum.Transports[name]
			if !ok {
				t.Fatal("no session in the summary")
			}
			if s.Error != "" {
				t.Errorf("the session broke off: %s", s.Error)
			}
			if s.Server.Name != "market-chat-mcp" {
				t.Errorf("server name %q", s.Server.Name)
			}
			if !slices.Equal(s.Tools, allTools) {
				t.Errorf("tools/list = %v, want %v", s.Tools, allTools)
			}
			called := map[string]bool{}
			for _, c := range s.Calls {
				called[c.Tool] = true
				switch {
				case c.Error != "":
					t.Errorf("%s %s: %s", c.Tool, c.Args, c.Error)
				case c.IsError:
					t.Errorf("%s %s: isError: %s", c.Tool, c.Args, c.Text)
				case !c.Structured:
					t.Errorf("%s %s: no structuredContent", c.Tool, c.Args)
				default:
					if !c.SDKValidated {
						t.Errorf("%s: the SDK's Client did not validate structuredContent against the outputSchema", c.Tool)
					}
					if len(c.SchemaErrors) > 0 {
						t.Errorf("%s: structuredContent breaks the outputSchema: %v", c.Tool, c.SchemaErrors)
					}
					if !c.TextMatches {
						t.Errorf("%s: the text content is JSON, or lacks a chat of the structured content: %s", c.Tool, c.Text)
					}
				}
			}
			for _, tool := range allTools {
				if !called[tool] {
					t.Errorf("%s was not called", tool)
				}
			}
			if !s.MessageMatches {
				t.Error("get_message did not return the last message of get_history")
			}
			if !s.SentSeen {
				t.Error("the Cyrillic message sent is not in get_history as the seller's")
			}
			if c := s.CreatedChat; c == nil || c.ChatID != c.ExistingChatID {
				t.Errorf("create_chat for the order of an existing chat = %+v, want that chat", c)
			}
			if !s.EmptyMessage.IsError || !namesMessage.MatchString(s.EmptyMessage.Text) {
				t.Errorf("send_message with an empty message = %+v, want isError naming message", s.EmptyMessage)
			}
			if !s.AttachmentImage {
				t.Error("get_attachment did not show the buyer's photo as a JPEG image")
			}
			if !s.WaitCursor {
				t.Error("wait_for_messages gave no cursor")
			}
			if !s.AjvRejectsBadOutput {
				t.Error("Ajv accepted output that breaks the schema, so its checks prove nothing")
			}
		})
	}

	// The SDK's Client declares elicitation, on 2025-11-25: over stdio and Streamable HTTP the
	// server asks before each send and does as answered; over HTTP+SSE, which cannot carry the
	// question, it sends as for a client that cannot ask (MCP_CONFIRM_SENDS=auto).
	for _, name := range []string{"stdio", "streamable", "sse"} {
		t.Run("approval/"+name, func(t *testing.T) {
			a := sum.Approvals[name]
			if a.Error != "" {
				t.Fatalf("the session broke off: %s", a.Error)
			}
			want := map[string]string{"accept": "approved", "edit": "edited", "decline": "declined", "cancel": "cancelled", "never": "unanswered"}
			for kind, status := range want {
				c, ok := a.Cases[kind]
				switch {
				case !ok:
					t.Errorf("%s: not tried", kind)
				case name == "sse" && (c.Asked != 0 || c.Approval != "" || c.SentAt == "" || c.IsError):
					t.Errorf("%s over SSE: asked %d, %+v", kind, c.Asked, c)
				case name == "sse":
				case c.Asked != 1 || !c.ShowsText || !c.Editable:
					t.Errorf("%s: asked %d times, the question shows the text %v, offers it to edit %v", kind, c.Asked, c.ShowsText, c.Editable)
				case c.IsError || c.Approval != status:
					t.Errorf("%s: approval %q, isError %v, want %s: %s", kind, c.Approval, c.IsError, status, c.Text)
				case (status == "approved" || status == "edited") != (c.SentAt != ""):
					t.Errorf("%s: sent_at %q: %s", kind, c.SentAt, c.Text)
				case c.SentAt == "" && !strings.Contains(c.Text, "was not sent"):
					t.Errorf("%s: the result does not say nothing was sent: %s", kind, c.Text)
				}
			}
			if name == "sse" {
				return
			}
			count := map[string]int{}
			for _, text := range a.SellerTexts {
				count[text]++
			}
			for text, n := range count {
				if strings.HasPrefix(text, "Черновик") {
					t.Errorf("%q reached the buyer %d times without the user's yes", text, n)
				}
			}
			if count["Принято ("+name+")"] != 1 || count["Исправлено пользователем ("+name+")"] != 1 {
				t.Errorf("the approved and the edited message reached the buyer %d and %d times, want once each", count["Принято ("+name+")"], count["Исправлено пользователем ("+name+")"])
			}
		})
	}

	t.Run("wrong token", func(t *testing.T) {
		for _, name := range []string{"streamable", "sse"} {
			if r := sum.WrongToken[name]; !r.Refused || r.Status != 401 {
				t.Errorf("%s with a wrong token: %+v, want refused with 401", name, r)
			}
		}
	})
}
