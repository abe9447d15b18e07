package markettest

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
)

// Chats returns every chat in the order getChats lists them: latest activity first.
func (s *Server) Chats() []Chat {
	chats, _ := s.data().listChats(func(*Chat) bool { return true }, nil, math.MaxInt)
	return chats
}

// Chat returns the chat with the given id.
func (s *Server) Chat(id int64) (Chat, bool) {
	c, err := s.data().chat(id)
	return c, err == nil
}

// Messages returns the messages of a chat, oldest first, or nil for an unknown chat.
func (s *Server) Messages(chatID int64) []Message {
	s.data().mu.RLock()
	defer s.data().mu.RUnlock()
	rec, ok := s.data().chats[chatID]
	if !ok {
		return nil
	}
	msgs := slices.Clone(rec.messages)
	for i := range msgs {
		msgs[i].Payload = slices.Clone(msgs[i].Payload)
	}
	return msgs
}

// AddChat stores c, replacing the chat with the same ChatID but keeping its messages, and returns
// the chat as stored; a new one is notified (see NotifyTo). A zero ChatID gets the next free id, a zero Type is CHAT, a zero Status is
// NEW, a zero CreatedAt is the clock's time and a zero UpdatedAt is CreatedAt. OrderID is set
// from Context.OrderID. Use it to set up a state, or to change a chat's status.
func (s *Server) AddChat(c Chat) Chat {
	s.data().mu.Lock()
	_, exists := s.data().chats[c.ChatID]
	c = s.data().putChat(c)
	s.data().mu.Unlock()
	if !exists {
		s.notifyChat("CHAT_CREATED", c)
	}
	return c
}

// AddMessage adds m to a chat, replacing the message with the same MessageID, and returns the
// message as stored; it reports false if there is no such chat. A zero MessageID gets the next
// free id and a zero CreatedAt the clock's time. The chat's UpdatedAt moves up to the message's
// time; its status stays as it is (change it with AddChat). The message is notified (see
// NotifyTo).
func (s *Server) AddMessage(chatID int64, m Message) (Message, bool) {
	s.data().mu.Lock()
	rec, ok := s.data().chats[chatID]
	if !ok {
		s.data().mu.Unlock()
		return Message{}, false
	}
	m.Payload = slices.Clone(m.Payload)
	m = s.data().putMessage(rec, m)
	s.data().mu.Unlock()
	s.notifyMessage(chatID, m)
	return m, true
}

// Orders returns the seller's orders by ascending id, those without a chat included.
func (s *Server) Orders() []Order {
	s.data().mu.RLock()
	defer s.data().mu.RUnlock()
	return slices.SortedFunc(maps.Values(s.data().orders), func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
}

// Returns returns the returns of the seller's orders by ascending id, those without a chat
// included.
func (s *Server) Returns() []Return {
	s.data().mu.RLock()
	defer s.data().mu.RUnlock()
	return slices.SortedFunc(maps.Values(s.data().returns), func(a, b Return) int { return cmp.Compare(a.ID, b.ID) })
}

// AddOrder adds an order that createChat can open a chat about, replacing one with the same id.
func (s *Server) AddOrder(o Order) {
	s.data().mu.Lock()
	defer s.data().mu.Unlock()
	s.data().orders[o.ID] = o
}

// AddReturn adds a return that createChat can open a chat about, replacing one with the same id.
// It panics if the return's order is unknown: add the order first.
func (s *Server) AddReturn(r Return) {
	s.data().mu.Lock()
	defer s.data().mu.Unlock()
	if _, ok := s.data().orders[r.OrderID]; !ok {
		panic(fmt.Sprintf("markettest: return %d is of unknown order %d", r.ID, r.OrderID))
	}
	s.data().returns[r.ID] = r
}
