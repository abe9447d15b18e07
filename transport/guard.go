package transport

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxBodyBytes caps a request body: a send_file call carries at most 5 MB as base64 (about
// 7 MB), plus a little JSON.
const MaxBodyBytes = 8 << 20

// guard checks every HTTP request before an MCP endpoint sees it: the Host and Origin headers
// (so that a web page cannot reach a server on localhost, directly or by DNS rebinding), the
// bearer token, and the body's size and pace.
type guard struct {
	tokenHash      [sha256.Size]byte // of the expected token; the token itself is not kept
	requireToken   bool
	allowedOrigins []string
}

func newGuard(token string, allowedOrigins []string) *guard {
	g := &guard{requireToken: token != "", allowedOrigins: allowedOrigins}
	g.tokenHash = sha256.Sum256([]byte(token))
	return g
}

// public lets a request through once Host and Origin are fine: for /healthz.
func (g *guard) public(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.refuseSite(w, r) {
			return
		}
		closeUnreadBody(w, r) // the answer needs no body, so none is waited for
		next.ServeHTTP(w, r)
	})
}

// private lets a request through once it also carries the bearer token, and hands on its body
// read in full, with ids that mcp-go would change marked (see encodeIDs).
func (g *guard) private(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.refuseSite(w, r) {
			return
		}
		// A CORS preflight carries no credentials by design; an allowed origin's is answered by
		// the MCP handler, which knows the CORS settings.
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
			closeUnreadBody(w, r)
			next.ServeHTTP(w, r)
			return
		}
		if g.requireToken && !g.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="market-chat-mcp"`)
			refuse(w, r, http.StatusUnauthorized, "Unauthorized: send the server's token as Authorization: Bearer <MCP_AUTH_TOKEN>")
			return
		}
		r.Header.Del("Authorization") // nothing past this point needs it, so nothing can leak it
		if err := readBody(w, r); err != nil {
			refuseBody(w, r, err)
			return
		}
		next.ServeHTTP(idResponseWriter{w}, r)
	})
}

// refuse answers a request without reading (the rest of) its body, and closes the connection:
// net/http would otherwise wait for that body to drain it, as long as a client cares to hold it.
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	closeUnreadBody(w, r)
	http.Error(w, msg, status)
}

// refuseBody answers a request whose body could not be read: too large, or too slow.
func refuseBody(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	if errors.As(err, new(*http.MaxBytesError)) {
		status = http.StatusRequestEntityTooLarge
	}
	refuse(w, r, status, "reading the request body: "+err.Error())
}

// closeUnreadBody makes the connection close right after the answer if the request has a body
// that nothing will read. net/http drains such a body before it closes a connection, as long as
// the body takes to come: the read deadline moved to now ends that at once.
func closeUnreadBody(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
}

// authorized compares the presented token with the expected one in constant time; hashing
// first makes the time independent of the lengths too.
func (g *guard) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], g.tokenHash[:]) == 1
}

// refuseSite answers 403 to a request that a web page may have made: one whose Origin is
// neither the server itself nor an allowed origin, or one that reached a loopback address under
// another host's name (DNS rebinding).
func (g *guard) refuseSite(w http.ResponseWriter, r *http.Request) bool {
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && isLoopback(local.String()) && !isLoopback(r.Host) {
		refuse(w, r, http.StatusForbidden, fmt.Sprintf("Forbidden: Host %q is not this server's", r.Host))
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(g.allowedOrigins, origin) || slices.Contains(g.allowedOrigins, "*") {
		return false
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return false // the server's own pages
	}
	refuse(w, r, http.StatusForbidden, fmt.Sprintf("Forbidden: Origin %q is not allowed (see MCP_ALLOWED_ORIGINS)", origin))
	return true
}

// readBody reads the body in full, at most MaxBodyBytes, within the read deadline that
// HTTP.ServeHTTP set, and then lifts the deadline so that a long answer stream is not cut by
// it. On an error the deadline stays, so that nothing after it waits longer.
func readBody(w http.ResponseWriter, r *http.Request) error {
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(encodeIDs(body)))
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	return nil
}

// isLoopback reports whether a host or host:port names the loopback interface.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.Trim(hostport, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
