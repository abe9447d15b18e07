package markettest

import "time"

// ChatType is the kind of a chat (ChatType in the API).
type ChatType string

// The chat types the API documents.
const (
	ChatTypeChat      ChatType = "CHAT"      // a chat with a buyer
	ChatTypeArbitrage ChatType = "ARBITRAGE" // a dispute that Market arbitrates
)

// ChatStatus says whose turn it is in a chat (ChatStatusType in the API).
type ChatStatus string

// The chat statuses the API documents.
const (
	StatusNew                ChatStatus = "NEW"
	StatusWaitingForCustomer ChatStatus = "WAITING_FOR_CUSTOMER"
	StatusWaitingForPartner  ChatStatus = "WAITING_FOR_PARTNER" // the seller must answer
	StatusWaitingForArbiter  ChatStatus = "WAITING_FOR_ARBITER"
	StatusWaitingForMarket   ChatStatus = "WAITING_FOR_MARKET"
	StatusFinished           ChatStatus = "FINISHED"
)

// ContextType says what a chat is about (ChatContextType in the API).
type ContextType string

// The context types the API documents. A seller can open chats only about an order or a return.
const (
	ContextOrder  ContextType = "ORDER"
	ContextReturn ContextType = "RETURN"
	ContextDirect ContextType = "DIRECT" // started by the buyer, e.g. a question about a product
)

// Sender says who wrote a message (ChatMessageSenderType in the API).
type Sender string

// The senders the API documents.
const (
	SenderPartner  Sender = "PARTNER" // the seller
	SenderCustomer Sender = "CUSTOMER"
	SenderMarket   Sender = "MARKET"  // an automatic message from Market
	SenderSupport  Sender = "SUPPORT" // Market's support staff
)

// The values a request may name; anything else is refused as the API's enum parsing would.
var (
	chatTypes    = []ChatType{ChatTypeChat, ChatTypeArbitrage}
	chatStatuses = []ChatStatus{
		StatusNew, StatusWaitingForCustomer, StatusWaitingForPartner,
		StatusWaitingForArbiter, StatusWaitingForMarket, StatusFinished,
	}
	contextTypes = []ContextType{ContextOrder, ContextReturn, ContextDirect}
)

// Customer is the buyer's public Yandex Passport identity (ChatCustomerDTO).
type Customer struct {
	Name     string `json:"name,omitempty"`
	PublicID string `json:"publicId,omitempty"`
}

// Context is what a chat is about (ChatFullContextDTO). A DIRECT chat carries only Type and
// Customer; ReturnID is set only for returns.
type Context struct {
	Type       ContextType `json:"type"`
	Customer   Customer    `json:"customer,omitzero"`
	CampaignID int64       `json:"campaignId,omitempty"`
	OrderID    int64       `json:"orderId,omitempty"`
	ReturnID   int64       `json:"returnId,omitempty"`
}

// Chat is a chat as getChats and getChat return it (GetChatInfoDTO). Times are whole seconds in
// Moscow time (+03:00), as the API writes them.
type Chat struct {
	ChatID int64 `json:"chatId"`
	// OrderID is the API's deprecated copy of Context.OrderID; the server keeps it equal to that.
	OrderID   int64      `json:"orderId,omitempty"`
	Context   Context    `json:"context"`
	Type      ChatType   `json:"type"`
	Status    ChatStatus `json:"status"`
	CreatedAt time.Time  `json:"createdAt"`
	// UpdatedAt is the time of the last message, or CreatedAt while there is none.
	UpdatedAt time.Time `json:"updatedAt"`
}

// Message is one message of a chat (ChatMessageDTO). It carries text, attachments or both.
type Message struct {
	MessageID int64        `json:"messageId"`
	CreatedAt time.Time    `json:"createdAt"`
	Sender    Sender       `json:"sender"`
	Message   string       `json:"message,omitempty"`
	Payload   []Attachment `json:"payload,omitempty"`
}

// Attachment is a file attached to a message (ChatMessagePayloadDTO).
type Attachment struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Size int    `json:"size"`
}

// Order is an order of the seller that a chat can be opened about with createChat.
type Order struct {
	ID         int64
	CampaignID int64
	Customer   Customer
}

// Return is a return of one of the seller's orders that a chat can be opened about.
type Return struct {
	ID      int64
	OrderID int64
}
