package inbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// YandexRanges are the addresses Market's notifications come from, as its documentation gives
// them.
var YandexRanges = []netip.Prefix{
	netip.MustParsePrefix("5.45.207.0/25"),
	netip.MustParsePrefix("141.8.142.0/25"),
	netip.MustParsePrefix("5.255.253.0/25"),
}

// ReceiverOptions configure the Receiver.
type ReceiverOptions struct {
	// Name and Version are what the receiver answers Market with.
	Name, Version string
	// From are the addresses notifications are taken from; nil takes them from anywhere.
	From []netip.Prefix
	// TrustedProxies are the reverse proxies whose X-Forwarded-For tells the sender's address.
	TrustedProxies []netip.Prefix
}

// MaxNotification bounds a notification's body; Market's are a few hundred bytes.
const MaxNotification = 64 << 10

// Receiver returns the handler of Market's push notifications for the inboxes, one per cabinet,
// each made with Push: a notification goes to the inbox of its businessId. It answers Market's contract: 200 with the receiver's name, version and
// time to whatever it takes (PING, the chat notifications, and the kinds it does not use), 400
// with the error envelope to a notification that is malformed or about none of the cabinets, and 500
// when it cannot take one now, which Market sends again later. It answers before any API work:
// what a chat notification names is read afterwards.
func Receiver(o ReceiverOptions, inboxes ...*Inbox) http.Handler {
	byBusiness := make(map[int64]*Inbox, len(inboxes))
	for _, in := range inboxes {
		byBusiness[in.mc.BusinessID()] = in
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if from := sender(r, o.TrustedProxies); o.From != nil && !slices.ContainsFunc(o.From, func(p netip.Prefix) bool { return p.Contains(from) }) {
			w.Header().Set("Connection", "close")
			answerError(w, http.StatusForbidden, "UNKNOWN", "notifications are taken from Market's addresses only")
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			answerError(w, http.StatusMethodNotAllowed, "UNKNOWN", "notifications come by POST")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotification))
		if err != nil {
			answerError(w, http.StatusBadRequest, "WRONG_EVENT_FORMAT", "the notification cannot be read: "+err.Error())
			return
		}
		h, err := parseNotification(body)
		var in *Inbox
		if h != nil {
			if in = byBusiness[h.businessID]; in == nil {
				err = fmt.Errorf("businessId %d is not one of this server's cabinets", h.businessID)
			}
		}
		switch {
		case err != nil:
			answerError(w, http.StatusBadRequest, "WRONG_EVENT_FORMAT", err.Error())
			return
		case h != nil && !in.push.offer(*h):
			answerError(w, http.StatusInternalServerError, "UNKNOWN", "too many notifications at once; send it again later")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Version string `json:"version"`
			Name    string `json:"name"`
			Time    string `json:"time"`
		}{o.Version, o.Name, time.Now().UTC().Format(time.RFC3339)})
	})
}

// notification is the part of Market's notifications the receiver reads.
type notification struct {
	Type       string          `json:"notificationType"`
	BusinessID *int64          `json:"businessId"`
	ChatID     *int64          `json:"chatId"`
	MessageID  json.RawMessage `json:"messageId"` // a string in the contract; a number is taken too
}

// parseNotification reads a notification: a hint for a chat notification, nil for any other
// kind, or an error for one that is malformed.
func parseNotification(body []byte) (*hint, error) {
	var n notification
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("the notification is not a JSON object: %v", err)
	}
	kinds := map[string]Kind{"CHAT_CREATED": KindChatCreated, "CHAT_MESSAGE_SENT": KindMessage,
		"CHAT_ARBITRAGE_STARTED": KindDisputeStarted, "CHAT_ARBITRAGE_FINISHED": KindDisputeFinished}
	kind, isChat := kinds[n.Type]
	switch {
	case n.Type == "":
		return nil, fmt.Errorf("notificationType is missing")
	case !isChat:
		return nil, nil // PING, and the kinds the server does not use
	case n.BusinessID == nil || n.ChatID == nil || *n.ChatID <= 0:
		return nil, fmt.Errorf("a %s notification needs businessId and chatId", n.Type)
	}
	h := &hint{kind: kind, businessID: *n.BusinessID, chatID: *n.ChatID}
	if kind == KindMessage {
		id, err := messageID(n.MessageID)
		if err != nil {
			return nil, err
		}
		h.messageID = id
	}
	return h, nil
}

// messageID reads CHAT_MESSAGE_SENT's messageId, a string or a number.
func messageID(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(bytes.TrimSpace(raw))
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("messageId %s is not a message id", raw)
	}
	return id, nil
}

func answerError(w http.ResponseWriter, status int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"type": kind, "message": msg}})
}

// sender is where a request came from: its peer, or, when the peer is a trusted proxy, the
// nearest address in X-Forwarded-For that is not.
func sender(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, _ := netip.ParseAddr(host)
	isTrusted := func(a netip.Addr) bool {
		return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	if !isTrusted(addr) {
		return addr.Unmap()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{} // a malformed hop: nothing past it can be believed
		}
		if !isTrusted(a) {
			return a.Unmap()
		}
	}
	return addr.Unmap()
}
