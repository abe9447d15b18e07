package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// list_chats and wait_for_messages without business_id cover every cabinet: the chats are
// merged, most recently active first, and the events as they come, each labelled with its
// cabinet. Their page token and cursor hold a place in each cabinet.

// label marks a chat with its cabinet, when the server works in several.
func (e *Env) label(c *Chat, cab *Cabinet) {
	if e.several() {
		c.BusinessID, c.Cabinet = cab.BusinessID, cab.Name
	}
}

// listPlace is where list_chats goes on in one cabinet: the API's page token of the page it
// reads, the chats of that page already given, and the page size it was read with, so that the
// same page comes again. Done marks a cabinet whose chats have all been given.
type listPlace struct {
	Token string `json:"t,omitempty"`
	Skip  int    `json:"s,omitempty"`
	Limit int    `json:"l,omitempty"`
	Done  bool   `json:"d,omitempty"`
}

// listSource is one cabinet's chats as a merged list reads them.
type listSource struct {
	cab   *Cabinet
	place listPlace
	page  *market.ChatsPage // the page at place.Token; nil until read
}

// head returns the next chat of the source, reading its next page when the current one has
// been given; nil when the source has no more.
func (s *listSource) head(ctx context.Context, filter market.ChatsFilter) (*market.Chat, error) {
	for !s.place.Done {
		if s.page == nil {
			page, err := s.cab.Market.GetChats(ctx, filter, market.Page{Token: s.place.Token, Limit: s.place.Limit})
			if err != nil {
				return nil, about(err, "", "the chat list of cabinet %s", s.cab)
			}
			s.page = page
		}
		if s.place.Skip < len(s.page.Chats) {
			return &s.page.Chats[s.place.Skip], nil
		}
		if s.page.NextPageToken == "" {
			s.place.Done = true
		} else {
			s.place, s.page = listPlace{Token: s.page.NextPageToken, Limit: s.place.Limit}, nil
		}
	}
	return nil, nil
}

// listEvery lists the chats of every cabinet, merged most recently active first.
func listEvery(ctx context.Context, env *Env, filter market.ChatsFilter, in ListChatsInput, limit int) (ChatList, error) {
	places, err := decodePlaces[listPlace](env, in.PageToken, "page_token", "list_chats")
	if err != nil {
		return ChatList{}, err
	}
	sources := make([]*listSource, len(env.Cabinets))
	for i, cab := range env.Cabinets {
		p, ok := places[cab.BusinessID]
		if !ok {
			p = listPlace{Limit: limit}
		}
		sources[i] = &listSource{cab: cab, place: p}
	}
	out := ChatList{Chats: []Chat{}}
	for len(out.Chats) < limit {
		var best *listSource
		var bestChat *market.Chat
		for _, s := range sources {
			c, err := s.head(ctx, filter)
			if err != nil {
				return ChatList{}, err
			}
			if c != nil && (bestChat == nil || c.UpdatedAt.After(bestChat.UpdatedAt)) {
				best, bestChat = s, c
			}
		}
		if best == nil {
			break
		}
		chat := chatOut(bestChat)
		env.label(&chat, best.cab)
		out.Chats = append(out.Chats, chat)
		best.place.Skip++
	}
	next := map[int64]listPlace{}
	more := false
	for _, s := range sources {
		if _, err := s.head(ctx, filter); err != nil { // tells whether it has more, from what was read
			return ChatList{}, err
		}
		next[s.cab.BusinessID] = s.place
		more = more || !s.place.Done
	}
	if more {
		out.NextPageToken = encodePlaces(next)
	}
	return out, nil
}

// encodePlaces writes the places in each cabinet as a token.
func encodePlaces[P any](places map[int64]P) string {
	b, _ := json.Marshal(places)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePlaces reads a token of encodePlaces, which must name only cabinets of env; an empty
// token is the start in every cabinet.
func decodePlaces[P any](env *Env, token, arg, tool string) (map[int64]P, error) {
	places := map[int64]P{}
	if token == "" {
		return places, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(b, &places)
	}
	for id := range places {
		if err == nil && env.cabinet(id) == nil {
			err = fmt.Errorf("it names business %d", id)
		}
	}
	if err != nil || len(places) == 0 {
		return nil, fmt.Errorf("%s is not one that %s gave for every cabinet: call again without it, or give the business_id it came with", arg, tool)
	}
	return places, nil
}

// waitEvery waits for what happens in every cabinet's chats: it returns as soon as any has
// something, with the events of all that had.
func waitEvery(ctx context.Context, env *Env, in WaitInput, timeout time.Duration, progress func(time.Duration)) (Events, error) {
	if in.ChatID != 0 {
		return Events{}, fmt.Errorf("chat_id is in one cabinet: give business_id with it, one of %s", env.cabinetList())
	}
	cursors, err := decodePlaces[inbox.Cursor](env, in.Cursor, "cursor", "wait_for_messages")
	if err != nil {
		return Events{}, err
	}
	for _, cab := range env.Cabinets {
		if cab.Inbox == nil {
			return Events{}, errors.New("waiting for messages is not available in this server")
		}
		if cursors[cab.BusinessID] == "" { // now, made definite, so that a wait cut short keeps it
			if cursors[cab.BusinessID], err = cab.Inbox.Now(ctx); err != nil {
				return Events{}, err
			}
		}
	}
	type result struct {
		events []inbox.Event
		cursor inbox.Cursor
		err    error
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]result, len(env.Cabinets))
	var wg sync.WaitGroup
	for i, cab := range env.Cabinets {
		wg.Go(func() {
			var r result
			r.events, r.cursor, r.err = cab.Inbox.Wait(wctx, 0, cursors[cab.BusinessID], timeout, progressOf(i == 0, progress))
			if len(r.events) > 0 {
				cancel() // the others stop, and keep their place
			}
			results[i] = r
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Events{}, err
	}
	out := Events{Events: []Event{}}
	for i, r := range results {
		cab := env.Cabinets[i]
		switch {
		case errors.Is(r.err, inbox.ErrCursor):
			return Events{}, cursorError(fmt.Errorf("of cabinet %s: %w", cab, r.err))
		case r.err != nil && wctx.Err() == nil:
			return Events{}, fmt.Errorf("cabinet %s: %w", cab, r.err)
		case r.err != nil: // stopped because another had events: its place stays
			continue
		}
		cursors[cab.BusinessID] = r.cursor
		for _, e := range r.events {
			out.Events = append(out.Events, env.eventOut(e, cab))
		}
	}
	out.Cursor = encodePlaces(cursors)
	return out, nil
}

// progressOf is the progress function of one of several waits: only the first reports.
func progressOf(first bool, progress func(time.Duration)) func(time.Duration) {
	if first {
		return progress
	}
	return nil
}
