package transport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echo answers 200 with the body it got and whether an Authorization header reached it.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Saw-Authorization", r.Header.Get("Authorization"))
	_, _ = w.Write(body)
})

func TestGuard(t *testing.T) {
	g := newGuard("s3cret-token", []string{"https://app.example.com"})
	mux := http.NewServeMux()
	mux.Handle("/mcp", g.private(echo))
	mux.Handle("/healthz", g.public(echo))
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	defer srv.Close()

	tests := []struct {
		name    string
		path    string
		method  string
		header  map[string]string
		host    string
		body    string
		status  int
		authHdr string // WWW-Authenticate expected
	}{
		{name: "no token", path: "/mcp", status: 401, authHdr: "Bearer"},
		{name: "wrong token", path: "/mcp", header: map[string]string{"Authorization": "Bearer nope"}, status: 401, authHdr: "Bearer"},
		{name: "token without scheme", path: "/mcp", header: map[string]string{"Authorization": "s3cret-token"}, status: 401},
		{name: "token prefix", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret"}, status: 401},
		{name: "right token", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret-token"}, body: "{}", status: 200},
		{name: "scheme in any case", path: "/mcp", header: map[string]string{"Authorization": "bearer s3cret-token"}, status: 200},
		{name: "health needs no token", path: "/healthz", status: 200},
		{name: "foreign origin", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret-token", "Origin": "https://evil.example"}, status: 403},
		{name: "foreign origin on health", path: "/healthz", header: map[string]string{"Origin": "http://evil.example"}, status: 403},
		{name: "allowed origin", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret-token", "Origin": "https://app.example.com"}, status: 200},
		{name: "own origin", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret-token", "Origin": srv.URL}, status: 200},
		{name: "preflight of an allowed origin needs no token", path: "/mcp", method: http.MethodOptions, header: map[string]string{"Origin": "https://app.example.com"}, status: 200},
		{name: "preflight of a foreign origin", path: "/mcp", method: http.MethodOptions, header: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "rebinding", path: "/mcp", host: "attacker.example:8080", header: map[string]string{"Authorization": "Bearer s3cret-token"}, status: 403},
		{name: "localhost by name", path: "/mcp", host: "localhost:8080", header: map[string]string{"Authorization": "Bearer s3cret-token"}, status: 200},
		{name: "body over the cap", path: "/mcp", header: map[string]string{"Authorization": "Bearer s3cret-token"}, body: strings.Repeat("x", MaxBodyBytes+1), status: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, srv.URL+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.authHdr != "" && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), tt.authHdr) {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(body), "s3cret") {
				t.Errorf("the answer shows the token: %s", body)
			}
			if resp.StatusCode == 200 && tt.path == "/mcp" && method == http.MethodPost {
				if got := resp.Header.Get("X-Saw-Authorization"); got != "" {
					t.Errorf("the MCP handler saw Authorization %q", got)
				}
				if string(body) != tt.body {
					t.Errorf("the MCP handler got body %q, want %q", body, tt.body)
				}
			}
		})
	}
}

func TestNoTokenMeansOpen(t *testing.T) {
	srv := httptest.NewServer(newGuard("", nil).private(echo))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}
