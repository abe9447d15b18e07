// Command floor is the least MCP server that mark3labs/mcp-go makes of list_chats and
// get_history: each tool sends its request to the Partner API as it comes and answers with the
// API's answer as text, with no checks, limits, retries or projections. The benchmark runs it
// beside market-chat-mcp to show what the library and net/http alone cost at start-up, in memory,
// in latency and in throughput.
//
// It serves stdio, or with --http Streamable HTTP at /mcp on a free loopback port, which it names
// on stderr. It takes the server's YANDEX_MARKET_BASE_URL, YANDEX_MARKET_API_KEY and
// YANDEX_MARKET_BUSINESS_ID.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	api := os.Getenv("YANDEX_MARKET_BASE_URL") + "/v2/businesses/" + os.Getenv("YANDEX_MARKET_BUSINESS_ID")
	key := os.Getenv("YANDEX_MARKET_API_KEY")
	// passOn makes a tool that posts body(req) to the API's path?query(req).
	passOn := func(path string, query func(mcp.CallToolRequest) string, body func(mcp.CallToolRequest) []byte) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, api+path+"?"+query(req), bytes.NewReader(body(req)))
			if err != nil {
				return nil, err
			}
			hr.Header.Set("Api-Key", key)
			hr.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			answer, err := io.ReadAll(resp.Body)
			if err != nil {
				return nil, err
			}
			return mcp.NewToolResultText(string(answer)), nil
		}
	}
	none := func(mcp.CallToolRequest) string { return "" }
	s := server.NewMCPServer("floor", "0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("list_chats"), passOn("/chats", none,
		func(req mcp.CallToolRequest) []byte { return req.Params.RawArguments }))
	s.AddTool(mcp.NewTool("get_history"), passOn("/chats/history",
		func(req mcp.CallToolRequest) string { return "chatId=" + strconv.Itoa(req.GetInt("chat_id", 0)) },
		func(mcp.CallToolRequest) []byte { return []byte("{}") }))

	if len(os.Args) < 2 || os.Args[1] != "--http" {
		if err := server.ServeStdio(s); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "serving MCP over Streamable HTTP at http://%s/mcp\n", ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/mcp", server.NewStreamableHTTPServer(s))
	fmt.Fprintln(os.Stderr, "floor:", http.Serve(ln, mux))
	os.Exit(1)
}
