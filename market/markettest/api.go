package markettest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The operations the server implements, by their operationId in the API. Inject, WithBudget and
// Stats name operations this way.
const (
	OpCreateChat        = "createChat"
	OpGetChats          = "getChats"
	OpGetChat           = "getChat"
	OpGetChatHistory    = "getChatHistory"
	OpGetChatMessage    = "getChatMessage"
	OpSendMessageToChat = "sendMessageToChat"
	OpSendFileToChat    = "sendFileToChat"
)

// maxMessageLength is the longest message text, in characters.
const maxMessageLength = 4096

const businessesPath = "/v2/businesses/"

// operation is one API method: where it lives, its documented hourly budget and its handler.
type operation struct {
	name    string
	method  string
	path    string // below /v2/businesses/{businessId}
	budget  int
	maxBody int // zero: maxJSONBody
	handle  func(*Server, *call) (any, error)
}

var operations = []operation{
	{name: OpCreateChat, method: http.MethodPost, path: "/chats/new", budget: 1000, handle: (*Server).createChat},
	{name: OpGetChats, method: http.MethodPost, path: "/chats", budget: 5000, handle: (*Server).getChats},
	{name: OpGetChat, method: http.MethodGet, path: "/chat", budget: 1000, handle: (*Server).getChat},
	{name: OpGetChatHistory, method: http.MethodPost, path: "/chats/history", budget: 10000, handle: (*Server).getChatHistory},
	{name: OpGetChatMessage, method: http.MethodGet, path: "/chats/message", budget: 1000, handle: (*Server).getChatMessage},
	{name: OpSendMessageToChat, method: http.MethodPost, path: "/chats/message", budget: 1000, handle: (*Server).sendMessageToChat},
	{name: OpSendFileToChat, method: http.MethodPost, path: "/chats/file/send", budget: 1000, maxBody: maxUploadBody, handle: (*Server).sendFileToChat},
}

// resource names the operation in the messages of its 420 answers.
func (op *operation) resource() string { return businessesPath + "{businessId}" + op.path }

func (op *operation) bodyLimit() int { return cmp.Or(op.maxBody, maxJSONBody) }

func mustOperation(name string) {
	if !slices.ContainsFunc(operations, func(op operation) bool { return op.name == name }) {
		panic(fmt.Sprintf("markettest: unknown operation %q", name))
	}
}

// findOperation resolves a request to an operation and the {businessId} segment of its path.
// With no operation, allowed lists the methods the path has; it is empty for an unknown path.
func findOperation(method, path string) (op *operation, business string, allowed []string) {
	rest, ok := strings.CutPrefix(path, businessesPath)
	if !ok {
		return nil, "", nil
	}
	business, sub, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, "", nil
	}
	sub = "/" + sub
	for i := range operations {
		if operations[i].path != sub {
			continue
		}
		if operations[i].method == method {
			return &operations[i], business, nil
		}
		allowed = append(allowed, operations[i].method)
	}
	return nil, "", allowed
}

// contextRef names an order or a return (ChatContextDTO).
type contextRef struct {
	Type ContextType `json:"type"`
	ID   int64       `json:"id"`
}

func (r contextRef) matches(c Context) bool {
	switch r.Type {
	case ContextOrder:
		return c.Type == ContextOrder && c.OrderID == r.ID
	case ContextReturn:
		return c.Type == ContextReturn && c.ReturnID == r.ID
	}
	return false
}

// checkContext refuses what the API's ChatContextIdentifiableType refuses: a seller names only
// orders and returns, never a DIRECT chat.
func checkContext(field string, r contextRef) error {
	if r.Type != ContextOrder && r.Type != ContextReturn {
		return badRequestf("%s.type must be ORDER or RETURN (rejected value: '%s')", field, r.Type)
	}
	return atLeastOne(field+".id", r.ID)
}

func atLeastOne(field string, v int64) error {
	if v < 1 {
		return badRequestf("%s must be greater than or equal to 1 (rejected value: %d)", field, v)
	}
	return nil
}

func oneOf[T comparable](values []T) func(string, T) error {
	return func(field string, v T) error {
		if !slices.Contains(values, v) {
			return badRequestf("%s must be one of %v (rejected value: '%v')", field, values, v)
		}
		return nil
	}
}

// checkList checks an optional filter array as the API's schema does: when present it has at
// least one item (minItems: 1), its items are valid and unique (uniqueItems).
func checkList[T comparable](name string, items []T, check func(string, T) error) error {
	if items == nil {
		return nil
	}
	if len(items) == 0 {
		return badRequestf("%s must contain at least 1 item; leave it out to not filter by it", name)
	}
	for i, v := range items {
		if err := check(fmt.Sprintf("%s[%d]", name, i), v); err != nil {
			return err
		}
		if slices.Contains(items[:i], v) {
			return badRequestf("%s must contain unique items (%v is repeated)", name, v)
		}
	}
	return nil
}

func within[T comparable](set []T, v T) bool { return set == nil || slices.Contains(set, v) }

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) createChat(c *call) (any, error) {
	var req struct {
		OrderID *int64      `json:"orderId"` // the deprecated way to name an order
		Context *contextRef `json:"context"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	// Assumption: when a request has both, the context wins.
	var ref contextRef
	switch {
	case req.Context != nil:
		if err := checkContext("context", *req.Context); err != nil {
			return nil, err
		}
		ref = *req.Context
	case req.OrderID != nil:
		if err := atLeastOne("orderId", *req.OrderID); err != nil {
			return nil, err
		}
		ref = contextRef{Type: ContextOrder, ID: *req.OrderID}
	default:
		return nil, badRequestf("context is required")
	}
	chat, created, err := s.data().openChat(ref)
	if err != nil {
		return nil, err
	}
	if created {
		s.notifyChat("CHAT_CREATED", chat)
	}
	return struct {
		ChatID int64 `json:"chatId"`
	}{chat.ChatID}, nil
}

// chatFilter is GetChatsRequest. A nil field is absent or null; an empty one was sent as [].
type chatFilter struct {
	OrderIDs     []int64       `json:"orderIds"`
	Contexts     []contextRef  `json:"contexts"`
	ContextTypes []ContextType `json:"contextTypes"`
	Types        []ChatType    `json:"types"`
	Statuses     []ChatStatus  `json:"statuses"`
}

func (f *chatFilter) validate() error {
	return cmp.Or(
		checkList("orderIds", f.OrderIDs, atLeastOne),
		checkList("contexts", f.Contexts, checkContext),
		checkList("contextTypes", f.ContextTypes, oneOf(contextTypes)),
		checkList("types", f.Types, oneOf(chatTypes)),
		checkList("statuses", f.Statuses, oneOf(chatStatuses)),
	)
}

// match applies every filter present. Assumption: the deprecated orderIds matches the chat's
// orderId, so it finds return chats of those orders too.
func (f *chatFilter) match(c *Chat) bool {
	return within(f.OrderIDs, c.OrderID) &&
		within(f.ContextTypes, c.Context.Type) &&
		within(f.Types, c.Type) &&
		within(f.Statuses, c.Status) &&
		(f.Contexts == nil || slices.ContainsFunc(f.Contexts, func(r contextRef) bool { return r.matches(c.Context) }))
}

type chatsResult struct {
	Chats  []Chat  `json:"chats"`
	Paging *paging `json:"paging,omitempty"`
}

func (s *Server) getChats(c *call) (any, error) {
	limit, err := c.limit(10, 20)
	if err != nil {
		return nil, err
	}
	var f chatFilter
	if err := c.decode(&f); err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	d := digest(OpGetChats, f)
	cursor, err := c.cursor(d, 2)
	if err != nil {
		return nil, err
	}
	chats, more := s.data().listChats(f.match, cursor, limit)
	res := chatsResult{Chats: orEmpty(chats)}
	if more {
		last := chats[len(chats)-1]
		res.Paging = nextPage(d, last.UpdatedAt.UnixNano(), last.ChatID)
	}
	return res, nil
}

func (s *Server) getChat(c *call) (any, error) {
	id, err := c.id("chatId")
	if err != nil {
		return nil, err
	}
	chat, err := s.data().chat(id)
	if err != nil {
		return nil, err
	}
	return chat, nil
}

type historyResult struct {
	OrderID  int64     `json:"orderId,omitempty"` // deprecated by the API in favour of Context
	Context  Context   `json:"context"`
	Messages []Message `json:"messages"`
	Paging   *paging   `json:"paging,omitempty"`
}

// getChatHistory pages through a chat's messages. Assumption: the reference leaves open their
// order and whether messageIdFrom includes the message it names; the server answers oldest first
// and includes it, and options turn either around.
func (s *Server) getChatHistory(c *call) (any, error) {
	chatID, err := c.id("chatId")
	if err != nil {
		return nil, err
	}
	q := historyQuery{chatID: chatID, newestFirst: s.cfg.newestFirst}
	if q.limit, err = c.limit(50, 100); err != nil {
		return nil, err
	}
	var req struct {
		MessageIDFrom *int64 `json:"messageIdFrom"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if from := req.MessageIDFrom; from != nil {
		if err := atLeastOne("messageIdFrom", *from); err != nil {
			return nil, err
		}
		q.minID = *from
		if s.cfg.exclusiveFrom {
			q.minID++
		}
	}
	d := digest(OpGetChatHistory, chatID, q.minID)
	if q.cursor, err = c.cursor(d, 1); err != nil {
		return nil, err
	}
	chat, msgs, more, err := s.data().history(q)
	if err != nil {
		return nil, err
	}
	res := historyResult{OrderID: chat.OrderID, Context: chat.Context, Messages: orEmpty(msgs)}
	if more {
		res.Paging = nextPage(d, msgs[len(msgs)-1].MessageID)
	}
	return res, nil
}

func (s *Server) getChatMessage(c *call) (any, error) {
	chatID, err := c.id("chatId")
	if err != nil {
		return nil, err
	}
	messageID, err := c.id("messageId")
	if err != nil {
		return nil, err
	}
	m, err := s.data().message(chatID, messageID)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Server) sendMessageToChat(c *call) (any, error) {
	chatID, err := c.id("chatId")
	if err != nil {
		return nil, err
	}
	var req struct {
		Message *string `json:"message"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Message == nil {
		return nil, badRequestf("message is required")
	}
	// The API counts characters, not bytes.
	if n := utf8.RuneCountInString(*req.Message); n < 1 || n > maxMessageLength {
		return nil, badRequestf("message must be 1 to %d characters long (got %d)", maxMessageLength, n)
	}
	m, err := s.data().post(chatID, *req.Message, nil)
	return nil, s.posted(chatID, m, err)
}

func (s *Server) sendFileToChat(c *call) (any, error) {
	chatID, err := c.id("chatId")
	if err != nil {
		return nil, err
	}
	u, err := c.upload()
	if err != nil {
		return nil, err
	}
	m, err := s.data().post(chatID, "", &u)
	return nil, s.posted(chatID, m, err)
}
