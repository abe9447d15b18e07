package market_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// fileHost is an HTTPS server that stands for every host a download may reach: a certificate
// for Yandex's domains and for evil.example, and whatever address the test's resolver gives.
type fileHost struct {
	*httptest.Server
	roots *x509.CertPool

	mu   sync.Mutex
	seen []*http.Request // the requests, in order
}

func newFileHost(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *fileHost {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test files"},
		DNSNames:  []string{"*.messenger.yandex.net", "*.yandex.net", "*.yandex.ru", "evil.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	h := &fileHost{roots: x509.NewCertPool()}
	h.roots.AddCert(cert)
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen = append(h.seen, r.Clone(context.Background()))
		h.mu.Unlock()
		handler(w, r)
	}))
	h.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	h.Config.ErrorLog = log.New(io.Discard, "", 0)
	h.StartTLS()
	t.Cleanup(h.Close)
	return h
}

func (h *fileHost) requests() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}

// options reach the file host at any address the resolver gives, which is public unless the
// host's name starts with "private".
func (h *fileHost) options() market.DownloadOptions {
	return market.DownloadOptions{
		Resolver: market.ResolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
			if strings.HasPrefix(host, "private") {
				return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
			}
			return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
		}),
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, h.Listener.Addr().String())
		},
		TLS: &tls.Config{RootCAs: h.roots},
	}
}

// withFile adds a buyer's message with a file at link to a chat of s and returns its id.
func withFile(t *testing.T, s *markettest.Server, link string, size int) (chat, message int64) {
	t.Helper()
	chat = openChat(t, s).ChatID
	m, _ := s.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: "Вот фото",
		Payload: []markettest.Attachment{{Name: "фото.jpg", URL: link, Size: size}}})
	return chat, m.MessageID
}

const secretLink = "https://files.messenger.yandex.net/file/s3cr3t-capability-token"

func TestDownloadCredentials(t *testing.T) {
	photo := []byte("\xff\xd8\xff\xe0 photo")
	for _, tt := range []struct {
		name    string
		oauth   string
		accepts func(r *http.Request) bool
		tried   int    // requests made
		want    string // the error, if the download fails
	}{
		{"a link that needs no credential", "", func(*http.Request) bool { return true }, 1, ""},
		{"a host that wants the Api-Key", "", func(r *http.Request) bool { return r.Header.Get("Api-Key") != "" }, 2, ""},
		{"a host that wants the OAuth token", "y0_oauthTokenForFiles", func(r *http.Request) bool { return r.Header.Get("Authorization") == "OAuth y0_oauthTokenForFiles" }, 3, ""},
		{"a host that refuses everything", "", func(*http.Request) bool { return false }, 2, "without a credential: 403; with the Api-Key: 403"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			host := newFileHost(t, func(w http.ResponseWriter, r *http.Request) {
				if !tt.accepts(r) {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				w.Header().Set("Content-Type", "image/jpeg")
				w.Write(photo)
			})
			s := newServer(t)
			c := newClient(t, s, func(o *market.Options) { o.OAuthToken = tt.oauth; o.Download = host.options() })
			chat, msg := withFile(t, s, secretLink, len(photo))
			f, err := c.Download(t.Context(), chat, msg, 0)
			if tt.want == "" {
				if err != nil || !bytes.Equal(f.Data, photo) || f.ContentType != "image/jpeg" || f.Name != "фото.jpg" {
					t.Fatalf("Download = %+v, %v", f, err)
				}
			} else {
				var de *market.DownloadError
				if !errors.As(err, &de) || !de.Refused || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a refusal: %s", err, tt.want)
				}
			}
			reqs := host.requests()
			if len(reqs) != tt.tried || reqs[0].Header.Get("Api-Key") != "" || reqs[0].Header.Get("Authorization") != "" {
				t.Errorf("%d requests, the first with credentials %q %q; want %d, the first without", len(reqs), reqs[0].Header.Get("Api-Key"), reqs[0].Header.Get("Authorization"), tt.tried)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error shows the link: %v", err)
			}
		})
	}
}

func TestDownloadRules(t *testing.T) {
	big := bytes.Repeat([]byte{1}, market.MaxFileSize+1)
	host := newFileHost(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/elsewhere":
			http.Redirect(w, r, "https://evil.example/steal", http.StatusFound)
		case "/plain":
			http.Redirect(w, r, "http://files.messenger.yandex.net/file", http.StatusFound)
		case "/other-yandex":
			if r.Header.Get("Api-Key") == "" && r.Host == "files.messenger.yandex.net" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "https://cdn.yandex.ru/file", http.StatusFound)
		case "/big":
			w.Write(big)
		case "/big-chunked":
			w.Header().Set("Transfer-Encoding", "chunked")
			w.(http.Flusher).Flush()
			w.Write(big)
		default:
			w.Write([]byte("ok"))
		}
	})
	for _, tt := range []struct {
		name, link string
		want       string
		requests   int
	}{
		{"plain http", "http://files.messenger.yandex.net/file", "over http, not HTTPS", 0},
		{"a host that is not Yandex's", "https://evil.example/file", "evil.example, which is not Yandex's", 0},
		{"a look-alike host", "https://files.messenger.yandex.net.evil.example/file", "which is not Yandex's", 0},
		{"a private address", "https://private.yandex.net/file", "no public address", 0},
		{"a redirect elsewhere", "https://files.messenger.yandex.net/elsewhere", "redirected to a link to evil.example", 1},
		{"a redirect to plain http", "https://files.messenger.yandex.net/plain", "redirected to a link to files.messenger.yandex.net over http", 1},
		{"too large", "https://files.messenger.yandex.net/big", "over 5 MB", 1},
		{"too large, without a length", "https://files.messenger.yandex.net/big-chunked", "over 5 MB", 1},
		{"a redirect within Yandex", "https://files.messenger.yandex.net/other-yandex", "", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(host.requests())
			s := newServer(t)
			c := newClient(t, s, func(o *market.Options) { o.Download = host.options() })
			chat, msg := withFile(t, s, tt.link, 10)
			_, err := c.Download(t.Context(), chat, msg, 0)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			reqs := host.requests()[before:]
			if len(reqs) != tt.requests {
				t.Errorf("%d requests, want %d", len(reqs), tt.requests)
			}
			for _, r := range reqs {
				if r.Host == "evil.example" || r.Host == "cdn.yandex.ru" && r.Header.Get("Api-Key") != "" {
					t.Errorf("the Api-Key went to %s", r.Host)
				}
			}
		})
	}
}

func TestDownloadOfWhatIsNotThere(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat, msg := withFile(t, s, secretLink, 10)
	var none *market.NoAttachmentError
	if _, err := c.Download(t.Context(), chat, msg, 1); !errors.As(err, &none) || none.Count != 1 || none.Index != 1 {
		t.Errorf("index past the attachments: %v", err)
	}
	plain, _ := s.AddMessage(chat, markettest.Message{Sender: markettest.SenderCustomer, Message: "без файлов"})
	if _, err := c.Download(t.Context(), chat, plain.MessageID, 0); !errors.As(err, &none) || none.Count != 0 {
		t.Errorf("a message without attachments: %v", err)
	}
	var api *market.APIError
	if _, err := c.Download(t.Context(), chat, 1, 0); !errors.As(err, &api) || api.Status != 404 {
		t.Errorf("a missing message: %v", err)
	}
}
