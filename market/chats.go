package market

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yandex-market-mcp/market-chat-mcp/untrusted"
)

// MaxFileSize is the largest file the API takes in a chat.
const MaxFileSize = 5 << 20

// MaxMessageLength is the largest message text, in characters.
const MaxMessageLength = 4096

// GetChats returns one page of the business's chats that match filter.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/getChats
func (c *Client) GetChats(ctx context.Context, filter ChatsFilter, page Page) (*ChatsPage, error) {
	req, err := jsonRequest(OpGetChats, page.query(), filter)
	if err != nil {
		return nil, err
	}
	var res struct {
		Chats  []Chat `json:"chats"`
		Paging paging `json:"paging"`
	}
	if err := c.do(ctx, req, &res); err != nil {
		return nil, err
	}
	for i := range res.Chats {
		res.Chats[i].fillContext()
	}
	return &ChatsPage{Chats: res.Chats, NextPageToken: res.Paging.NextPageToken}, nil
}

// GetChat returns one chat.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/getChat
func (c *Client) GetChat(ctx context.Context, chatID int64) (*Chat, error) {
	var chat Chat
	req := &request{op: OpGetChat, query: chatQuery(chatID)}
	if err := c.do(ctx, req, &chat); err != nil {
		return nil, err
	}
	chat.fillContext()
	return &chat, nil
}

// GetChatHistory returns one page of a chat's messages. A positive messageIDFrom asks for that
// message and those after it.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/getChatHistory
func (c *Client) GetChatHistory(ctx context.Context, chatID, messageIDFrom int64, page Page) (*History, error) {
	q := page.query()
	q.Set("chatId", strconv.FormatInt(chatID, 10))
	body := struct {
		MessageIDFrom int64 `json:"messageIdFrom,omitempty"`
	}{messageIDFrom}
	req, err := jsonRequest(OpGetChatHistory, q, body)
	if err != nil {
		return nil, err
	}
	var res struct {
		OrderID  int64       `json:"orderId"`
		Context  FullContext `json:"context"`
		Messages []Message   `json:"messages"`
		Paging   paging      `json:"paging"`
	}
	if err := c.do(ctx, req, &res); err != nil {
		return nil, err
	}
	if res.Context.OrderID == 0 {
		res.Context.OrderID = res.OrderID // answers from before contexts carry only the deprecated field
	}
	c.newest.saw(chatID, res.Messages)
	return &History{Context: res.Context, Messages: res.Messages, NextPageToken: res.Paging.NextPageToken}, nil
}

// GetChatMessage returns one message of a chat.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/getChatMessage
func (c *Client) GetChatMessage(ctx context.Context, chatID, messageID int64) (*Message, error) {
	q := chatQuery(chatID)
	q.Set("messageId", strconv.FormatInt(messageID, 10))
	var msg Message
	if err := c.do(ctx, &request{op: OpGetChatMessage, query: q}, &msg); err != nil {
		return nil, err
	}
	c.newest.saw(chatID, []Message{msg})
	return &msg, nil
}

// CreateChat opens a chat about an order or a return and returns its id. For a context that
// already has a chat, the API returns that chat's id.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/createChat
func (c *Client) CreateChat(ctx context.Context, about ChatContext) (int64, error) {
	req, err := jsonRequest(OpCreateChat, nil, struct {
		Context ChatContext `json:"context"`
	}{about})
	if err != nil {
		return 0, err
	}
	var res createdChat
	if err := c.do(ctx, req, &res); err != nil {
		return 0, err
	}
	return res.ChatID, nil
}

type createdChat struct {
	ChatID int64 `json:"chatId"`
}

func (r *createdChat) check() error {
	if r.ChatID <= 0 {
		return errors.New("no chat id in the answer")
	}
	return nil
}

// SendMessage sends text to a chat on behalf of the seller, once (see Client.send).
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/sendMessageToChat
func (c *Client) SendMessage(ctx context.Context, chatID int64, text string) (Sent, error) {
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxMessageLength {
		return Sent{}, fmt.Errorf("%s: a message must have 1 to %d characters, not %d", OpSendMessage.Name, MaxMessageLength, n)
	}
	req, err := jsonRequest(OpSendMessage, chatQuery(chatID), struct {
		Message string `json:"message"`
	}{text})
	if err != nil {
		return Sent{}, err
	}
	return c.send(ctx, req, chatID, func(m *Message) bool { return sameText(m.Text, text) })
}

// SendFile sends a file of at most MaxFileSize bytes to a chat on behalf of the seller, once. Its
// name must pass untrusted.CheckFileName: it is what the buyer sees.
//
// API docs: https://yandex.ru/dev/market/partner-api/doc/en/reference/chats/sendFileToChat
func (c *Client) SendFile(ctx context.Context, chatID int64, f File) (Sent, error) {
	if err := untrusted.CheckFileName(f.Name); err != nil {
		return Sent{}, fmt.Errorf("%s: the file name %q %w", OpSendFile.Name, f.Name, err)
	}
	switch {
	case len(f.Data) > MaxFileSize:
		return Sent{}, fmt.Errorf("%s: file %q is %d bytes, over the API's limit of %d", OpSendFile.Name, f.Name, len(f.Data), MaxFileSize)
	case len(f.Data) == 0:
		return Sent{}, fmt.Errorf("%s: file %q is empty", OpSendFile.Name, f.Name)
	}
	body, contentType, err := multipartFile(f)
	if err != nil {
		return Sent{}, fmt.Errorf("%s: %w", OpSendFile.Name, err)
	}
	req := &request{op: OpSendFile, query: chatQuery(chatID), body: body, contentType: contentType}
	// Market may store the name in another form, or even another name: a file of the same size
	// in a newer message of the seller's is taken as this one too.
	return c.send(ctx, req, chatID, func(m *Message) bool {
		for _, a := range m.Payload {
			if sameName(a.Name, f.Name) || a.Size == int64(len(f.Data)) {
				return true
			}
		}
		return false
	})
}

// multipartFile encodes f as the form the API expects: one part named "file" that keeps the
// file's name and content type.
func multipartFile(f File) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(f.Name)))
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(f.Data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// quoteEscaper escapes a file name as browsers do in a form upload (the HTML standard's
// multipart/form-data encoding), which servers expect, rather than with backslashes as Go's
// mime/multipart does.
var quoteEscaper = strings.NewReplacer(`"`, "%22", "\r", "%0D", "\n", "%0A")

// fillContext copies the deprecated top-level order id into the context, where answers from
// before contexts existed lack it.
func (ch *Chat) fillContext() {
	if ch.Context.OrderID == 0 {
		ch.Context.OrderID = ch.OrderID
	}
}

type paging struct {
	NextPageToken string `json:"nextPageToken"`
}

func (p Page) query() url.Values {
	q := url.Values{}
	if p.Token != "" {
		q.Set("pageToken", p.Token)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

func chatQuery(chatID int64) url.Values {
	return url.Values{"chatId": {strconv.FormatInt(chatID, 10)}}
}
