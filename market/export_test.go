package market

// SendsQueued is the number of sends to a chat that have entered its queue and not finished.
func (c *Client) SendsQueued(chatID int64) int {
	c.chats.mu.Lock()
	defer c.chats.mu.Unlock()
	if q := c.chats.m[chatID]; q != nil {
		return q.users
	}
	return 0
}
