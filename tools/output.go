package tools

import (
	"cmp"
	"slices"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// The tools return compact projections of the API's answers: snake_case names, no deprecated
// fields, nothing a model does not need.

// Chat is a chat as the tools return it.
type Chat struct {
	ChatID    int64   `json:"chat_id"`
	Type      string  `json:"type" jsonschema:"description=CHAT (with a buyer) or ARBITRAGE (a dispute that Market arbitrates)"`
	Status    string  `json:"status" jsonschema:"description=Whose turn it is: WAITING_FOR_PARTNER means the seller must answer"`
	Context   Context `json:"context"`
	CreatedAt string  `json:"created_at" jsonschema:"format=date-time"`
	UpdatedAt string  `json:"updated_at" jsonschema:"description=Time of the last message,format=date-time"`
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
	CreatedAt   string       `json:"created_at" jsonschema:"format=date-time"`
	Sender      string       `json:"sender" jsonschema:"description=PARTNER (the seller)\\, CUSTOMER (the buyer)\\, MARKET (an automatic message) or SUPPORT (Market's support staff)"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name string `json:"name"`
	URL  string `json:"url"`
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
		out.CustomerName, out.CustomerPublicID = clean(c.Customer.Name), clean(c.Customer.PublicID)
	}
	return out
}

func messageOut(m *market.Message) Message {
	out := Message{MessageID: m.MessageID, CreatedAt: timeOut(m.CreatedAt), Sender: string(m.Sender), Text: clean(m.Text)}
	for _, a := range m.Payload {
		out.Attachments = append(out.Attachments, Attachment{Name: clean(a.Name), URL: a.URL, Size: a.Size})
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

// timeOut keeps the offset the API gave, as a model reads local time more easily.
func timeOut(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
