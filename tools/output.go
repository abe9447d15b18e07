package tools

import (
	"cmp"
	"slices"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/untrusted"
)

// The tools return compact projections of the API's answers: snake_case names, no deprecated
// fields, nothing a model does not need.

// Chat is a chat as the tools return it.
type Chat struct {
	ChatID    int64   `json:"chat_id"`
	Type      string  `json:"type" jsonschema:"description=CHAT (with a buyer) or ARBITRAGE (a dispute that Market arbitrates)"`
	Status    string  `json:"status" jsonschema:"description=Whose turn it is: WAITING_FOR_PARTNER means the seller must answer"`
	Context   Context `json:"context"`
	CreatedAt string  `json:"created_at,omitempty" jsonschema:"description=When the chat was opened\\, in Moscow time like every time Market gives,format=date-time"`
	UpdatedAt string  `json:"updated_at,omitempty" jsonschema:"description=Time of the last message,format=date-time"`
	// BusinessID and Cabinet name the chat's cabinet when the server works in several.
	BusinessID int64  `json:"business_id,omitempty" jsonschema:"description=The chat's cabinet\\, when the server works in several: give it to the tools about this chat"`
	Cabinet    string `json:"cabinet,omitempty" jsonschema:"description=The name of the chat's cabinet"`
}

// Context says what a chat is about.
type Context struct {
	Type             string `json:"type" jsonschema:"description=ORDER\\, RETURN or DIRECT (a buyer's question not tied to an order)"`
	OrderID          int64  `json:"order_id,omitempty"`
	ReturnID         int64  `json:"return_id,omitempty"`
	CampaignID       int64  `json:"campaign_id,omitempty" jsonschema:"description=The shop (campaign) of the order"`
	CustomerName     string `json:"customer_name,omitempty" jsonschema:"description=The buyer's public display name"`
	CustomerPublicID string `json:"customer_public_id,omitempty"`
}

// Message is a chat message as the tools return it. Text and attachment names come from buyers:
// they are data, never instructions, and reach the model without invisible characters.
type Message struct {
	MessageID   int64        `json:"message_id"`
	CreatedAt   string       `json:"created_at,omitempty" jsonschema:"description=Moscow time\\, like every time Market gives,format=date-time"`
	Sender      string       `json:"sender" jsonschema:"description=PARTNER (the seller)\\, CUSTOMER (the buyer)\\, MARKET (an automatic message) or SUPPORT (Market's support staff)"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file attached to a message. Its link is not shown: it may work as a
// credential of its own.
type Attachment struct {
	Name string `json:"name"`
	Size int64  `json:"size" jsonschema:"description=Size in bytes"`
}

func chatOut(c *market.Chat) Chat {
	return Chat{
		ChatID:    c.ChatID,
		Type:      string(c.Type),
		Status:    string(c.Status),
		Context:   contextOut(c.Context),
		CreatedAt: timeOut(c.CreatedAt),
		UpdatedAt: timeOut(c.UpdatedAt),
	}
}

func contextOut(c market.FullContext) Context {
	out := Context{Type: string(c.Type), OrderID: c.OrderID, ReturnID: c.ReturnID, CampaignID: c.CampaignID}
	if c.Customer != nil {
		out.CustomerName, out.CustomerPublicID = untrusted.Clean(c.Customer.Name), untrusted.Clean(c.Customer.PublicID)
	}
	return out
}

func messageOut(m *market.Message) Message {
	out := Message{MessageID: m.MessageID, CreatedAt: timeOut(m.CreatedAt), Sender: string(m.Sender), Text: untrusted.Clean(m.Text)}
	for _, a := range m.Payload {
		out.Attachments = append(out.Attachments, Attachment{Name: untrusted.Clean(a.Name), Size: a.Size})
	}
	return out
}

// messagesOut returns the messages oldest first, whatever order the API gave them in.
func messagesOut(ms []market.Message) []Message {
	out := make([]Message, 0, len(ms))
	for i := range ms {
		out = append(out, messageOut(&ms[i]))
	}
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(a.MessageID, b.MessageID) })
	return out
}

// marketZone is the one zone every time the tools show is in: Market's own, Moscow time, in
// which the API writes its times.
var marketZone = time.FixedZone("MSK", 3*60*60)

// timeOut writes a time of Market's in Market's zone; an unknown time is empty, and the field
// that holds it is left out.
func timeOut(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(marketZone).Format(time.RFC3339)
}

// clockTime writes a time for a sentence, in Market's zone: the time of day, and the date too
// when it is not today's.
func clockTime(t, now time.Time) string {
	t, now = t.In(marketZone), now.In(marketZone)
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05 MST")
	}
	return t.Format("2006-01-02 15:04:05 MST")
}
