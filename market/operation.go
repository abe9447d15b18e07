package market

import "net/http"

// Operation is one Partner API method of the chat group, with what the client needs to know to
// call it safely: where it lives, its hourly budget, and whether it changes state.
type Operation struct {
	// Name is the API's operationId, e.g. "getChats".
	Name string
	// Method and Path locate the operation; Path follows /v2/businesses/{businessId}.
	Method string
	Path   string
	// HourlyLimit is the documented number of requests per hour per business.
	HourlyLimit int
	// Write is true for operations that change what the buyer sees.
	Write bool
	// Idempotent is true when repeating the request cannot do anything twice: every read, and
	// createChat, which returns the existing chat for the same order or return.
	Idempotent bool
}

// The chat operations, as the current API reference documents them.
var (
	OpGetChats       = Operation{"getChats", http.MethodPost, "/chats", 5000, false, true}
	OpGetChat        = Operation{"getChat", http.MethodGet, "/chat", 1000, false, true}
	OpGetChatHistory = Operation{"getChatHistory", http.MethodPost, "/chats/history", 10000, false, true}
	OpGetChatMessage = Operation{"getChatMessage", http.MethodGet, "/chats/message", 1000, false, true}
	OpCreateChat     = Operation{"createChat", http.MethodPost, "/chats/new", 1000, true, true}
	OpSendMessage    = Operation{"sendMessageToChat", http.MethodPost, "/chats/message", 1000, true, false}
	OpSendFile       = Operation{"sendFileToChat", http.MethodPost, "/chats/file/send", 1000, true, false}
)

// Operations lists every chat operation.
var Operations = []Operation{
	OpGetChats, OpGetChat, OpGetChatHistory, OpGetChatMessage, OpCreateChat, OpSendMessage, OpSendFile,
}
