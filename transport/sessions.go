package transport

import (
	"crypto/rand"
	"errors"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// sessions are the Streamable HTTP sessions the server handed out and has not ended. mcp-go's
// default manager takes any well-formed id, so that a forged one would be served (and kept for
// the idle timeout) and an ended one would go on working; this one knows only its own.
type sessions struct {
	mu   sync.Mutex
	live map[string]struct{}
}

var _ server.SessionIdManager = (*sessions)(nil)

func newSessions() *sessions { return &sessions{live: make(map[string]struct{})} }

// Generate hands out a new session id.
func (s *sessions) Generate() string {
	id := "mcp-session-" + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live[id] = struct{}{}
	return id
}

var errUnknownSession = errors.New("unknown or ended session")

// Validate accepts only a session that is live; mcp-go answers 404 to the others.
func (s *sessions) Validate(id string) (isTerminated bool, err error) {
	if !s.known(id) {
		return false, errUnknownSession
	}
	return false, nil
}

// Terminate ends a session, at the client's DELETE or when it has been idle too long.
func (s *sessions) Terminate(id string) (isNotAllowed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, id)
	return false, nil
}

func (s *sessions) known(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.live[id]
	return ok
}

// check answers 404 to a GET or DELETE that names a session that is not live, which mcp-go
// does not check for those methods; it checks POSTs itself through Validate.
func (s *sessions) check(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(server.HeaderKeySessionID); id != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete) && !s.known(id) {
			http.Error(w, "Not Found: no such session; start one with initialize", http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}
