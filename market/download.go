package market

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Downloads of the files attached to messages.
//
// A file's link comes from the message, never from the caller, and it is followed only to
// Yandex's own hosts over HTTPS, or to the configured base URL's host (a local stand-in of the
// API). Every redirect is checked by the same rule, no address that is private, loopback or
// otherwise not public is dialled unless it is the base URL's host, at most MaxFileSize bytes
// are read, and a credential never goes to another host than the one it was offered to.
//
// How Market authenticates these downloads is not documented. The client first asks without a
// credential (a link that works alone needs none, and then none is exposed), then with the
// Api-Key, and then with the OAuth token, as "OAuth <token>" and as "Bearer <token>", for each
// one that is configured: a public integration found that buyers' files needed the seller's
// OAuth token.

// yandexDomains are the domains whose hosts a file may be downloaded from.
var yandexDomains = []string{"yandex.net", "yandex.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.uz", "yastatic.net", "yandexcloud.net"}

// downloadTimeout bounds one download, redirects and all.
const downloadTimeout = 30 * time.Second

// maxRedirects bounds the redirects of one download.
const maxRedirects = 5

// Downloaded is a file of a message, downloaded.
type Downloaded struct {
	Attachment
	// ContentType is what the file's host said it is, if anything.
	ContentType string
	Data        []byte
}

// DownloadError is a download that every way the client knows was refused or failed. Its
// message never shows the file's link, which may work as a credential.
type DownloadError struct {
	Name string
	// Tried names the ways tried and how each ended, e.g. "without a credential: 403".
	Tried []string
	// Refused is true when the host refused each way (401 or 403), rather than failing.
	Refused bool
	Err     error // the last failure, when it was not a refusal
}

func (e *DownloadError) Error() string {
	msg := fmt.Sprintf("downloading %q: %s", e.Name, strings.Join(e.Tried, "; "))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DownloadError) Unwrap() error { return e.Err }

// Resolver finds the addresses of a host; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ResolverFunc is a function that is a Resolver.
type ResolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// LookupNetIP calls f.
func (f ResolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// DownloadOptions let tests stand in for the network that downloads reach.
type DownloadOptions struct {
	// Resolver finds hosts' addresses; net.DefaultResolver if nil.
	Resolver Resolver
	// Dial connects to an address that the rules allowed; a net.Dialer's if nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS configures HTTPS, e.g. the certificate authorities to trust; the system's if nil.
	TLS *tls.Config
}

// downloader holds what Download needs.
type downloader struct {
	baseHost string // host of the base URL, which may be a local stand-in
	creds    []credential
	client   *http.Client
}

type credential struct {
	name, header, value string
}

func newDownloader(base *url.URL, apiKey, oauthToken string, o DownloadOptions) *downloader {
	d := &downloader{baseHost: base.Hostname()}
	if apiKey != "" {
		d.creds = append(d.creds, credential{"with the Api-Key", "Api-Key", apiKey})
	}
	if oauthToken != "" {
		d.creds = append(d.creds,
			credential{"with the OAuth token as OAuth", "Authorization", "OAuth " + oauthToken},
			credential{"with the OAuth token as Bearer", "Authorization", "Bearer " + oauthToken})
	}
	resolver := o.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	t := &http.Transport{
		// Each connection goes to an address the rules allow, found here rather than by the
		// dialer, so that a name cannot resolve to one address when checked and another when used.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := resolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if host == d.baseHost || publicAddr(ip) {
					return dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				}
			}
			return nil, fmt.Errorf("%s has no public address", host)
		},
		TLSClientConfig:       o.TLS,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: downloadTimeout,
		MaxIdleConnsPerHost:   2,
	}
	d.client = &http.Client{Transport: t, CheckRedirect: d.checkRedirect}
	return d
}

// allowed reports why a link may not be followed, or nil.
func (d *downloader) allowed(u *url.URL) error {
	host := u.Hostname()
	switch {
	case host == d.baseHost && (u.Scheme == "https" || u.Scheme == "http"):
		return nil
	case u.Scheme != "https":
		return fmt.Errorf("a link to %s over %s, not HTTPS", host, u.Scheme)
	case u.User != nil:
		return fmt.Errorf("a link to %s with a user name in it", host)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, domain := range yandexDomains {
		if host == domain || strings.HasSuffix(host, "."+domain) {
			return nil
		}
	}
	return fmt.Errorf("a link to %s, which is not Yandex's", host)
}

// checkRedirect follows a redirect only where a link may lead, and takes the credential along
// only to the same host.
func (d *downloader) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	if err := d.allowed(req.URL); err != nil {
		return fmt.Errorf("redirected to %w", err)
	}
	if prev := via[len(via)-1]; req.URL.Host != prev.URL.Host || req.URL.Scheme != prev.URL.Scheme {
		req.Header.Del("Api-Key")
		req.Header.Del("Authorization")
	}
	return nil
}

// publicAddr reports whether ip is an address of the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !sharedAddressSpace.Contains(ip)
}

// sharedAddressSpace is the carrier-grade NAT range, private in all but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// Download reads a message and downloads the file at index (from 0) of its attachments.
func (c *Client) Download(ctx context.Context, chatID, messageID int64, index int) (*Downloaded, error) {
	m, err := c.GetChatMessage(ctx, chatID, messageID)
	if err != nil {
		return nil, err
	}
	switch {
	case len(m.Payload) == 0:
		return nil, &NoAttachmentError{ChatID: chatID, MessageID: messageID}
	case index < 0 || index >= len(m.Payload):
		return nil, &NoAttachmentError{ChatID: chatID, MessageID: messageID, Index: index, Count: len(m.Payload)}
	}
	a := m.Payload[index]
	u, err := url.Parse(a.URL)
	if err != nil || u.Host == "" {
		return nil, &DownloadError{Name: a.Name, Err: errors.New("its link is not a URL")}
	}
	if err := c.download.allowed(u); err != nil {
		return nil, &DownloadError{Name: a.Name, Err: fmt.Errorf("the message holds %w", err)}
	}
	if a.Size > MaxFileSize {
		return nil, &DownloadError{Name: a.Name, Err: fmt.Errorf("it is %d bytes, over the %d MB a chat's file can have", a.Size, MaxFileSize>>20)}
	}
	ways := append([]credential{{name: "without a credential"}}, c.download.creds...)
	derr := &DownloadError{Name: a.Name, Refused: true}
	for _, cr := range ways {
		data, ct, status, err := c.download.get(ctx, u, cr)
		switch {
		case err == nil:
			return &Downloaded{Attachment: a, ContentType: ct, Data: data}, nil
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			derr.Tried = append(derr.Tried, fmt.Sprintf("%s: %d", cr.name, status))
			continue
		}
		derr.Tried = append(derr.Tried, cr.name+": failed")
		derr.Refused, derr.Err = false, err
		break
	}
	c.log.InfoContext(ctx, "attachment download refused", "chat_id", chatID, "message_id", messageID, "host", u.Hostname(), "tried", strings.Join(derr.Tried, "; "))
	return nil, derr
}

// NoAttachmentError is a message without the attachment asked for.
type NoAttachmentError struct {
	ChatID, MessageID int64
	Index, Count      int // Count is 0 for a message without attachments
}

func (e *NoAttachmentError) Error() string {
	if e.Count == 0 {
		return fmt.Sprintf("message %d in chat %d has no attachments", e.MessageID, e.ChatID)
	}
	return fmt.Sprintf("message %d in chat %d has %d attachments (index 0 to %d), not one at index %d", e.MessageID, e.ChatID, e.Count, e.Count-1, e.Index)
}

// get makes one download with a credential (none when its header is empty) and returns the
// body, its content type and the status.
func (d *downloader) get(ctx context.Context, u *url.URL, cr credential) ([]byte, string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", 0, err
	}
	if cr.header != "" {
		req.Header.Set(cr.header, cr.value)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, "", 0, errors.New(strings.ReplaceAll(unwrapURLError(err).Error(), u.String(), u.Hostname()))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", resp.StatusCode, fmt.Errorf("the host answered %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxFileSize {
		return nil, "", resp.StatusCode, fmt.Errorf("the file is %d bytes, over %d MB", resp.ContentLength, MaxFileSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFileSize+1))
	switch {
	case err != nil:
		return nil, "", resp.StatusCode, fmt.Errorf("reading the file: %w", err)
	case len(data) > MaxFileSize:
		return nil, "", resp.StatusCode, fmt.Errorf("the file is over %d MB", MaxFileSize>>20)
	}
	return data, resp.Header.Get("Content-Type"), resp.StatusCode, nil
}
