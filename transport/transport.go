// Package transport serves an MCP server over stdio, or over HTTP: Streamable HTTP at /mcp and
// the older HTTP+SSE transport at /sse and /message, on one listener, with /healthz beside them.
package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Paths of the HTTP endpoints.
const (
	PathStreamable = "/mcp"
	PathSSE        = "/sse"
	PathMessage    = "/message"
	PathHealth     = "/healthz"
)

// shutdownGrace bounds how long open requests may take to finish once the server stops.
const shutdownGrace = 5 * time.Second

// Stdio serves s over in and out until in ends or ctx is done.
func Stdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, logger *slog.Logger) error {
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	err := stdio.Listen(ctx, in, out)
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// sessionIdleTTL is how long the state of a Streamable HTTP session that sends nothing is kept.
const sessionIdleTTL = 30 * time.Minute

// Options configure the HTTP endpoints.
type Options struct {
	// AuthToken, when set, must come with every request to an MCP endpoint as
	// Authorization: Bearer. /healthz stays open.
	AuthToken string
	// AllowedOrigins are the browser origins (e.g. "https://app.example.com") allowed besides the
	// server's own; "*" allows any. Requests without an Origin header come from no web page.
	AllowedOrigins []string
	Logger         *slog.Logger
}

// HTTP serves the MCP endpoints.
type HTTP struct {
	streamable *server.StreamableHTTPServer
	sse        *server.SSEServer
	mux        *http.ServeMux
}

// NewHTTP returns the HTTP endpoints of s.
func NewHTTP(s *server.MCPServer, o Options) *HTTP {
	streamable := []server.StreamableHTTPOption{
		server.WithEndpointPath(PathStreamable),
		server.WithStreamableHTTPLogger(o.Logger),
		// Replaying from a store delivers every notification a tool sends before its result.
		server.WithEventStore(server.NewInMemoryEventStore()),
		server.WithSessionIdleTTL(sessionIdleTTL),
	}
	sse := []server.SSEOption{
		server.WithSSEEndpoint(PathSSE),
		server.WithMessageEndpoint(PathMessage),
		server.WithKeepAlive(true),
	}
	if len(o.AllowedOrigins) > 0 {
		cors := []server.CORSOption{
			server.WithCORSAllowedOrigins(o.AllowedOrigins...),
			server.WithCORSAllowedHeaders("Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID"),
			server.WithCORSExposedHeaders("Mcp-Session-Id"),
		}
		streamable = append(streamable, server.WithStreamableHTTPCORS(cors...))
		sse = append(sse, server.WithSSECORS(cors...))
	}
	h := &HTTP{
		streamable: server.NewStreamableHTTPServer(s, streamable...),
		sse:        server.NewSSEServer(s, sse...),
		mux:        http.NewServeMux(),
	}
	g := newGuard(o.AuthToken, o.AllowedOrigins)
	h.mux.Handle(PathStreamable, g.private(h.streamable))
	h.mux.Handle(PathSSE, g.private(h.sse))
	h.mux.Handle(PathMessage, g.private(h.sse))
	h.mux.Handle("GET "+PathHealth, g.public(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})))
	return h
}

// ServeHTTP routes a request to its endpoint.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Close ends every open session, so that streams do not hold a shutdown up.
func (h *HTTP) Close(ctx context.Context) {
	h.sse.CloseSessions()
	_ = h.streamable.Shutdown(ctx)
}

// Serve serves h on ln until ctx is done, then closes the sessions and waits for open requests
// for a few seconds.
func (h *HTTP) Serve(ctx context.Context, ln net.Listener, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	logger.Info("serving MCP over HTTP", "streamable", "http://"+ln.Addr().String()+PathStreamable,
		"sse", "http://"+ln.Addr().String()+PathSSE)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	h.Close(shutdownCtx)
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		_ = srv.Close() // requests that outlived the grace period are cut
	}
	<-done
	return err
}
