package markettest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/memnet"
)

// filesPath is where the server serves the files sent to chats: {URL}/files/{id}/{name}.
const filesPath = "/files/"

// Server is an in-memory Partner API for one business, serving the seven chat operations over
// HTTP. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the API, with no trailing slash, e.g. "http://127.0.0.1:40123".
	URL string
	// BusinessID is the business the server serves.
	BusinessID int64
	// APIKey is the Api-Key token the server accepts.
	APIKey string

	cfg    config
	store  *store // through data
	seeded sync.Once
	limits *limiter
	faults faultQueue
	log    requestLog
	life   life
	ts     *httptest.Server // set by New
	mem    *InMemory        // set by NewInMemory

	done      chan struct{}   // closed by Close
	closed    context.Context // done when Close is called, for what the server sends
	cancel    context.CancelFunc
	closeOnce sync.Once
}

// New starts a Server on a loopback port, seeded with a seller's chats unless WithoutSeed is
// given. Close it when done.
func New(opts ...Option) *Server {
	s := newServer(opts)
	s.ts = httptest.NewUnstartedServer(s.Handler())
	// The listener exists already, so the seed's file links can name it.
	s.start("http://" + s.ts.Listener.Addr().String())
	s.ts.Start()
	return s
}

// NewHandler returns a Server that does not listen: serve its Handler on a listener of your own
// at baseURL, which the links to files sent to chats start with. Close releases requests held
// by injected delays.
func NewHandler(baseURL string, opts ...Option) *Server {
	s := newServer(opts)
	s.start(strings.TrimSuffix(baseURL, "/"))
	return s
}

// InMemoryURL is the URL of every server made by NewInMemory. Nothing listens there: only the
// HTTP client of Client reaches the server.
const InMemoryURL = "http://market.invalid"

// NewInMemory starts a Server that uses no network: it serves on in-memory pipes, which the HTTP
// client that Client returns dials whatever address it is given. Started inside a
// testing/synctest bubble, everything it does runs on the bubble's clock (limit windows, fault
// delays, the times of messages), so that tests of waits take no real time. Close it before the
// bubble ends, so that its goroutines end too.
func NewInMemory(opts ...Option) *Server {
	s := newServer(opts)
	s.start(InMemoryURL)
	s.mem = ServeInMemory(s.Handler())
	return s
}

// Client returns an HTTP client that reaches the server: over loopback for a server made by
// New, through in-memory pipes for one made by NewInMemory. Each call returns a client with
// connections of its own.
func (s *Server) Client() *http.Client {
	if s.mem != nil {
		return s.mem.Client()
	}
	return &http.Client{Transport: s.ts.Client().Transport.(*http.Transport).Clone()}
}

// Dial connects to the server, whatever address it is given: for clients of the server's files
// that dial for themselves.
func (s *Server) Dial(ctx context.Context, network, _ string) (net.Conn, error) {
	if s.mem != nil {
		return s.mem.ln.Dial(ctx, network, "")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, s.ts.Listener.Addr().String())
}

// InMemory serves an HTTP handler on in-memory pipes, for tests that run in a testing/synctest
// bubble, where a real network would stop the bubble's clock.
type InMemory struct {
	ln  *memnet.Listener
	srv *http.Server
}

// ServeInMemory starts serving h in memory. Close it before the bubble ends.
func ServeInMemory(h http.Handler) *InMemory {
	m := &InMemory{ln: memnet.Listen(), srv: &http.Server{Handler: h}}
	go m.srv.Serve(m.ln) // until Close
	return m
}

// Client returns an HTTP client whose connections, to whatever address, reach the handler.
func (m *InMemory) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: m.ln.Dial}}
}

// Close stops serving and closes every connection.
func (m *InMemory) Close() { m.srv.Close() }

func newServer(opts []Option) *Server {
	cfg := newConfig(opts)
	closed, cancel := context.WithCancel(context.Background())
	return &Server{
		closed:     closed,
		cancel:     cancel,
		BusinessID: cfg.businessID,
		APIKey:     cfg.apiKey,
		cfg:        cfg,
		store:      newStore(cfg.now),
		limits:     newLimiter(cfg),
		faults:     faultQueue{byOp: make(map[string][]Fault)},
		log:        requestLog{off: cfg.noRequestLog, perOp: make(map[string]int)},
		done:       make(chan struct{}),
	}
}

func (s *Server) start(baseURL string) {
	s.URL = baseURL
	s.store.baseURL = baseURL
	s.startLife()
}

// data returns the store, seeded on first use, so that starting a server (the sandbox, at the
// start of market-chat-mcp --sandbox) does not wait for a seed that no request has asked for yet.
func (s *Server) data() *store {
	s.seeded.Do(func() {
		if !s.cfg.noSeed {
			seed(s.store, s.cfg.seedShift)
		}
	})
	return s.store
}

// Handler returns the HTTP handler that serves the API.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Close stops the server: requests held by injected delays are dropped and, for a server made by
// New, the listener is shut down.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done); s.cancel() })
	if s.ts != nil {
		s.ts.Close()
	}
	if s.mem != nil {
		s.mem.Close()
	}
	s.life.work.Wait()
}

// serveHTTP answers a request, taking the steps in the order the package documentation gives.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The answer's Date is the server's clock, which a test may have moved.
	w.Header().Set("Date", s.cfg.now().UTC().Format(http.TimeFormat))
	if rest, ok := strings.CutPrefix(r.URL.Path, filesPath); ok {
		s.log.record(r, "", nil, s.cfg.now())
		s.serveFile(w, r, rest)
		return
	}
	op, business, allowed := findOperation(r.Method, r.URL.Path)
	limit, name := maxJSONBody, ""
	if op != nil {
		limit, name = op.bodyLimit(), op.name
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	s.log.record(r, name, body, s.cfg.now())
	switch {
	case err != nil:
		writeError(w, badRequestf("Cannot read the request body: %v", err))
		return
	case op == nil && len(allowed) > 0:
		methodNotAllowed(w, r.Method, allowed...)
		return
	case op == nil:
		writeError(w, errResourceNotFound)
		return
	}
	if err := s.authorize(r); err != nil {
		writeError(w, err)
		return
	}
	if err := s.checkBusiness(business); err != nil {
		writeError(w, err)
		return
	}
	s.serveOperation(w, op, &call{r: r, op: op, query: r.URL.Query(), body: body})
}

func (s *Server) serveOperation(w http.ResponseWriter, op *operation, c *call) {
	s.limits.enter()
	defer s.limits.leave()
	if f, ok := s.faults.next(op.name); ok && s.serveFault(w, op, c, f) {
		return
	}
	reserved, refused := s.limits.admit(op, s.cfg.now())
	if refused != nil {
		refused.write(w)
		return
	}
	status, body := render(op.handle(s, c))
	s.answer(w, op, reserved, status, body)
}

// answer writes an answer of op, with the limit headers it carries.
func (s *Server) answer(w http.ResponseWriter, op *operation, reserved time.Time, status int, body []byte) {
	if h, ok := s.limits.settle(op, reserved, status, s.cfg.now()); ok {
		h.set(w.Header())
	}
	writeBody(w, status, body)
}

// authorize checks the credentials: the Api-Key token, or the deprecated OAuth token if the
// server has one. When both are sent, the Api-Key decides.
func (s *Server) authorize(r *http.Request) error {
	if key := r.Header.Get("Api-Key"); key != "" {
		if hasPrefixFold(key, "Bearer ") {
			return errorf(http.StatusUnauthorized, "Api-Key token prefix invalid")
		}
		if key != s.cfg.apiKey {
			return errorf(http.StatusUnauthorized, "Api-Key token is invalid")
		}
		return nil
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if !hasPrefixFold(auth, "Bearer ") || len(auth) == len("Bearer ") {
			return errorf(http.StatusUnauthorized, "Authorization header has invalid syntax")
		}
		if s.cfg.oauthToken == "" || auth[len("Bearer "):] != s.cfg.oauthToken {
			return errorf(http.StatusForbidden, "OAuth token is invalid")
		}
		return nil
	}
	return errorf(http.StatusUnauthorized, "Credentials are not specified")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (s *Server) checkBusiness(segment string) error {
	id, err := positive("businessId", segment)
	if err != nil {
		return err
	}
	if id != s.cfg.businessID {
		return errorf(http.StatusForbidden, "Access denied")
	}
	return nil
}

// serveFile serves a file sent to a chat, to the holders of the server's credentials.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r.Method, http.MethodGet)
		return
	}
	if err := s.authorize(r); err != nil {
		writeError(w, err)
		return
	}
	idText, name, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	f, ok := s.data().file(id)
	if err != nil || !ok || f.name != name {
		writeError(w, errResourceNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.data)))
	w.Write(f.data)
}

func methodNotAllowed(w http.ResponseWriter, method string, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, errorf(http.StatusMethodNotAllowed, "Request method '%s' is not supported", method))
}
