package markettest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// moscow is the offset the API writes its times in.
var moscow = time.FixedZone("MSK", 3*60*60)

// apiTime returns t as the API writes times: whole seconds, Moscow time.
func apiTime(t time.Time) time.Time { return t.Truncate(time.Second).In(moscow) }

// store is the server's state: the seller's orders, returns, chats and the files sent to them.
type store struct {
	mu      sync.RWMutex
	now     func() time.Time
	baseURL string // prefix of the links to stored files
	chats   map[int64]*chatRecord
	orders  map[int64]Order
	returns map[int64]Return
	files   map[int64]upload

	lastChatID, lastMessageID, lastFileID int64
}

type chatRecord struct {
	chat     Chat
	messages []Message // by ascending MessageID
}

func newStore(now func() time.Time) *store {
	return &store{
		now:     now,
		chats:   make(map[int64]*chatRecord),
		orders:  make(map[int64]Order),
		returns: make(map[int64]Return),
		files:   make(map[int64]upload),
	}
}

// putChat stores c, or replaces the chat with its ChatID while keeping the messages, and returns
// it as stored. The caller holds st.mu.
func (st *store) putChat(c Chat) Chat {
	if c.ChatID == 0 {
		st.lastChatID++
		c.ChatID = st.lastChatID
	}
	st.lastChatID = max(st.lastChatID, c.ChatID)
	c.OrderID = c.Context.OrderID
	c.Type = cmp.Or(c.Type, ChatTypeChat)
	c.Status = cmp.Or(c.Status, StatusNew)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = st.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = apiTime(c.CreatedAt), apiTime(c.UpdatedAt)
	rec := st.chats[c.ChatID]
	if rec == nil {
		rec = &chatRecord{}
		st.chats[c.ChatID] = rec
	}
	rec.chat = c
	return c
}

// putMessage adds m to a chat, or replaces the message with its MessageID, and moves the chat's
// UpdatedAt to it. The caller holds st.mu.
func (st *store) putMessage(rec *chatRecord, m Message) Message {
	if m.MessageID == 0 {
		st.lastMessageID++
		m.MessageID = st.lastMessageID
	}
	st.lastMessageID = max(st.lastMessageID, m.MessageID)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = st.now()
	}
	m.CreatedAt = apiTime(m.CreatedAt)
	if i, found := slices.BinarySearchFunc(rec.messages, m.MessageID, byMessageID); found {
		rec.messages[i] = m
	} else {
		rec.messages = slices.Insert(rec.messages, i, m)
	}
	if m.CreatedAt.After(rec.chat.UpdatedAt) {
		rec.chat.UpdatedAt = m.CreatedAt
	}
	return m
}

func byMessageID(m Message, id int64) int { return cmp.Compare(m.MessageID, id) }

// putFile keeps an uploaded file and returns the attachment that links to it. The caller holds
// st.mu.
func (st *store) putFile(u upload) Attachment {
	st.lastFileID++
	st.files[st.lastFileID] = u
	return Attachment{
		Name: u.name,
		URL:  fmt.Sprintf("%s%s%d/%s", st.baseURL, filesPath, st.lastFileID, url.PathEscape(u.name)),
		Size: len(u.data),
	}
}

// byActivity orders chats as getChats lists them: latest activity first, then higher ids first.
func byActivity(a, b Chat) int {
	if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.ChatID, a.ChatID)
}

// listChats returns up to limit chats that match, in getChats order, starting past the chat
// the cursor (UpdatedAt in Unix nanoseconds, ChatID) names, and whether more follow.
func (st *store) listChats(match func(*Chat) bool, cursor []int64, limit int) ([]Chat, bool) {
	st.mu.RLock()
	var list []Chat
	for _, rec := range st.chats {
		if match(&rec.chat) {
			list = append(list, rec.chat)
		}
	}
	st.mu.RUnlock()
	slices.SortFunc(list, byActivity)
	var past func(Chat) bool
	if cursor != nil {
		last := Chat{UpdatedAt: time.Unix(0, cursor[0]), ChatID: cursor[1]}
		past = func(c Chat) bool { return byActivity(c, last) > 0 }
	}
	return page(list, past, limit)
}

// openChat returns the chat with the buyer about an order or a return, and creates it if there
// is none; created tells which. Assumption: an ARBITRAGE chat about the same order is a
// different chat, so it is not what createChat returns.
func (st *store) openChat(ref contextRef) (chat Chat, created bool, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var found int64
	for id, rec := range st.chats {
		if rec.chat.Type == ChatTypeChat && ref.matches(rec.chat.Context) && (found == 0 || id < found) {
			found = id
		}
	}
	if found != 0 {
		return st.chats[found].chat, false, nil
	}
	var ctx Context
	if ref.Type == ContextReturn {
		r, ok := st.returns[ref.ID]
		if !ok {
			return Chat{}, false, errorf(http.StatusNotFound, "Return not found: '%d'", ref.ID)
		}
		ctx = returnContext(r, st.orders[r.OrderID])
	} else {
		o, ok := st.orders[ref.ID]
		if !ok {
			return Chat{}, false, errorf(http.StatusNotFound, "Order not found: '%d'", ref.ID)
		}
		ctx = orderContext(o)
	}
	return st.putChat(Chat{Context: ctx, Type: ChatTypeChat, Status: StatusNew}), true, nil
}

func orderContext(o Order) Context {
	return Context{Type: ContextOrder, Customer: o.Customer, CampaignID: o.CampaignID, OrderID: o.ID}
}

func returnContext(r Return, o Order) Context {
	c := orderContext(o)
	c.Type, c.ReturnID = ContextReturn, r.ID
	return c
}

func (st *store) chat(id int64) (Chat, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	rec, ok := st.chats[id]
	if !ok {
		return Chat{}, chatNotFound(id)
	}
	return rec.chat, nil
}

// historyQuery selects a page of a chat's messages.
type historyQuery struct {
	chatID      int64
	minID       int64   // the smallest MessageID to return
	cursor      []int64 // the MessageID of the last message of the previous page
	limit       int
	newestFirst bool
}

// history returns the chat and a page of its messages, and whether more follow.
func (st *store) history(q historyQuery) (Chat, []Message, bool, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	rec, ok := st.chats[q.chatID]
	if !ok {
		return Chat{}, nil, false, chatNotFound(q.chatID)
	}
	i, _ := slices.BinarySearchFunc(rec.messages, q.minID, byMessageID)
	msgs := rec.messages[i:]
	var past func(Message) bool
	if q.newestFirst {
		msgs = slices.Clone(msgs)
		slices.Reverse(msgs)
		if q.cursor != nil {
			past = func(m Message) bool { return m.MessageID < q.cursor[0] }
		}
	} else if q.cursor != nil {
		past = func(m Message) bool { return m.MessageID > q.cursor[0] }
	}
	msgs, more := page(msgs, past, q.limit)
	return rec.chat, slices.Clone(msgs), more, nil
}

func (st *store) message(chatID, messageID int64) (Message, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	rec, ok := st.chats[chatID]
	if !ok {
		return Message{}, chatNotFound(chatID)
	}
	i, found := slices.BinarySearchFunc(rec.messages, messageID, byMessageID)
	if !found {
		return Message{}, errorf(http.StatusNotFound, "Can't find message by id: '%d' for chat '%d'", messageID, chatID)
	}
	return rec.messages[i], nil
}

// post adds the seller's message, with the uploaded file if u is not nil, to a chat, passes
// the turn to the buyer, and returns the message as stored.
func (st *store) post(chatID int64, text string, u *upload) (Message, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	rec, ok := st.chats[chatID]
	if !ok {
		return Message{}, chatNotFound(chatID)
	}
	if rec.chat.Status == StatusFinished {
		// Assumption: the reference does not say what a closed chat answers to a new message;
		// the seller cannot write there in the Market's UI, so the server refuses with 400.
		return Message{}, badRequestf("Chat '%d' is closed (status FINISHED): it accepts no new messages", chatID)
	}
	m := Message{Sender: SenderPartner, Message: text}
	if u != nil {
		m.Payload = []Attachment{st.putFile(*u)}
	}
	m = st.putMessage(rec, m)
	// In a dispute the arbiter, not the seller's message, decides whose turn it is.
	if rec.chat.Type != ChatTypeArbitrage {
		rec.chat.Status = StatusWaitingForCustomer
	}
	return m, nil
}

func (st *store) file(id int64) (upload, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	f, ok := st.files[id]
	return f, ok
}
