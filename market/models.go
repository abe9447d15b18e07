package market

import "time"

// ChatType is the kind of a chat. The API may add values; unknown ones are kept as they come.
type ChatType string

// Chat types the API documents.
const (
	ChatTypeChat      ChatType = "CHAT"      // a chat with a buyer
	ChatTypeArbitrage ChatType = "ARBITRAGE" // a dispute with Market as the arbiter
)

// ChatStatus says whose turn it is in a chat. Unknown values are kept as they come.
type ChatStatus string

// Chat statuses the API documents.
const (
	StatusNew                ChatStatus = "NEW"
	StatusWaitingForCustomer ChatStatus = "WAITING_FOR_CUSTOMER"
	StatusWaitingForPartner  ChatStatus = "WAITING_FOR_PARTNER" // the seller must answer
	StatusWaitingForArbiter  ChatStatus = "WAITING_FOR_ARBITER"
	StatusWaitingForMarket   ChatStatus = "WAITING_FOR_MARKET"
	StatusFinished           ChatStatus = "FINISHED"
)

// ContextType says what a chat is about. Unknown values are kept as they come.
type ContextType string

// Context types the API documents. A seller can open chats only about an order or a return.
const (
	ContextOrder  ContextType = "ORDER"
	ContextReturn ContextType = "RETURN"
	ContextDirect ContextType = "DIRECT" // started by the buyer, e.g. a question about a product
)

// Sender says who wrote a message. Unknown values are kept as they come.
type Sender string

// Senders the API documents.
const (
	SenderPartner  Sender = "PARTNER" // the seller
	SenderCustomer Sender = "CUSTOMER"
	SenderMarket   Sender = "MARKET"  // an automatic message from Market
	SenderSupport  Sender = "SUPPORT" // Market's support staff
)

// ChatContext names the order or the return a chat is about (ChatContextDTO).
type ChatContext struct {
	Type ContextType `json:"type"`
	ID   int64       `json:"id"`
}

// Customer is the buyer's public Yandex Passport identity (ChatCustomerDTO).
type Customer struct {
	Name     string `json:"name,omitempty"`
	PublicID string `json:"publicId,omitempty"`
}

// FullContext is what a chat is about, as the API returns it (ChatFullContextDTO).
// A DIRECT chat carries only Type and perhaps Customer.
type FullContext struct {
	Type       ContextType `json:"type"`
	Customer   *Customer   `json:"customer,omitempty"`
	CampaignID int64       `json:"campaignId,omitempty"`
	OrderID    int64       `json:"orderId,omitempty"`
	ReturnID   int64       `json:"returnId,omitempty"`
}

// Chat is one chat with a buyer (GetChatInfoDTO).
type Chat struct {
	ChatID int64 `json:"chatId"`
	// OrderID is deprecated by the API in favour of Context.OrderID; older answers carry only this.
	OrderID   int64       `json:"orderId,omitempty"`
	Context   FullContext `json:"context"`
	Type      ChatType    `json:"type"`
	Status    ChatStatus  `json:"status"`
	CreatedAt time.Time   `json:"createdAt"`
	// UpdatedAt is the time of the last message in the chat.
	UpdatedAt time.Time `json:"updatedAt"`
}

// Attachment is a file attached to a message (ChatMessagePayloadDTO).
type Attachment struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Size int64  `json:"size"`
}

// Message is one message of a chat (ChatMessageDTO).
type Message struct {
	MessageID int64        `json:"messageId"`
	CreatedAt time.Time    `json:"createdAt"`
	Sender    Sender       `json:"sender"`
	Text      string       `json:"message,omitempty"`
	Payload   []Attachment `json:"payload,omitempty"`
}

// ChatsFilter narrows getChats. Empty fields are left out of the request: the API answers 400 to
// an empty array.
type ChatsFilter struct {
	// OrderIDs is deprecated by the API in favour of Contexts.
	OrderIDs     []int64       `json:"orderIds,omitempty"`
	Contexts     []ChatContext `json:"contexts,omitempty"`
	ContextTypes []ContextType `json:"contextTypes,omitempty"`
	Types        []ChatType    `json:"types,omitempty"`
	Statuses     []ChatStatus  `json:"statuses,omitempty"`
}

// Page selects one page of a cursor-paged list. A zero Limit leaves the API's default; an empty
// Token asks for the first page.
type Page struct {
	Token string
	Limit int
}

// ChatsPage is one page of getChats.
type ChatsPage struct {
	Chats []Chat
	// NextPageToken is empty on the last page.
	NextPageToken string
}

// History is one page of a chat's messages (ChatMessagesResultDTO).
type History struct {
	Context  FullContext
	Messages []Message
	// NextPageToken is empty on the last page.
	NextPageToken string
}

// File is a file to send to a chat.
type File struct {
	Name        string
	ContentType string // sent as the part's Content-Type; empty means application/octet-stream
	Data        []byte
}
