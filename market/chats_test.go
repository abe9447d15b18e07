package market_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// findChat returns the first chat, in getChats order, for which match holds.
func findChat(t *testing.T, s *markettest.Server, what string, match func(markettest.Chat) bool) markettest.Chat {
	t.Helper()
	for _, c := range s.Chats() {
		if match(c) {
			return c
		}
	}
	t.Fatalf("no %s in the seed", what)
	return markettest.Chat{}
}

// openChat is a chat with a buyer about an order, with messages, waiting for the seller.
func openChat(t *testing.T, s *markettest.Server) markettest.Chat {
	t.Helper()
	return findChat(t, s, "open order chat", func(c markettest.Chat) bool {
		return c.Type == markettest.ChatTypeChat && c.Context.Type == markettest.ContextOrder &&
			c.Status == markettest.StatusWaitingForPartner && len(s.Messages(c.ChatID)) >= 2
	})
}

// longChat is the chat with more messages than one page of history holds.
func longChat(t *testing.T, s *markettest.Server) markettest.Chat {
	t.Helper()
	return findChat(t, s, "long chat", func(c markettest.Chat) bool { return len(s.Messages(c.ChatID)) > 100 })
}

// freeOrder is an order that has no chat yet.
func freeOrder(t *testing.T, s *markettest.Server) markettest.Order {
	t.Helper()
	for _, o := range s.Orders() {
		if !slices.ContainsFunc(s.Chats(), func(c markettest.Chat) bool { return c.Context.OrderID == o.ID }) {
			return o
		}
	}
	t.Fatal("every order of the seed has a chat")
	return markettest.Order{}
}

// freeReturn is a return that has no chat yet.
func freeReturn(t *testing.T, s *markettest.Server) markettest.Return {
	t.Helper()
	for _, r := range s.Returns() {
		if !slices.ContainsFunc(s.Chats(), func(c markettest.Chat) bool { return c.Context.ReturnID == r.ID }) {
			return r
		}
	}
	t.Fatal("every return of the seed has a chat")
	return markettest.Return{}
}

// The want* functions turn what markettest holds into what the client should decode, with
// times in UTC; the utc* functions put decoded times in UTC, so that values compare in depth.

func wantContext(c markettest.Context) market.FullContext {
	fc := market.FullContext{
		Type:       market.ContextType(c.Type),
		CampaignID: c.CampaignID,
		OrderID:    c.OrderID,
		ReturnID:   c.ReturnID,
	}
	if c.Customer != (markettest.Customer{}) {
		fc.Customer = &market.Customer{Name: c.Customer.Name, PublicID: c.Customer.PublicID}
	}
	return fc
}

func wantChat(c markettest.Chat) market.Chat {
	return market.Chat{
		ChatID:    c.ChatID,
		OrderID:   c.OrderID,
		Context:   wantContext(c.Context),
		Type:      market.ChatType(c.Type),
		Status:    market.ChatStatus(c.Status),
		CreatedAt: c.CreatedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func wantChats(cs []markettest.Chat) []market.Chat {
	out := make([]market.Chat, len(cs))
	for i, c := range cs {
		out[i] = wantChat(c)
	}
	return out
}

func wantMessage(m markettest.Message) market.Message {
	out := market.Message{
		MessageID: m.MessageID,
		CreatedAt: m.CreatedAt.UTC(),
		Sender:    market.Sender(m.Sender),
		Text:      m.Message,
	}
	for _, a := range m.Payload {
		out.Payload = append(out.Payload, market.Attachment{Name: a.Name, URL: a.URL, Size: int64(a.Size)})
	}
	return out
}

func wantMessages(ms []markettest.Message) []market.Message {
	out := make([]market.Message, len(ms))
	for i, m := range ms {
		out[i] = wantMessage(m)
	}
	return out
}

func utcChats(cs []market.Chat) []market.Chat {
	for i := range cs {
		cs[i].CreatedAt, cs[i].UpdatedAt = cs[i].CreatedAt.UTC(), cs[i].UpdatedAt.UTC()
	}
	return cs
}

func utcMessages(ms []market.Message) []market.Message {
	for i := range ms {
		ms[i].CreatedAt = ms[i].CreatedAt.UTC()
	}
	return ms
}

// requestCase is a call of the client and the request it must send.
type requestCase struct {
	name   string
	call   func(context.Context, *market.Client) error
	method string
	path   string // below /v2/businesses/{businessId}
	query  url.Values
	// contentType is the media type of the body; body is the exact body, unless the body is
	// multipart, which TestSendFile reads part by part.
	contentType string
	body        string
}

// requestCases covers every operation, with the seeded state of s.
func requestCases(t *testing.T, s *markettest.Server) []requestCase {
	t.Helper()
	chat := openChat(t, s)
	msgs := s.Messages(chat.ChatID)
	msg := msgs[len(msgs)-1]
	order, ret := freeOrder(t, s), freeReturn(t, s)
	chatID, orderID := strconv.FormatInt(chat.ChatID, 10), chat.Context.OrderID
	getChats := func(f market.ChatsFilter, p market.Page) func(context.Context, *market.Client) error {
		return func(ctx context.Context, c *market.Client) error { _, err := c.GetChats(ctx, f, p); return err }
	}
	history := func(from int64, p market.Page) func(context.Context, *market.Client) error {
		return func(ctx context.Context, c *market.Client) error {
			_, err := c.GetChatHistory(ctx, chat.ChatID, from, p)
			return err
		}
	}
	createChat := func(about market.ChatContext) func(context.Context, *market.Client) error {
		return func(ctx context.Context, c *market.Client) error { _, err := c.CreateChat(ctx, about); return err }
	}
	const jsonType = "application/json"
	return []requestCase{
		{
			name: "getChats with no filter", call: getChats(market.ChatsFilter{}, market.Page{}),
			method: http.MethodPost, path: "/chats", query: url.Values{}, contentType: jsonType, body: `{}`,
		},
		{
			name: "getChats with empty filters",
			call: getChats(market.ChatsFilter{
				OrderIDs: []int64{}, Contexts: []market.ChatContext{}, ContextTypes: []market.ContextType{},
				Types: []market.ChatType{}, Statuses: []market.ChatStatus{},
			}, market.Page{}),
			method: http.MethodPost, path: "/chats", query: url.Values{}, contentType: jsonType, body: `{}`,
		},
		{
			name:   "getChats by context with a limit",
			call:   getChats(market.ChatsFilter{Contexts: []market.ChatContext{{Type: market.ContextOrder, ID: orderID}}}, market.Page{Limit: 5}),
			method: http.MethodPost, path: "/chats", query: url.Values{"limit": {"5"}}, contentType: jsonType,
			body: fmt.Sprintf(`{"contexts":[{"type":"ORDER","id":%d}]}`, orderID),
		},
		{
			name: "getChats by every filter",
			call: getChats(market.ChatsFilter{
				OrderIDs:     []int64{orderID},
				Contexts:     []market.ChatContext{{Type: market.ContextOrder, ID: orderID}, {Type: market.ContextReturn, ID: ret.ID}},
				ContextTypes: []market.ContextType{market.ContextOrder, market.ContextDirect},
				Types:        []market.ChatType{market.ChatTypeChat},
				Statuses:     []market.ChatStatus{market.StatusWaitingForPartner},
			}, market.Page{}),
			method: http.MethodPost, path: "/chats", query: url.Values{}, contentType: jsonType,
			body: fmt.Sprintf(`{"orderIds":[%d],"contexts":[{"type":"ORDER","id":%d},{"type":"RETURN","id":%d}],`+
				`"contextTypes":["ORDER","DIRECT"],"types":["CHAT"],"statuses":["WAITING_FOR_PARTNER"]}`, orderID, orderID, ret.ID),
		},
		{
			name:   "getChat",
			call:   func(ctx context.Context, c *market.Client) error { _, err := c.GetChat(ctx, chat.ChatID); return err },
			method: http.MethodGet, path: "/chat", query: url.Values{"chatId": {chatID}},
		},
		{
			name: "getChatHistory from the start", call: history(0, market.Page{}),
			method: http.MethodPost, path: "/chats/history", query: url.Values{"chatId": {chatID}}, contentType: jsonType, body: `{}`,
		},
		{
			name: "getChatHistory from a message with a limit", call: history(msg.MessageID, market.Page{Limit: 100}),
			method: http.MethodPost, path: "/chats/history", query: url.Values{"chatId": {chatID}, "limit": {"100"}}, contentType: jsonType,
			body: fmt.Sprintf(`{"messageIdFrom":%d}`, msg.MessageID),
		},
		{
			name: "getChatMessage",
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.GetChatMessage(ctx, chat.ChatID, msg.MessageID)
				return err
			},
			method: http.MethodGet, path: "/chats/message",
			query: url.Values{"chatId": {chatID}, "messageId": {strconv.FormatInt(msg.MessageID, 10)}},
		},
		{
			name: "createChat about an order", call: createChat(market.ChatContext{Type: market.ContextOrder, ID: order.ID}),
			method: http.MethodPost, path: "/chats/new", query: url.Values{}, contentType: jsonType,
			body: fmt.Sprintf(`{"context":{"type":"ORDER","id":%d}}`, order.ID),
		},
		{
			name: "createChat about a return", call: createChat(market.ChatContext{Type: market.ContextReturn, ID: ret.ID}),
			method: http.MethodPost, path: "/chats/new", query: url.Values{}, contentType: jsonType,
			body: fmt.Sprintf(`{"context":{"type":"RETURN","id":%d}}`, ret.ID),
		},
		{
			name: "sendMessageToChat",
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.SendMessage(ctx, chat.ChatID, `Здравствуйте! Замену отправим завтра, трек-номер пришлём "в чат".`)
				return err
			},
			method: http.MethodPost, path: "/chats/message", query: url.Values{"chatId": {chatID}}, contentType: jsonType,
			body: `{"message":"Здравствуйте! Замену отправим завтра, трек-номер пришлём \"в чат\"."}`,
		},
		{
			name: "sendFileToChat",
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.SendFile(ctx, chat.ChatID, market.File{Name: "фото.jpg", ContentType: "image/jpeg", Data: []byte("jpeg")})
				return err
			},
			method: http.MethodPost, path: "/chats/file/send", query: url.Values{"chatId": {chatID}}, contentType: "multipart/form-data",
		},
	}
}

// wantRequest checks where r went: its method, path below the business and query.
func wantRequest(t *testing.T, s *markettest.Server, r markettest.Request, method, path string, query url.Values) {
	t.Helper()
	if want := fmt.Sprintf("/v2/businesses/%d%s", s.BusinessID, path); r.Method != method || r.Path != want {
		t.Errorf("request %s %s, want %s %s", r.Method, r.Path, method, want)
	}
	if got, want := r.Query.Encode(), query.Encode(); got != want {
		t.Errorf("query %q, want %q", got, want)
	}
}

// sendsRead is how many history reads a call makes before its request: one for a send, which
// notes the chat's newest message (see TestSettleIgnoresWhatCameBefore).
func (rc requestCase) sendsRead() int {
	if strings.HasPrefix(rc.name, "send") {
		return 1
	}
	return 0
}

func TestRequests(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, rc := range requestCases(t, s) {
		t.Run(rc.name, func(t *testing.T) {
			before := len(s.Requests())
			if err := rc.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			reqs := s.Requests()
			if want := before + 1 + rc.sendsRead(); len(reqs) != want {
				t.Fatalf("%d requests sent, want %d", len(reqs)-before, want-before)
			}
			r := reqs[len(reqs)-1]
			wantRequest(t, s, r, rc.method, rc.path, rc.query)
			if rc.contentType != "multipart/form-data" && string(r.Body) != rc.body {
				t.Errorf("body %s, want %s", r.Body, rc.body)
			}
		})
	}
}

func TestGetChat(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, want := range s.Chats() {
		got, err := c.GetChat(t.Context(), want.ChatID)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fmt.Sprintf("chat %d", want.ChatID), utcChats([]market.Chat{*got})[0], wantChat(want))
	}
}

func TestGetChatsPages(t *testing.T) {
	for _, limit := range []int{0, 4, 20} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s)
			want := wantChats(s.Chats())
			var got []market.Chat
			token := ""
			for pages := 1; ; pages++ {
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
				page, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{Token: token, Limit: limit})
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				got = append(got, utcChats(page.Chats)...)
				query := url.Values{}
				if limit > 0 {
					query.Set("limit", strconv.Itoa(limit))
				}
				if token != "" {
					query.Set("pageToken", token)
				}
				wantRequest(t, s, lastRequest(t, s), http.MethodPost, "/chats", query)
				if page.NextPageToken == "" {
					break
				}
				token = page.NextPageToken
			}
			wantEqual(t, "chats of every page", got, want)
			perPage := limit
			if perPage == 0 {
				perPage = 10 // the API's default
			}
			if got, want := len(s.Requests()), (len(want)+perPage-1)/perPage; got != want {
				t.Errorf("%d pages, want %d", got, want)
			}
		})
	}
}

func TestGetChatHistory(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat := openChat(t, s)
	msgs := s.Messages(chat.ChatID)
	for _, from := range []int{0, 1, len(msgs) - 1} {
		var fromID int64
		if from > 0 {
			fromID = msgs[from].MessageID
		}
		h, err := c.GetChatHistory(t.Context(), chat.ChatID, fromID, market.Page{})
		if err != nil {
			t.Fatalf("from %d: %v", fromID, err)
		}
		wantEqual(t, fmt.Sprintf("messages from %d", fromID), utcMessages(h.Messages), wantMessages(msgs[from:]))
		wantEqual(t, "context", h.Context, wantContext(chat.Context))
		if h.NextPageToken != "" {
			t.Errorf("from %d: next page %q after the last message", fromID, h.NextPageToken)
		}
	}
}

func TestGetChatHistoryPages(t *testing.T) {
	tests := []struct {
		name        string
		opts        []markettest.Option
		newestFirst bool
	}{
		{"oldest first", nil, false},
		{"newest first", []markettest.Option{markettest.WithHistoryNewestFirst()}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.opts...)
			c := newClient(t, s)
			chat := longChat(t, s)
			want := wantMessages(s.Messages(chat.ChatID))
			if tt.newestFirst {
				slices.Reverse(want)
			}
			chatID := strconv.FormatInt(chat.ChatID, 10)
			var got []market.Message
			token := ""
			for pages := 1; ; pages++ {
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
				h, err := c.GetChatHistory(t.Context(), chat.ChatID, 0, market.Page{Token: token, Limit: 100})
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				if len(h.Messages) > 100 {
					t.Errorf("page %d has %d messages", pages, len(h.Messages))
				}
				got = append(got, utcMessages(h.Messages)...)
				query := url.Values{"chatId": {chatID}, "limit": {"100"}}
				if token != "" {
					query.Set("pageToken", token)
				}
				wantRequest(t, s, lastRequest(t, s), http.MethodPost, "/chats/history", query)
				if h.NextPageToken == "" {
					break
				}
				token = h.NextPageToken
			}
			wantEqual(t, "messages of every page", got, want)
			if got, want := len(s.Requests()), (len(want)+99)/100; got != want {
				t.Errorf("%d pages, want %d", got, want)
			}
		})
	}
}

func TestGetChatMessage(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat := findChat(t, s, "chat with attachments", func(c markettest.Chat) bool {
		return slices.ContainsFunc(s.Messages(c.ChatID), func(m markettest.Message) bool { return len(m.Payload) > 1 })
	})
	for _, m := range s.Messages(chat.ChatID) {
		got, err := c.GetChatMessage(t.Context(), chat.ChatID, m.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fmt.Sprintf("message %d", m.MessageID), utcMessages([]market.Message{*got})[0], wantMessage(m))
	}
}

func TestCreateChat(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	open := openChat(t, s)
	tests := []struct {
		name     string
		about    market.ChatContext
		existing int64 // the chat the API must return, or 0 for a new one
	}{
		{"new chat about an order", market.ChatContext{Type: market.ContextOrder, ID: freeOrder(t, s).ID}, 0},
		{"new chat about a return", market.ChatContext{Type: market.ContextReturn, ID: freeReturn(t, s).ID}, 0},
		{"existing chat about an order", market.ChatContext{Type: market.ContextOrder, ID: open.Context.OrderID}, open.ChatID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Chats()
			id, err := c.CreateChat(t.Context(), tt.about)
			if err != nil {
				t.Fatal(err)
			}
			chat, ok := s.Chat(id)
			if !ok {
				t.Fatalf("CreateChat returned %d, which the server does not have", id)
			}
			about := chat.Context.OrderID
			if tt.about.Type == market.ContextReturn {
				about = chat.Context.ReturnID
			}
			if string(chat.Context.Type) != string(tt.about.Type) || about != tt.about.ID {
				t.Errorf("chat %d is about %+v, want %+v", id, chat.Context, tt.about)
			}
			isOld := slices.ContainsFunc(before, func(c markettest.Chat) bool { return c.ChatID == id })
			if tt.existing != 0 && id != tt.existing || tt.existing == 0 && isOld {
				t.Errorf("chat id %d (existing before: %v), want existing chat %d", id, isOld, tt.existing)
			}
		})
	}
}

func TestSendMessage(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat := openChat(t, s)
	before := len(s.Messages(chat.ChatID))
	text := "Дмитрий, здравствуйте! Отправили замену — чайник «Смарт-2», трек RU123456789CN. Спасибо, что подождали 🙏"
	sent, err := c.SendMessage(t.Context(), chat.ChatID, text)
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(chat.ChatID)
	if len(msgs) != before+1 {
		t.Fatalf("%d messages stored, want 1", len(msgs)-before)
	}
	// Without a history to settle it, the send's time is that of Market's answer, by its clock.
	if last := msgs[len(msgs)-1]; !sent.At.Equal(last.CreatedAt) {
		t.Errorf("sent at %v, stored at %v", sent.At, last.CreatedAt)
	}
	if last := msgs[len(msgs)-1]; last.Message != text || last.Sender != markettest.SenderPartner {
		t.Errorf("stored %s %q, want PARTNER %q", last.Sender, last.Message, text)
	}
	var body struct{ Message string }
	if err := json.Unmarshal(lastRequest(t, s).Body, &body); err != nil || body.Message != text {
		t.Errorf("body %s (%v), want the message %q", lastRequest(t, s).Body, err, text)
	}
}

// sentFile is the part of a sendFileToChat request's multipart body that carries the file.
type sentFile struct {
	name   string
	header textproto.MIMEHeader
	data   []byte
}

// filePart reads the multipart body of a sendFileToChat request, which must hold one part,
// named "file".
func filePart(t *testing.T, r markettest.Request) sentFile {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q (%v), want multipart/form-data with a boundary", r.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		t.Fatalf("first part: %v", err)
	}
	if part.FormName() != "file" {
		t.Errorf("part named %q, want \"file\"", part.FormName())
	}
	data, err := io.ReadAll(part)
	if err != nil {
		t.Fatalf("reading the part: %v", err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the file part: %v, want the end of the body", err)
	}
	// Browsers encode quotes and line breaks in a file name as %22, %0D and %0A.
	name := strings.NewReplacer("%22", `"`, "%0D", "\r", "%0A", "\n").Replace(part.FileName())
	return sentFile{name: name, header: part.Header, data: data}
}

func TestSendFile(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")
	tests := []struct {
		name            string
		file            market.File
		wantContentType string
	}{
		{"photo", market.File{Name: "photo.jpg", ContentType: "image/jpeg", Data: jpeg}, "image/jpeg"},
		{"name with quotes and Cyrillic", market.File{Name: `счёт "№ 17" от 24.11.pdf`, ContentType: "application/pdf", Data: []byte("%PDF-1.7\n")}, "application/pdf"},
		{"no content type", market.File{Name: "data.bin", Data: []byte{0, 1, 2, 0xfe, 0xff}}, "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s)
			chat := openChat(t, s)
			if _, err := c.SendFile(t.Context(), chat.ChatID, tt.file); err != nil {
				t.Fatal(err)
			}
			r := lastRequest(t, s)
			wantRequest(t, s, r, http.MethodPost, "/chats/file/send", url.Values{"chatId": {strconv.FormatInt(chat.ChatID, 10)}})
			f := filePart(t, r)
			if contentType := f.header.Get("Content-Type"); f.name != tt.file.Name || contentType != tt.wantContentType || !bytes.Equal(f.data, tt.file.Data) {
				t.Errorf("part %q %q %q, want %q %q %q", f.name, contentType, f.data, tt.file.Name, tt.wantContentType, tt.file.Data)
			}
			// Quotes go out as a browser sends them, %-encoded, not escaped with a backslash.
			if disposition := f.header.Get("Content-Disposition"); strings.Contains(tt.file.Name, `"`) &&
				(!strings.Contains(disposition, "%22") || strings.Contains(disposition, `\"`)) {
				t.Errorf("Content-Disposition %s, want the quotes as %%22", disposition)
			}
			msgs := s.Messages(chat.ChatID)
			last := msgs[len(msgs)-1]
			if last.Sender != markettest.SenderPartner || len(last.Payload) != 1 ||
				last.Payload[0].Name != tt.file.Name || last.Payload[0].Size != len(tt.file.Data) {
				t.Errorf("stored %+v, want the file %q of %d bytes from the seller", last, tt.file.Name, len(tt.file.Data))
			}
		})
	}
}

// TestSendFileNamesAreChecked: a name the buyer would not read as it is (a line break that
// could add a part header, a direction override that turns "fdp.exe" into "exe.pdf", a folder)
// is refused before anything is sent.
func TestSendFileNamesAreChecked(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat := openChat(t, s)
	for _, name := range []string{"накладная.pdf\r\nX-Injected: yes", "invoice\u202efdp.exe", "../passwd", `акт\сверки.txt`, "..", " ", ""} {
		_, err := c.SendFile(t.Context(), chat.ChatID, market.File{Name: name, ContentType: "application/pdf", Data: []byte("%PDF-1.7\n")})
		if err == nil {
			t.Errorf("SendFile(%q) succeeded", name)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestSendFileSizeLimit(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"at the limit", market.MaxFileSize, false},
		{"over the limit", market.MaxFileSize + 1, true},
		{"empty", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s)
			chat := openChat(t, s)
			data := bytes.Repeat([]byte{0xab}, tt.size)
			_, err := c.SendFile(t.Context(), chat.ChatID, market.File{Name: "scan.png", ContentType: "image/png", Data: data})
			sent := s.Stats().Requests[markettest.OpSendFileToChat]
			switch {
			case tt.wantErr && (err == nil || sent != 0):
				t.Errorf("err %v after %d requests; want an error before any request", err, sent)
			case !tt.wantErr && (err != nil || sent != 1):
				t.Errorf("err %v after %d requests; want the file sent", err, sent)
			}
		})
	}
}

func TestUnknownEnumValues(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	chat := s.AddChat(markettest.Chat{
		Context:   markettest.Context{Type: "GROUP_PURCHASE", Customer: markettest.Customer{Name: "Вера", PublicID: "v1e2r3a4"}},
		Type:      "SUPPORT_TICKET",
		Status:    "SOMETHING_NEW",
		CreatedAt: time.Date(2026, time.November, 25, 9, 0, 0, 0, time.UTC),
	})
	msg, _ := s.AddMessage(chat.ChatID, markettest.Message{Sender: "ASSISTANT", Message: "Автоматический ответ"})

	got, err := c.GetChat(t.Context(), chat.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	chat, _ = s.Chat(chat.ChatID) // UpdatedAt moved with the message
	wantEqual(t, "getChat", utcChats([]market.Chat{*got})[0], wantChat(chat))

	page, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(page.Chats, func(c market.Chat) bool { return c.ChatID == chat.ChatID })
	if i < 0 {
		t.Fatalf("getChats left out chat %d", chat.ChatID)
	}
	wantEqual(t, "getChats", utcChats(page.Chats[i : i+1])[0], wantChat(chat))

	h, err := c.GetChatHistory(t.Context(), chat.ChatID, 0, market.Page{})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "history", utcMessages(h.Messages), wantMessages([]markettest.Message{msg}))
	if h.Context.Type != "GROUP_PURCHASE" {
		t.Errorf("history context type %q", h.Context.Type)
	}
}

// stub is an API of one fixed answer, for shapes markettest does not produce. It keeps the
// headers of the requests it receives.
type stub struct {
	*httptest.Server
	headers chan http.Header
}

func newStub(t *testing.T, status int, body string) *stub {
	t.Helper()
	st := &stub{headers: make(chan http.Header, 16)}
	st.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.headers <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(st.Close)
	return st
}

// client returns a client of the stub.
func (st *stub) client(t *testing.T) *market.Client {
	t.Helper()
	c, err := market.New(market.Options{BaseURL: st.URL, APIKey: "ACMA:stub", BusinessID: 1, Logger: slog.New(slog.DiscardHandler), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lastTraceID returns the trace id of the request the stub received last.
func (st *stub) lastTraceID(t *testing.T) string {
	t.Helper()
	var h http.Header
	for len(st.headers) > 0 {
		h = <-st.headers
	}
	if h == nil {
		t.Fatal("the stub received no request")
	}
	return traceID(t, h)
}

func TestDeprecatedOrderID(t *testing.T) {
	const times = `"type":"CHAT","status":"NEW","createdAt":"2024-05-20T10:00:00+03:00","updatedAt":"2024-05-20T10:05:00+03:00"`
	tests := []struct {
		name   string
		result string
		call   func(context.Context, *market.Client) (market.FullContext, error)
		want   int64
	}{
		{
			name:   "getChat with no context",
			result: `{"chatId":5,"orderId":77,` + times + `}`,
			call:   chatContext,
			want:   77,
		},
		{
			name:   "getChat with a context without the order",
			result: `{"chatId":5,"orderId":77,"context":{"type":"ORDER"},` + times + `}`,
			call:   chatContext,
			want:   77,
		},
		{
			name:   "getChat with both",
			result: `{"chatId":5,"orderId":77,"context":{"type":"ORDER","orderId":88},` + times + `}`,
			call:   chatContext,
			want:   88,
		},
		{
			name:   "getChats with no context",
			result: `{"chats":[{"chatId":5,"orderId":77,` + times + `}]}`,
			call: func(ctx context.Context, c *market.Client) (market.FullContext, error) {
				page, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{})
				if err != nil || len(page.Chats) != 1 {
					return market.FullContext{}, fmt.Errorf("page %+v: %v", page, err)
				}
				return page.Chats[0].Context, nil
			},
			want: 77,
		},
		{
			name:   "getChatHistory with no context",
			result: `{"orderId":77,"messages":[]}`,
			call: func(ctx context.Context, c *market.Client) (market.FullContext, error) {
				h, err := c.GetChatHistory(ctx, 5, 0, market.Page{})
				if err != nil {
					return market.FullContext{}, err
				}
				return h.Context, nil
			},
			want: 77,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStub(t, http.StatusOK, `{"status":"OK","result":`+tt.result+`}`)
			got, err := tt.call(t.Context(), st.client(t))
			if err != nil {
				t.Fatal(err)
			}
			if got.OrderID != tt.want {
				t.Errorf("Context.OrderID = %d, want %d", got.OrderID, tt.want)
			}
		})
	}
}

func chatContext(ctx context.Context, c *market.Client) (market.FullContext, error) {
	chat, err := c.GetChat(ctx, 5)
	if err != nil {
		return market.FullContext{}, err
	}
	return chat.Context, nil
}

func TestSendMessageLengthIsCheckedLocally(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, text := range []string{"", strings.Repeat("я", market.MaxMessageLength+1)} {
		if _, err := c.SendMessage(t.Context(), 1, text); err == nil {
			t.Errorf("SendMessage of %d characters succeeded", len([]rune(text)))
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
