package tools_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// rawAPI is what the sandbox's API answers to a request, in bytes.
func rawAPI(t *testing.T, h *harness, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.sandbox.URL+fmt.Sprintf("/v2/businesses/%d", h.sandbox.BusinessID)+path, strings.NewReader(body))
	req.Header.Set("Api-Key", h.sandbox.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.sandbox.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return len(b)
}

// TestTextIsCompact: the text content of list_chats is at most half the bytes of the API's
// answer for the same page, and that of get_history at most 70 %, while TestGetHistory and the
// harness check that it shows every id, time, status, sender, text and file.
func TestTextIsCompact(t *testing.T) {
	h := newHarness(t, false, nil)
	long := longestChat(h.sandbox)
	for _, tt := range []struct {
		tool, path, body string
		args             map[string]any
		most             float64
	}{
		{"list_chats", "/chats?limit=20", "{}", map[string]any{"limit": 20}, 0.5},
		{"get_history", fmt.Sprintf("/chats/history?chatId=%d&limit=100", long), "{}", map[string]any{"chat_id": long, "limit": 100}, 0.7},
	} {
		raw := rawAPI(t, h, tt.path, tt.body)
		res, err := h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tt.tool, Arguments: tt.args}})
		if err != nil {
			t.Fatal(err)
		}
		text := res.Content[0].(mcp.TextContent).Text
		ratio := float64(len(text)) / float64(raw)
		t.Logf("%s: text %d bytes, API answer %d bytes: %.1f %%", tt.tool, len(text), raw, 100*ratio)
		if ratio > tt.most {
			t.Errorf("%s: text is %.1f %% of the API's answer, over %.0f %%", tt.tool, 100*ratio, 100*tt.most)
		}
	}
}
