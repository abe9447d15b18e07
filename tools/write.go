package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// CreateChatInput are create_chat's arguments: exactly one of OrderID and ReturnID.
type CreateChatInput struct {
	OrderID  int64 `json:"order_id,omitempty" jsonschema:"description=The order to open a chat about. Give this or return_id.,minimum=1"`
	ReturnID int64 `json:"return_id,omitempty" jsonschema:"description=The return to open a chat about (FBY\\, FBS and Express shops). Give this or order_id.,minimum=1"`
	In
}

// Validate checks the rule a top-level schema cannot portably express.
func (in CreateChatInput) Validate() error {
	if (in.OrderID == 0) == (in.ReturnID == 0) {
		return errors.New("give exactly one of order_id and return_id")
	}
	return nil
}

// CreatedChat is create_chat's result.
type CreatedChat struct {
	ChatID  int64   `json:"chat_id,omitempty" jsonschema:"description=The chat; absent when the user did not approve opening it"`
	Context Context `json:"context"`
	Asked
}

var createChat = &Tool[CreateChatInput, CreatedChat]{
	Name:  "create_chat",
	Title: "Open a chat about an order or a return",
	Description: `Opens a chat with the buyer of an order (order_id) or of a return (return_id) and returns its chat_id, ` +
		`for send_message or send_file. If a chat about that order or return already exists, Market returns that chat instead of ` +
		`opening a second one, so calling this twice is safe. Buyers start DIRECT chats themselves; the seller cannot create them.`,
	Op: market.OpCreateChat,
	Call: func(ctx context.Context, env *Env, in CreateChatInput) (CreatedChat, error) {
		about := market.ChatContext{Type: market.ContextOrder, ID: in.OrderID}
		out := CreatedChat{Context: Context{Type: string(market.ContextOrder), OrderID: in.OrderID}}
		if in.ReturnID != 0 {
			about = market.ChatContext{Type: market.ContextReturn, ID: in.ReturnID}
			out.Context = Context{Type: string(market.ContextReturn), ReturnID: in.ReturnID}
		}
		d, err := env.ask(ctx, question{message: func(context.Context) (string, error) {
			return fmt.Sprintf("Open a chat with the buyer of %s %d?\n%s", strings.ToLower(string(about.Type)), about.ID, env.cabinetLine()), nil
		}})
		if err != nil {
			return CreatedChat{}, err
		}
		if out.Asked = d.asked("The chat was not opened"); !d.sends() {
			return out, nil
		}
		if out.ChatID, err = env.Market.CreateChat(ctx, about); err != nil {
			return CreatedChat{}, aboutContext(err, about)
		}
		return out, nil
	},
}

func aboutContext(err error, c market.ChatContext) error {
	const notFound = "check the id in the seller's cabinet; list_chats shows the orders and returns that have chats"
	if c.Type == market.ContextReturn {
		return about(err, notFound, "return %d", c.ID)
	}
	return about(err, notFound, "order %d", c.ID)
}

// SendMessageInput are send_message's arguments.
type SendMessageInput struct {
	ChatID  int64  `json:"chat_id" jsonschema:"description=The chat to answer in.,minimum=1"`
	Message string `json:"message" jsonschema:"description=The text to send to the buyer\\, as the seller. Plain text.,minLength=1,maxLength=4096"`
	In
}

// Sent is send_message's result.
type Sent struct {
	ChatID int64  `json:"chat_id"`
	SentAt string `json:"sent_at,omitempty" jsonschema:"description=When Market accepted the message; absent when nothing was sent,format=date-time"`
	// Text is the message as the user edited it before it went.
	Text string `json:"text,omitempty" jsonschema:"description=The message as it went\\, when the user edited it before approving"`
	Asked
}

var sendMessage = &Tool[SendMessageInput, Sent]{
	Name:  "send_message",
	Title: "Send a message to a buyer",
	Description: `Sends a text message (1 to 4096 characters) to a chat on behalf of the seller; the buyer sees it at once and it cannot be ` +
		`taken back. Read the chat with get_history first. A chat in status WAITING_FOR_PARTNER is waiting for exactly this. ` +
		`The server never delivers the same message twice, even when the network fails mid-send, so do not resend on an unclear error: check get_history.`,
	Op: market.OpSendMessage,
	Call: func(ctx context.Context, env *Env, in SendMessageInput) (Sent, error) {
		d, err := env.ask(ctx, question{editable: in.Message, message: func(ctx context.Context) (string, error) {
			return env.sendQuestion(ctx, in.ChatID, "Send this message to the buyer? You may edit it first.\n", in.Message)
		}})
		if err != nil {
			return Sent{}, err
		}
		out := Sent{ChatID: in.ChatID, Asked: d.asked("The message was not sent")}
		if !d.sends() {
			return out, nil
		}
		text := cmp.Or(d.Text, in.Message)
		if d.Status == approvalEdited {
			out.Text = text
		}
		sent, err := env.Market.SendMessage(ctx, in.ChatID, text)
		if err != nil {
			return Sent{}, sendError(ctx, env, in.ChatID, err)
		}
		out.SentAt = timeOut(sent.At)
		return out, nil
	},
}
