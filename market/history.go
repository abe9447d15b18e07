package market

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// maxHistoryPages bounds the pages of history read for one call: 2000 messages.
const maxHistoryPages = 20

// ErrHistoryTooLong is the cause of a history read that would take more than maxHistoryPages.
var ErrHistoryTooLong = fmt.Errorf("the chat's history is longer than the %d messages the client reads at once", maxHistoryPages*100)

// Window is a run of a chat's messages, oldest first.
type Window struct {
	Context  FullContext
	Messages []Message
	// More is true when further messages lie beyond the window, on the side it was read from:
	// older ones for Before, newer ones for After.
	More bool
}

// Before returns the newest n messages of a chat that are older than message before, or the
// newest of all when before is 0, oldest first. The API does not say in which order it pages a
// history, so the client reads the pages until it has them either way: for pages that run
// newest first that is usually one, for pages that run oldest first it is every page up to
// before.
func (c *Client) Before(ctx context.Context, chatID, before int64, n int) (*Window, error) {
	var kept []Message // with newest-first pages, in page order; otherwise the newest n+1 so far
	descending := false
	fc, err := c.eachHistoryPage(ctx, chatID, 0, func(ms []Message) bool {
		descending = descending || newestFirst(ms)
		for _, m := range ms {
			switch {
			case before > 0 && m.MessageID >= before:
				if !descending {
					return false // oldest first: the rest are later still
				}
			case descending:
				kept = append(kept, m)
				if len(kept) > n {
					return false
				}
			default:
				if kept = append(kept, m); len(kept) > n+1 {
					kept = kept[1:]
				}
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(kept, byID)
	w := &Window{Context: fc, More: len(kept) > n}
	w.Messages = kept[max(len(kept)-n, 0):]
	return w, nil
}

// After returns the oldest n messages of a chat that are newer than message after, oldest
// first.
func (c *Client) After(ctx context.Context, chatID, after int64, n int) (*Window, error) {
	var newer []Message
	fc, err := c.eachHistoryPage(ctx, chatID, after, func(ms []Message) bool {
		for _, m := range ms {
			if m.MessageID > after {
				newer = append(newer, m)
			}
		}
		// Oldest first, the first n+1 are all that is needed; newest first, every page is.
		return newestFirst(ms) || len(newer) <= n
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(newer, byID)
	w := &Window{Context: fc, More: len(newer) > n}
	w.Messages = newer[:min(len(newer), n)]
	return w, nil
}

func byID(a, b Message) int { return cmp.Compare(a.MessageID, b.MessageID) }

// newestFirst reports whether a page runs newest first, as far as it tells.
func newestFirst(ms []Message) bool {
	return len(ms) > 1 && ms[0].MessageID > ms[len(ms)-1].MessageID
}

// eachHistoryPage reads the chat's history from message from on (all of it when from is 0),
// page by page, until each returns false or the pages end, and returns the chat's context.
func (c *Client) eachHistoryPage(ctx context.Context, chatID, from int64, each func([]Message) bool) (FullContext, error) {
	page := Page{Limit: 100}
	for range maxHistoryPages {
		h, err := c.GetChatHistory(ctx, chatID, from, page)
		if err != nil {
			return FullContext{}, err
		}
		if !each(h.Messages) || h.NextPageToken == "" {
			return h.Context, nil
		}
		page.Token = h.NextPageToken
	}
	return FullContext{}, ErrHistoryTooLong
}
