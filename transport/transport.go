// Package transport serves an MCP server over stdio, or over HTTP: Streamable HTTP at /mcp and
// the older HTTP+SSE transport at /sse and /message, on one listener, with /healthz beside them.
package transport

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Paths of the HTTP endpoints.
const (
	PathStreamable = "/mcp"
	PathSSE        = "/sse"
	PathMessage    = "/message"
	PathHealth     = "/healthz"
)

// Bounds of the HTTP transport.
const (
	// headerTimeout bounds how long a client may take to send a request's headers.
	headerTimeout = 10 * time.Second
	// DefaultBodyTimeout bounds how long a client may take to send a request's body, counted
	// from the request's start.
	DefaultBodyTimeout = 30 * time.Second
	// idleTimeout closes a kept-alive connection that carries no request.
	idleTimeout = 2 * time.Minute
	// shutdownGrace is how long calls in progress may take to finish once the server stops;
	// after it they are cancelled, and given finishGrace to say so.
	shutdownGrace = 5 * time.Second
	finishGrace   = 2 * time.Second
	// sessionIdleTTL is how long the state of a Streamable HTTP session that sends nothing is kept.
	sessionIdleTTL = 30 * time.Minute
)

// Stdio serves s over in and out until in ends or ctx is done. When ctx ends, calls in progress
// are cancelled and end with what they could tell.
func Stdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, logger *slog.Logger) error {
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	err := stdio.Listen(ctx, newIDReader(in), idWriter{out})
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// Options configure the HTTP endpoints.
type Options struct {
	// AuthToken, when set, must come with every request to an MCP endpoint as
	// Authorization: Bearer. /healthz stays open.
	AuthToken string
	// AllowedOrigins are the browser origins (e.g. "https://app.example.com") allowed besides the
	// server's own; "*" allows any. Requests without an Origin header come from no web page.
	AllowedOrigins []string
	// BodyTimeout bounds how long a request's body may take to arrive; zero means
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// Routes are endpoints besides MCP's, such as Market's push notifications. They are behind
	// the deadlines, but not behind the token or the Origin and Host checks: their callers are
	// no MCP clients and no browsers, and the handlers check them.
	Routes []Route
	// Stateless makes Streamable HTTP keep no sessions, so that any replica behind a load
	// balancer can answer any request. Clients before 2026-07-28 then cannot be sent requests
	// of the server's own (such as a question for the user), and HTTP+SSE, which is a session,
	// needs a balancer that keeps each client on one replica.
	Stateless bool
	Logger    *slog.Logger
}

// Route is an endpoint besides MCP's. Its handler gets the body read in full, of at most
// MaxBody bytes; a longer one is refused.
type Route struct {
	Path    string
	Handler http.Handler
	MaxBody int64
}

// HTTP serves the MCP endpoints.
type HTTP struct {
	streamable  *server.StreamableHTTPServer
	sse         *server.SSEServer
	mux         *http.ServeMux
	sessions    *sessions
	calls       *calls
	bodyTimeout time.Duration
	log         *slog.Logger
}

// NewHTTP returns the HTTP endpoints of s. It makes s's tool calls end when the server stops
// (see Serve).
func NewHTTP(s *server.MCPServer, o Options) *HTTP {
	h := &HTTP{
		mux:         http.NewServeMux(),
		sessions:    newSessions(),
		calls:       newCalls(o.Logger),
		bodyTimeout: cmp.Or(o.BodyTimeout, DefaultBodyTimeout),
		log:         o.Logger,
	}
	s.Use(h.calls.track)
	streamable := []server.StreamableHTTPOption{
		server.WithEndpointPath(PathStreamable),
		server.WithStreamableHTTPLogger(o.Logger),
		// Replaying from a store delivers every notification a tool sends before its result.
		server.WithEventStore(server.NewInMemoryEventStore()),
		server.WithSessionIdleTTL(sessionIdleTTL),
		server.WithSessionIdManager(h.sessions),
	}
	if o.Stateless {
		streamable = append(streamable, server.WithStateLess(true))
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
	h.streamable = server.NewStreamableHTTPServer(s, streamable...)
	h.sse = server.NewSSEServer(s, sse...)
	g := newGuard(o.AuthToken, o.AllowedOrigins)
	if o.Stateless {
		h.mux.Handle(PathStreamable, g.private(h.streamable))
	} else {
		h.mux.Handle(PathStreamable, g.private(h.sessions.check(h.streamable)))
	}
	h.mux.Handle(PathSSE, g.private(h.sse))
	h.mux.Handle(PathMessage, g.private(h.sse))
	for _, rt := range o.Routes {
		h.mux.Handle(rt.Path, bounded(rt))
	}
	h.mux.Handle("GET "+PathHealth, g.public(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})))
	return h
}

// bounded hands a route its request with the body read in full.
func bounded(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.MaxBody))
			if err != nil {
				refuseBody(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rt.Handler.ServeHTTP(w, r)
	})
}

// ServeHTTP routes a request to its endpoint. Every request must arrive whole within the body
// timeout, counted from its start; the endpoints that stream lift the deadline once the body is
// in. A request no endpoint takes is answered and its connection closed, unread.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.bodyTimeout))
	handler, pattern := h.mux.Handler(r)
	if pattern == "" {
		closeUnreadBody(w, r)
	}
	handler.ServeHTTP(w, r)
}

// Close ends every open session, so that streams do not hold a shutdown up.
func (h *HTTP) Close(ctx context.Context) {
	h.sse.CloseSessions()
	_ = h.streamable.Shutdown(ctx)
}

// Serve serves h on ln until ctx is done, and then stops: it takes no new connections, lets
// the calls in progress finish for a few seconds, cancels those that have not (a send then ends
// unconfirmed, and its chat is logged), closes the sessions and returns nil.
func (h *HTTP) Serve(ctx context.Context, ln net.Listener, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       idleTimeout,
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

	_ = ln.Close() // no new connections; the open ones may still finish their calls
	if n := h.calls.running(); n > 0 {
		logger.Info("stopping: waiting for calls in progress", "calls", n, "grace", shutdownGrace)
	}
	if !h.calls.waitIdle(shutdownGrace) {
		logger.Warn("stopping: cancelling the calls still in progress", "calls", h.calls.running())
		h.calls.stop()
		h.calls.waitIdle(finishGrace)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), finishGrace)
	defer cancel()
	h.Close(closeCtx)
	if err := srv.Shutdown(closeCtx); err != nil {
		_ = srv.Close() // connections that outlived the grace period are cut
	}
	<-done
	return nil
}

// calls follows the tool calls in progress, so that a stop can wait for them, and cancel them.
type calls struct {
	ctx  context.Context // done when the calls must end
	stop context.CancelFunc
	log  *slog.Logger

	mu   sync.Mutex
	n    int           // calls running
	idle chan struct{} // closed while none runs
}

func newCalls(logger *slog.Logger) *calls {
	ctx, stop := context.WithCancel(context.Background())
	c := &calls{ctx: ctx, stop: stop, log: logger, idle: make(chan struct{})}
	close(c.idle)
	return c
}

func (c *calls) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n++; c.n == 1 {
		c.idle = make(chan struct{})
	}
}

func (c *calls) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		close(c.idle)
	}
}

func (c *calls) running() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitIdle waits up to d for no call to be running and reports whether none is.
func (c *calls) waitIdle(d time.Duration) bool {
	c.mu.Lock()
	idle := c.idle
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}

// track is tool middleware: the call is counted while it runs and ends when the calls are
// stopped. A call cut short that way is logged with its result, which for a send says whether
// the buyer may have it.
func (c *calls) track(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c.begin()
		defer c.end()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(c.ctx, cancel)()
		res, err := next(ctx, req)
		if c.ctx.Err() != nil && res != nil && res.IsError {
			attrs := []any{"tool", req.Params.Name}
			if chat, ok := req.GetArguments()["chat_id"]; ok {
				attrs = append(attrs, "chat_id", chat)
			}
			for _, content := range res.Content {
				if text, ok := content.(mcp.TextContent); ok {
					attrs = append(attrs, "result", text.Text)
				}
			}
			c.log.Warn("a call was cut short by the server's stop", attrs...)
		}
		return res, err
	}
}
