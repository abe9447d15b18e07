package markettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// WithBuyers makes the server's buyers come alive, as the sandbox's do: a buyer answers each of
// the seller's messages replyAfter after it, and every questionEvery a buyer asks something new,
// now and then with a photo. Their messages are stored as any message is, and notified (see
// NotifyTo). Zero durations leave either out.
func WithBuyers(replyAfter, questionEvery time.Duration) Option {
	return func(c *config) { c.replyAfter, c.questionEvery = replyAfter, questionEvery }
}

// NotifyTo makes the server post Market's push notifications to url with client (nil: the
// default one) from now on: CHAT_CREATED for a new chat and CHAT_MESSAGE_SENT for every
// message, as Market does. The posts are made in the background, one at a time in order; their
// answers are not read.
func (s *Server) NotifyTo(url string, client *http.Client) {
	if client == nil {
		client = http.DefaultClient
	}
	s.life.mu.Lock()
	defer s.life.mu.Unlock()
	s.life.notifyURL, s.life.client = url, client
}

// life is what the buyers and the notifications do in the background.
type life struct {
	mu        sync.Mutex
	notifyURL string
	queue     [][]byte // notifications not posted yet
	posting   bool
	turn      int // which reply or question comes next
	work      sync.WaitGroup
	client    *http.Client
}

// startLife starts the buyers' questions, if the server has them.
func (s *Server) startLife() {
	if s.cfg.questionEvery <= 0 {
		return
	}
	s.life.work.Go(func() {
		t := time.NewTicker(s.cfg.questionEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.ask()
			}
		}
	})
}

// The buyers' words.
var (
	replies = []string{
		"Спасибо, буду ждать!",
		"Хорошо, а когда примерно?",
		"Понятно. А можно ещё уточнить по доставке?",
		"Отлично, спасибо за быстрый ответ 🙏",
	}
	questions = []struct {
		name, text, photo string
	}{
		{"Ольга Т.", "Здравствуйте! Пришла кофемашина, а на панели царапина — вот фото. Что делать?", "царапина.jpg"},
		{"Артём", "Подскажите, подойдёт ли фильтр ФВ-3 к увлажнителю H-200?", ""},
		{"Валентина", "Добрый день, можно ли изменить адрес доставки заказа?", ""},
	}
)

// posted follows up the seller's message m in its chat: it is notified, and the buyer answers
// it later, if the server has buyers.
func (s *Server) posted(chatID int64, m Message, err error) error {
	if err != nil {
		return err
	}
	s.notifyMessage(chatID, m)
	if d := s.cfg.replyAfter; d > 0 {
		s.life.work.Go(func() {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-s.done:
			case <-t.C:
				s.buyerSays(chatID, s.next(replies), "")
			}
		})
	}
	return nil
}

// next returns the next of a list of words, in turn.
func (s *Server) next(words []string) string {
	s.life.mu.Lock()
	defer s.life.mu.Unlock()
	s.life.turn++
	return words[s.life.turn%len(words)]
}

// ask opens a chat with a new buyer's question.
func (s *Server) ask() {
	s.life.mu.Lock()
	q := questions[s.life.turn%len(questions)]
	s.life.turn++
	s.life.mu.Unlock()
	c := s.AddChat(Chat{Context: directContext(q.name, fmt.Sprintf("q%015d", s.cfg.now().UnixNano()%1e15)), Status: StatusWaitingForPartner})
	s.buyerSays(c.ChatID, q.text, q.photo)
}

// buyerSays adds a buyer's message, and the turn goes to the seller.
func (s *Server) buyerSays(chatID int64, text, photoName string) {
	m := Message{Sender: SenderCustomer, Message: text}
	if photoName != "" {
		st := s.data()
		st.mu.Lock()
		m.Payload = []Attachment{st.putFile(seedFile(photoName))}
		st.mu.Unlock()
	}
	if _, ok := s.AddMessage(chatID, m); !ok {
		return
	}
	if c, ok := s.Chat(chatID); ok && c.Type == ChatTypeChat && c.Status != StatusFinished {
		c.Status = StatusWaitingForPartner
		s.AddChat(c)
	}
}

// notifyChat and notifyMessage queue the notifications of a new chat and a new message.
func (s *Server) notifyChat(kind string, c Chat) {
	s.notify(map[string]any{"notificationType": kind, "chatId": c.ChatID, "businessId": s.BusinessID,
		"createdAt": c.CreatedAt.Format(time.RFC3339)})
}

func (s *Server) notifyMessage(chatID int64, m Message) {
	s.notify(map[string]any{"notificationType": "CHAT_MESSAGE_SENT", "chatId": chatID, "businessId": s.BusinessID,
		"messageId": strconv.FormatInt(m.MessageID, 10), "sentAt": m.CreatedAt.Format(time.RFC3339)})
}

func (s *Server) notify(n map[string]any) {
	body, _ := json.Marshal(n)
	l := &s.life
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.notifyURL == "" {
		return
	}
	l.queue = append(l.queue, body)
	if l.posting {
		return
	}
	l.posting = true
	url := l.notifyURL
	l.work.Go(func() { s.postNotifications(url) })
}

// postNotifications posts the queued notifications one at a time, in order.
func (s *Server) postNotifications(url string) {
	l := &s.life
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.posting = false
			l.mu.Unlock()
			return
		}
		body := l.queue[0]
		l.queue = l.queue[1:]
		client := l.client
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stop := context.AfterFunc(s.closed, cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		stop()
		cancel()
		if s.closed.Err() != nil {
			return
		}
	}
}
