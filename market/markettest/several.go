package markettest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
)

// Join serves several businesses at one address, as the one Partner API serves every seller's,
// each a Server with its own key, chats and limits. A request goes to the Server whose
// credentials it carries, which answers 403 "Access denied" to a path of another business as
// Market does; one whose credentials are no Server's goes to the Server of the business its path
// names (or the first), which refuses them. Make the servers with NewHandler at the address Join
// is served at, each with its own WithBusinessID and WithAPIKey.
func Join(servers ...*Server) http.Handler {
	byBusiness := make(map[int64]*Server, len(servers))
	for _, s := range servers {
		byBusiness[s.BusinessID] = s
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, s := range servers {
			if s.authorize(r) == nil {
				s.serveHTTP(w, r)
				return
			}
		}
		to := servers[0]
		if _, business, _ := findOperation(r.Method, r.URL.Path); business != "" {
			id, _ := strconv.ParseInt(business, 10, 64)
			if s := byBusiness[id]; s != nil {
				to = s
			}
		}
		to.serveHTTP(w, r)
	})
}

// Market is several Servers joined at one loopback address (see Join): a sandbox of several
// businesses.
type Market struct {
	// URL is the base URL of the API, with no trailing slash.
	URL string
	// Servers are the businesses, in the order they were given.
	Servers []*Server
	ts      *httptest.Server
}

// NewMarket starts a Market of one business for each set of options. Close it when done.
func NewMarket(businesses ...[]Option) *Market {
	m := &Market{}
	m.ts = httptest.NewUnstartedServer(nil)
	m.URL = "http://" + m.ts.Listener.Addr().String()
	for _, opts := range businesses {
		m.Servers = append(m.Servers, NewHandler(m.URL, opts...))
	}
	m.ts.Config.Handler = Join(m.Servers...)
	m.ts.Start()
	return m
}

// Close stops every business and the listener.
func (m *Market) Close() {
	m.ts.Close()
	for _, s := range m.Servers {
		s.Close()
	}
}
