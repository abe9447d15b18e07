package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/transport"
)

// TestHealth runs the image's health check against listeners that are up, failing and gone.
func TestHealth(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != transport.PathHealth {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := strings.Cut(addr, ":")
	for _, tc := range []struct {
		name, addr string
		status     int
		code       int
	}{
		{"up", addr, http.StatusOK, 0},
		{"every address is asked on loopback", "0.0.0.0:" + port, http.StatusOK, 0},
		{"failing", addr, http.StatusServiceUnavailable, 1},
		{"bad address", "no port", http.StatusOK, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status = tc.status
			t.Setenv("MCP_ADDR", tc.addr)
			var stdout, stderr bytes.Buffer
			if code := run(t.Context(), []string{"health"}, nil, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d; said %q %q", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
	srv.Close()
	t.Setenv("MCP_ADDR", addr)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"health"}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("with nothing listening: exit %d, want 1", code)
	}
}
