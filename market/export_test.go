package market

// SendsQueued is the number of sends to a chat that have entered its queue and not finished.
func (c *Client) SendsQueued(chatID int64) int {
	l := c.shared.(*local)
	l.chats.mu.Lock()
	defer l.chats.mu.Unlock()
	if q := l.chats.m[chatID]; q != nil {
		return q.users
	}
	return 0
}
