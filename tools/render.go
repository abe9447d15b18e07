package tools

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The text content of a result is written for a model to read: a line per chat or message,
// with the ids and times it needs first and the words of buyers last, so that it reads as easily
// as JSON in far fewer bytes. The structured content stays the full typed JSON.
//
// A message is one line, as in a transcript: its time, who wrote it and, for a message with
// files, its id and the files come before the first ": ", and its text after it. The further
// lines of a text are indented, so that nothing a buyer writes can start a line of its own and
// pass for another message. The ids of all the messages are in the structured content; the text
// gives the first and the last, which message_id_from and page tokens need, and those of
// messages with files, which get_attachment needs.

// texter is an output that writes itself as text; other outputs are shown as their JSON.
type texter interface{ text() string }

// senderWords names the senders in text.
var senderWords = map[string]string{"CUSTOMER": "buyer", "PARTNER": "seller", "MARKET": "Market", "SUPPORT": "support"}

func (l ChatList) text() string {
	var b strings.Builder
	switch len(l.Chats) {
	case 0:
		b.WriteString("No chats match.\n")
	case 1:
		b.WriteString("1 chat:\n")
	default:
		fmt.Fprintf(&b, "%d chats, most recently active first:\n", len(l.Chats))
	}
	for _, c := range l.Chats {
		c.line(&b)
	}
	if l.NextPageToken != "" {
		fmt.Fprintf(&b, "More chats: page_token=%s\n", l.NextPageToken)
	}
	return b.String()
}

func (c Chat) text() string {
	var b strings.Builder
	c.line(&b)
	return b.String()
}

// line writes a chat on one line: id, status, what it is about, the buyer, and its times.
func (c Chat) line(b *strings.Builder) {
	fmt.Fprintf(b, "%d %s", c.ChatID, c.Status)
	if c.Type != "CHAT" {
		b.WriteString(" " + c.Type)
	}
	if c.BusinessID != 0 {
		cab := Cabinet{Name: c.Cabinet, BusinessID: c.BusinessID}
		fmt.Fprintf(b, " · cabinet %s", &cab)
	}
	b.WriteString(" · ")
	c.Context.write(b)
	if c.UpdatedAt != "" {
		b.WriteString(" · last " + shortTime(c.UpdatedAt))
	}
	if c.CreatedAt != "" && c.CreatedAt != c.UpdatedAt {
		b.WriteString(", opened " + shortTime(c.CreatedAt))
	}
	b.WriteByte('\n')
}

// write writes what a chat is about and who the buyer is.
func (c Context) write(b *strings.Builder) {
	b.WriteString(c.Type)
	if c.ReturnID != 0 {
		fmt.Fprintf(b, " %d of order %d", c.ReturnID, c.OrderID)
	} else if c.OrderID != 0 {
		fmt.Fprintf(b, " %d", c.OrderID)
	}
	if c.CampaignID != 0 {
		fmt.Fprintf(b, ", shop %d", c.CampaignID)
	}
	if c.CustomerName != "" || c.CustomerPublicID != "" {
		b.WriteString(" · " + strconv.Quote(c.CustomerName))
		if c.CustomerPublicID != "" {
			b.WriteString(" " + c.CustomerPublicID)
		}
	}
}

func (h History) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Chat %d · ", h.ChatID)
	h.Context.write(&b)
	b.WriteByte('\n')
	if len(h.Messages) == 0 {
		b.WriteString("No messages.\n")
		return b.String()
	}
	if first, last := h.Messages[0].MessageID, h.Messages[len(h.Messages)-1].MessageID; first == last {
		fmt.Fprintf(&b, "Message %d", first)
	} else {
		fmt.Fprintf(&b, "Messages %d–%d, oldest first", first, last)
	}
	switch {
	case h.Older:
		fmt.Fprintf(&b, "; older ones: page_token=%s", h.NextPageToken)
	case h.Newer:
		fmt.Fprintf(&b, "; newer ones: page_token=%s", h.NextPageToken)
	}
	b.WriteString("\n")
	writeMessageLines(&b, h.Messages, false)
	return b.String()
}

func (m ChatMessage) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Chat %d, message %d\n", m.ChatID, m.Message.MessageID)
	writeMessageLines(&b, []Message{m.Message}, false)
	return b.String()
}

// writeMessageLines writes messages a line each, with a line for the date whenever it changes,
// and every message's id when ids is set.
func writeMessageLines(b *strings.Builder, ms []Message, ids bool) {
	day := ""
	for _, m := range ms {
		date, clock, _ := strings.Cut(shortTime(m.CreatedAt), " ")
		if date != day {
			b.WriteString(date + "\n")
			day = date
		}
		fmt.Fprintf(b, "%s %s", clock, sender(m.Sender))
		switch {
		case len(m.Attachments) > 0:
			fmt.Fprintf(b, " [message %d, files:", m.MessageID)
		case ids:
			fmt.Fprintf(b, " [message %d]", m.MessageID)
		}
		for i, a := range m.Attachments {
			fmt.Fprintf(b, " %d %s %d B", i, strconv.Quote(a.Name), a.Size)
			if i == len(m.Attachments)-1 {
				b.WriteString("]")
			}
		}
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(m.Text, "\n", "\n    "))
		b.WriteByte('\n')
	}
}

func sender(s string) string {
	if w, ok := senderWords[s]; ok {
		return w
	}
	return s
}

// shortTime writes a time of Market's as date and minute, "2026-11-21 15:04", in Market's zone
// as timeOut gives it; a time that does not parse is kept as it is.
func shortTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.In(marketZone).Format("2006-01-02 15:04")
}

func (c CreatedChat) text() string {
	if c.NotSent != "" {
		return c.NotSent + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Chat %d · ", c.ChatID)
	c.Context.write(&b)
	b.WriteString(c.approved() + "\n")
	return b.String()
}

func (s Sent) text() string {
	switch {
	case s.NotSent != "":
		return s.NotSent + "\n"
	case s.Text != "":
		return fmt.Sprintf("Sent to chat %d at %s, as the user edited it:\n%s\n", s.ChatID, shortTime(s.SentAt), s.Text)
	}
	return fmt.Sprintf("Sent to chat %d at %s%s.\n", s.ChatID, shortTime(s.SentAt), s.approved())
}

func (s SentFile) text() string {
	if s.NotSent != "" {
		return s.NotSent + "\n"
	}
	return fmt.Sprintf("Sent %s (%s, %d bytes) to chat %d at %s%s.\n", strconv.Quote(s.FileName), s.ContentType, s.Size, s.ChatID, shortTime(s.SentAt), s.approved())
}

// approved says, after what went out, that the user approved it.
func (a Asked) approved() string {
	if a.Approval == approvalApproved {
		return ", approved by the user"
	}
	return ""
}
