package transport

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/memnet"
)

const token = "transport-test-token"

// serve runs the HTTP endpoints of an empty MCP server on an in-memory listener until the test
// ends, and returns the listener to dial.
func serve(t *testing.T) *memnet.Listener {
	t.Helper()
	h := NewHTTP(server.NewMCPServer("test", "0"), Options{AuthToken: token, Logger: slog.New(slog.DiscardHandler)})
	ln := memnet.Listen()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln
}

// exchange writes a raw request on a new connection and reads the answer, then reports how long
// the connection took to close after it.
func exchange(t *testing.T, ln *memnet.Listener, raw string) (status int, closedAfter time.Duration) {
	t.Helper()
	conn, err := ln.Dial(context.Background(), "tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go io.WriteString(conn, raw) // a pipe takes the write only as the server reads it
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	answered := time.Now()
	if _, err := br.ReadByte(); err != io.EOF && !isClosed(err) {
		t.Errorf("%q: after the answer: %v, want the connection closed", raw, err)
	}
	return resp.StatusCode, time.Since(answered)
}

func isClosed(err error) bool { return err != nil && strings.Contains(err.Error(), "closed") }

// TestEveryRequestEnds: a request whose body never comes holds its connection for at most the
// body timeout, whatever it is refused for, and a refusal written before the body closes the
// connection at once rather than waiting to drain the body.
func TestEveryRequestEnds(t *testing.T) {
	for _, tt := range []struct {
		name   string
		raw    string
		status int
		after  time.Duration // when the answer comes, from the start
	}{
		{"no token", "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n", 401, 0},
		{"wrong token", "POST /sse HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\nContent-Length: 100\r\n\r\n", 401, 0},
		{"foreign origin", "POST /mcp HTTP/1.1\r\nHost: localhost\r\nOrigin: https://evil.example\r\nContent-Length: 100\r\n\r\n", 403, 0},
		{"unknown path", "POST /nothing HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n", 404, 0},
		{"health with a body", "GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n", 200, 0},
		{"wrong method on health", "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n", 405, 0},
		{"body that never comes", "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", 400, DefaultBodyTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := serve(t)
				start := time.Now()
				status, closedAfter := exchange(t, ln, tt.raw)
				if status != tt.status || time.Since(start)-closedAfter != tt.after || closedAfter != 0 {
					t.Errorf("status %d after %v, closed %v later; want %d after %v, closed at once",
						status, time.Since(start)-closedAfter, closedAfter, tt.status, tt.after)
				}
			})
		})
	}
}

// TestSessionsAreChecked: only a session the server handed out and has not ended is served.
func TestSessionsAreChecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := serve(t)
		client := &http.Client{Transport: &http.Transport{DialContext: ln.Dial}}
		defer client.CloseIdleConnections()
		post := func(session, body string) *http.Response {
			req, _ := http.NewRequest(http.MethodPost, "http://localhost/mcp", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if session != "" {
				req.Header.Set("Mcp-Session-Id", session)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		resp := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
		id := resp.Header.Get("Mcp-Session-Id")
		if resp.StatusCode != 200 || id == "" {
			t.Fatalf("initialize: %d, session %q", resp.StatusCode, id)
		}
		ping := `{"jsonrpc":"2.0","id":2,"method":"ping"}`
		if resp := post(id, ping); resp.StatusCode != 200 {
			t.Errorf("ping in the session: %d", resp.StatusCode)
		}
		if resp := post("mcp-session-00000000-0000-4000-8000-000000000000", ping); resp.StatusCode != 404 {
			t.Errorf("ping in a forged session: %d, want 404", resp.StatusCode)
		}
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			req, _ := http.NewRequest(method, "http://localhost/mcp", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Mcp-Session-Id", "mcp-session-forged")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("%s in a forged session: %d, want 404", method, resp.StatusCode)
			}
		}
		req, _ := http.NewRequest(http.MethodDelete, "http://localhost/mcp", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Mcp-Session-Id", id)
		if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
			t.Fatalf("DELETE: %v, %v", resp, err)
		}
		if resp := post(id, ping); resp.StatusCode != 404 {
			t.Errorf("ping in an ended session: %d, want 404", resp.StatusCode)
		}
	})
}

var _ net.Listener = (*memnet.Listener)(nil)
