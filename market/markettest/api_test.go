package markettest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestWireFormat pins the JSON names and formats of the reference, byte for byte where the
// decoded types would hide a mistake.
func TestWireFormat(t *testing.T) {
	s := newTestServer(t)
	ret := findChat(t, s, func(c Chat) bool { return c.Context.ReturnID == 8841203 })
	jsonEqual(t, get(t, s, fmt.Sprintf("/chat?chatId=%d", ret.ChatID)).body, fmt.Sprintf(`{
		"status": "OK",
		"result": {
			"chatId": %d,
			"orderId": 53816507789,
			"context": {
				"type": "RETURN",
				"customer": {"name": "Павел", "publicId": "p2v6l9k4r8t1m5q3"},
				"campaignId": 21870398,
				"orderId": 53816507789,
				"returnId": 8841203
			},
			"type": "CHAT",
			"status": "WAITING_FOR_PARTNER",
			"createdAt": "2026-11-21T16:45:00+03:00",
			"updatedAt": "2026-11-21T16:52:00+03:00"
		}
	}`, ret.ChatID))

	msgs := s.Messages(ret.ChatID)
	m := msgs[len(msgs)-1]
	jsonEqual(t, get(t, s, fmt.Sprintf("/chats/message?chatId=%d&messageId=%d", ret.ChatID, m.MessageID)).body, fmt.Sprintf(`{
		"status": "OK",
		"result": {
			"messageId": %d,
			"createdAt": "2026-11-21T16:52:00+03:00",
			"sender": "CUSTOMER",
			"message": %q,
			"payload": [
				{"name": "чек_отправки.pdf", "url": %q, "size": %d},
				{"name": "упаковка.jpg", "url": %q, "size": %d}
			]
		}
	}`, m.MessageID, m.Message, m.Payload[0].URL, len(receipt), m.Payload[1].URL, len(photo)))

	direct := findChat(t, s, func(c Chat) bool { return c.Context.Type == ContextDirect })
	var raw struct {
		Result map[string]json.RawMessage `json:"result"`
	}
	json.Unmarshal(get(t, s, fmt.Sprintf("/chat?chatId=%d", direct.ChatID)).body, &raw)
	if _, ok := raw.Result["orderId"]; ok {
		t.Errorf("a DIRECT chat carries orderId: %s", raw.Result["orderId"])
	}
	jsonEqual(t, raw.Result["context"], fmt.Sprintf(`{"type":"DIRECT","customer":{"name":%q,"publicId":%q}}`,
		direct.Context.Customer.Name, direct.Context.Customer.PublicID))

	a := post(t, s, "/chats/message?chatId="+fmt.Sprint(direct.ChatID), `{"message":"Да, подойдут."}`)
	if string(a.body) != `{"status":"OK"}` {
		t.Errorf("sendMessageToChat answered %s", a.body)
	}
	created := post(t, s, "/chats/new", `{"context":{"type":"ORDER","id":53822301177}}`)
	var res map[string]any
	json.Unmarshal(created.body, &res)
	if id, ok := res["result"].(map[string]any)["chatId"].(float64); !ok || id < 1 {
		t.Errorf("createChat answered %s", created.body)
	}
}

func TestGetChat(t *testing.T) {
	s := newTestServer(t)
	want := findChat(t, s, withStatus(StatusWaitingForArbiter))
	got := result[Chat](t, get(t, s, fmt.Sprintf("/chat?chatId=%d", want.ChatID)))
	if !got.UpdatedAt.Equal(want.UpdatedAt) || got.ChatID != want.ChatID || got.Type != ChatTypeArbitrage {
		t.Errorf("got %+v, want %+v", got, want)
	}
	wantError(t, get(t, s, "/chat?chatId=999"), 404, "NOT_FOUND", "Can't find chat by id: '999'")
}

func TestGetChatMessage(t *testing.T) {
	s := newTestServer(t)
	c := findChat(t, s, withStatus(StatusWaitingForArbiter))
	for _, want := range s.Messages(c.ChatID) {
		got := result[Message](t, get(t, s, fmt.Sprintf("/chats/message?chatId=%d&messageId=%d", c.ChatID, want.MessageID)))
		if got.MessageID != want.MessageID || got.Sender != want.Sender || got.Message != want.Message ||
			!slices.Equal(got.Payload, want.Payload) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	other := s.Messages(longChat(t, s).ChatID)[0].MessageID
	wantError(t, get(t, s, fmt.Sprintf("/chats/message?chatId=%d&messageId=%d", c.ChatID, other)), 404, "NOT_FOUND",
		fmt.Sprintf("Can't find message by id: '%d' for chat '%d'", other, c.ChatID))
	wantError(t, get(t, s, fmt.Sprintf("/chats/message?chatId=999&messageId=%d", other)), 404, "NOT_FOUND",
		"Can't find chat by id: '999'")
}

func TestGetChatsPagesThroughEveryChat(t *testing.T) {
	s := newTestServer(t)
	want := s.Chats()
	if len(want) <= 10 {
		t.Fatalf("the seed has %d chats; the default page of 10 would hold them all", len(want))
	}
	var got []Chat
	path := "/chats"
	for page := 1; ; page++ {
		p := result[chatsPage](t, post(t, s, path, `{}`))
		if page == 1 && len(p.Chats) != 10 {
			t.Errorf("first page has %d chats, want the default 10", len(p.Chats))
		}
		got = append(got, p.Chats...)
		if p.Paging == nil {
			break
		}
		if page > len(want) {
			t.Fatal("paging does not end")
		}
		// Alternate the two names the API accepts for the token.
		name := []string{"pageToken", "page_token"}[page%2]
		path = "/chats?" + name + "=" + url.QueryEscape(p.Paging.NextPageToken)
	}
	ids := func(chats []Chat) (ids []int64) {
		for _, c := range chats {
			ids = append(ids, c.ChatID)
		}
		return ids
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("paged through %v, want %v", ids(got), ids(want))
	}
	if !slices.IsSortedFunc(got, func(a, b Chat) int { return b.UpdatedAt.Compare(a.UpdatedAt) }) {
		t.Error("chats are not sorted by updatedAt, newest first")
	}

	p := result[chatsPage](t, post(t, s, "/chats?limit=20", `{}`))
	if len(p.Chats) != len(want) || p.Paging != nil {
		t.Errorf("limit=20 gave %d chats and paging %v, want all %d and no paging", len(p.Chats), p.Paging, len(want))
	}
}

func TestGetChatsPagingIgnoresNewActivity(t *testing.T) {
	s := newTestServer(t)
	first := result[chatsPage](t, post(t, s, "/chats?limit=5", `{}`))
	// A chat of the first page moves to the top: the next page must neither repeat nor skip.
	if _, ok := s.AddMessage(first.Chats[2].ChatID, Message{Sender: SenderCustomer, Message: "Ещё вопрос"}); !ok {
		t.Fatal("AddMessage failed")
	}
	second := result[chatsPage](t, post(t, s, "/chats?limit=5&pageToken="+url.QueryEscape(first.Paging.NextPageToken), `{}`))
	all := s.Chats()
	want := all[5:10] // all[0] is the moved chat; all[1:5] are the rest of the first page
	for i, c := range second.Chats {
		if c.ChatID != want[i].ChatID {
			t.Fatalf("second page %v, want %v", second.Chats, want)
		}
	}
}

func TestGetChatsFilters(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		body  string
		match func(Chat) bool
	}{
		{`{"statuses":["WAITING_FOR_PARTNER"]}`, withStatus(StatusWaitingForPartner)},
		{`{"statuses":["NEW","FINISHED"]}`, func(c Chat) bool { return c.Status == StatusNew || c.Status == StatusFinished }},
		{`{"contextTypes":["DIRECT"]}`, func(c Chat) bool { return c.Context.Type == ContextDirect }},
		{`{"types":["ARBITRAGE"]}`, func(c Chat) bool { return c.Type == ChatTypeArbitrage }},
		{`{"contexts":[{"type":"RETURN","id":8841203},{"type":"ORDER","id":53817204615}]}`,
			func(c Chat) bool {
				return c.Context.ReturnID == 8841203 || c.Context.Type == ContextOrder && c.OrderID == 53817204615
			}},
		{`{"orderIds":[53817388120]}`, func(c Chat) bool { return c.OrderID == 53817388120 }},
		{`{"contextTypes":["ORDER","RETURN"],"statuses":["WAITING_FOR_PARTNER"],"types":["CHAT"]}`,
			func(c Chat) bool { return c.Context.Type != ContextDirect && c.Status == StatusWaitingForPartner }},
		{`{"unknownField":1,"statuses":null}`, func(Chat) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var want []int64
			for _, c := range s.Chats() {
				if tt.match(c) {
					want = append(want, c.ChatID)
				}
			}
			if len(want) == 0 {
				t.Fatal("the seed has no chat for this filter")
			}
			var got []int64
			for _, c := range result[chatsPage](t, post(t, s, "/chats?limit=20", tt.body)).Chats {
				got = append(got, c.ChatID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	p := result[chatsPage](t, post(t, s, "/chats", `{"contexts":[{"type":"ORDER","id":53822301177}]}`))
	if p.Chats == nil || len(p.Chats) != 0 {
		t.Errorf("an order with no chat gave %v", p.Chats)
	}
}

func TestBadPageToken(t *testing.T) {
	s := newTestServer(t)
	p := result[chatsPage](t, post(t, s, "/chats?limit=2", `{}`))
	token := url.QueryEscape(p.Paging.NextPageToken)
	long := longChat(t, s)
	h := result[historyPage](t, post(t, s, fmt.Sprintf("/chats/history?chatId=%d", long.ChatID), `{}`))
	tests := []struct{ name, path, body string }{
		{"garbage", "/chats?pageToken=garbage!", `{}`},
		{"truncated", "/chats?pageToken=" + token[:10], `{}`},
		{"another filter", "/chats?pageToken=" + token, `{"statuses":["NEW"]}`},
		{"another operation", fmt.Sprintf("/chats/history?chatId=%d&pageToken=%s", long.ChatID, token), `{}`},
		{"another chat", fmt.Sprintf("/chats/history?chatId=%d&page_token=%s", p.Chats[0].ChatID, url.QueryEscape(h.Paging.NextPageToken)), `{}`},
		{"another messageIdFrom", fmt.Sprintf("/chats/history?chatId=%d&pageToken=%s", long.ChatID, url.QueryEscape(h.Paging.NextPageToken)), `{"messageIdFrom":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, post(t, s, tt.path, tt.body), 400, "BAD_REQUEST", "Bad page token")
		})
	}
	// The same query with another limit keeps its token.
	result[chatsPage](t, post(t, s, "/chats?limit=3&pageToken="+token, `{}`))
}

// history pages through a chat's history and returns the message ids.
func history(t *testing.T, s *Server, chatID int64, limit int, body string) (ids []int64, pages int) {
	t.Helper()
	path := fmt.Sprintf("/chats/history?chatId=%d&limit=%d", chatID, limit)
	for token := ""; ; pages++ {
		p := result[historyPage](t, post(t, s, path+token, body))
		for _, m := range p.Messages {
			ids = append(ids, m.MessageID)
		}
		if p.Paging == nil {
			return ids, pages + 1
		}
		if len(p.Messages) != limit {
			t.Fatalf("page %d has %d messages and a next page", pages+1, len(p.Messages))
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		token = "&pageToken=" + url.QueryEscape(p.Paging.NextPageToken)
	}
}

func messageIDs(msgs []Message) (ids []int64) {
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	return ids
}

func TestGetChatHistory(t *testing.T) {
	s := newTestServer(t)
	c := longChat(t, s)
	want := messageIDs(s.Messages(c.ChatID))
	got, pages := history(t, s, c.ChatID, 100, `{}`)
	if pages != 2 || !slices.Equal(got, want) {
		t.Errorf("%d pages of %v, want 2 pages of %v", pages, got, want)
	}
	if !slices.IsSorted(got) {
		t.Error("messages are not oldest first")
	}
	if got, _ := history(t, s, c.ChatID, 50, `{}`); !slices.Equal(got, want) {
		t.Errorf("the default limit paged through %v, want %v", got, want)
	}

	p := result[historyPage](t, post(t, s, fmt.Sprintf("/chats/history?chatId=%d", c.ChatID), `{}`))
	if len(p.Messages) != 50 || p.OrderID != c.OrderID || p.Context != c.Context {
		t.Errorf("default page: %d messages, orderId %d, context %+v", len(p.Messages), p.OrderID, p.Context)
	}

	// messageIdFrom includes the message it names.
	from := want[2]
	if got, _ := history(t, s, c.ChatID, 100, fmt.Sprintf(`{"messageIdFrom":%d}`, from)); !slices.Equal(got, want[2:]) {
		t.Errorf("from %d: got %v, want %v", from, got, want[2:])
	}

	empty := findChat(t, s, withStatus(StatusNew))
	if p := result[historyPage](t, post(t, s, fmt.Sprintf("/chats/history?chatId=%d", empty.ChatID), `{}`)); p.Messages == nil || len(p.Messages) != 0 || p.Paging != nil {
		t.Errorf("a chat with no messages gave %+v", p)
	}
	direct := findChat(t, s, func(c Chat) bool { return c.Context.Type == ContextDirect })
	var raw map[string]map[string]json.RawMessage
	json.Unmarshal(post(t, s, fmt.Sprintf("/chats/history?chatId=%d", direct.ChatID), `{}`).body, &raw)
	if _, ok := raw["result"]["orderId"]; ok {
		t.Error("the history of a DIRECT chat carries orderId")
	}
}

func TestHistoryOptions(t *testing.T) {
	newest := newTestServer(t, WithHistoryNewestFirst())
	c := longChat(t, newest)
	want := messageIDs(newest.Messages(c.ChatID))
	slices.Reverse(want)
	if got, pages := history(t, newest, c.ChatID, 100, `{}`); pages != 2 || !slices.Equal(got, want) {
		t.Errorf("newest first: %d pages of %v, want 2 of %v", pages, got, want)
	}
	if got, _ := history(t, newest, c.ChatID, 7, fmt.Sprintf(`{"messageIdFrom":%d}`, want[10])); !slices.Equal(got, want[:11]) {
		t.Errorf("newest first from %d: got %v, want %v", want[10], got, want[:11])
	}

	exclusive := newTestServer(t, WithExclusiveMessageIDFrom())
	want = messageIDs(exclusive.Messages(c.ChatID))
	if got, _ := history(t, exclusive, c.ChatID, 100, fmt.Sprintf(`{"messageIdFrom":%d}`, want[2])); !slices.Equal(got, want[3:]) {
		t.Errorf("exclusive from %d: got %v, want %v", want[2], got, want[3:])
	}
}

func TestBadRequests(t *testing.T) {
	s := newTestServer(t)
	chat := findChat(t, s, withStatus(StatusWaitingForPartner)).ChatID
	finished := findChat(t, s, withStatus(StatusFinished)).ChatID
	tooLong := `{"message":"` + strings.Repeat("я", maxMessageLength+1) + `"}`
	tooLarge := `{"padding":"` + strings.Repeat("a", maxJSONBody) + `"}`
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		code, msg                             string
	}{
		{"limit over 20", "POST", "/chats?limit=21", "", `{}`, 400, "BAD_REQUEST", "Parameter limit must be less than or equal to '20' (rejected value: '21')"},
		{"limit 0", "POST", "/chats?limit=0", "", `{}`, 400, "BAD_REQUEST", "greater than or equal to '1'"},
		{"limit not a number", "POST", "/chats?limit=ten", "", `{}`, 400, "BAD_REQUEST", "must be an integer"},
		{"history limit over 100", "POST", "/chats/history?chatId={chat}&limit=101", "", `{}`, 400, "BAD_REQUEST", "less than or equal to '100'"},
		{"history limit 0", "POST", "/chats/history?chatId={chat}&limit=0", "", `{}`, 400, "BAD_REQUEST", "greater than or equal to '1'"},
		{"empty statuses", "POST", "/chats", "", `{"statuses":[]}`, 400, "BAD_REQUEST", "statuses must contain at least 1 item"},
		{"empty orderIds", "POST", "/chats", "", `{"orderIds":[]}`, 400, "BAD_REQUEST", "orderIds must contain at least 1 item"},
		{"empty contexts", "POST", "/chats", "", `{"contexts":[]}`, 400, "BAD_REQUEST", "contexts must contain at least 1 item"},
		{"empty contextTypes", "POST", "/chats", "", `{"contextTypes":[]}`, 400, "BAD_REQUEST", "contextTypes must contain at least 1 item"},
		{"empty types", "POST", "/chats", "", `{"types":[]}`, 400, "BAD_REQUEST", "types must contain at least 1 item"},
		{"repeated status", "POST", "/chats", "", `{"statuses":["NEW","NEW"]}`, 400, "BAD_REQUEST", "unique"},
		{"unknown status", "POST", "/chats", "", `{"statuses":["OPEN"]}`, 400, "BAD_REQUEST", "statuses[0] must be one of"},
		{"unknown type", "POST", "/chats", "", `{"types":["CHAT","GROUP"]}`, 400, "BAD_REQUEST", "types[1] must be one of"},
		{"DIRECT context", "POST", "/chats", "", `{"contexts":[{"type":"DIRECT","id":1}]}`, 400, "BAD_REQUEST", "contexts[0].type must be ORDER or RETURN"},
		{"context id 0", "POST", "/chats", "", `{"contexts":[{"type":"ORDER","id":0}]}`, 400, "BAD_REQUEST", "contexts[0].id"},
		{"order id 0", "POST", "/chats", "", `{"orderIds":[0]}`, 400, "BAD_REQUEST", "orderIds[0]"},
		{"wrong type", "POST", "/chats", "", `{"statuses":"NEW"}`, 400, "BAD_REQUEST", "statuses"},
		{"string id", "POST", "/chats", "", `{"orderIds":["53817388120"]}`, 400, "BAD_REQUEST", "orderIds"},
		{"array body", "POST", "/chats", "", `[]`, 400, "BAD_REQUEST", "expected a JSON object"},
		{"missing body", "POST", "/chats", "application/json", ``, 400, "BAD_REQUEST", "Required request body is missing"},
		{"null body", "POST", "/chats", "", `null`, 400, "BAD_REQUEST", "Required request body is missing"},
		{"malformed JSON", "POST", "/chats", "", `{"statuses":`, 400, "BAD_REQUEST", "Malformed request body"},
		{"trailing data", "POST", "/chats", "", `{}{}`, 400, "BAD_REQUEST", "unexpected data after"},
		{"key in other case", "POST", "/chats", "", `{"Statuses":["NEW"]}`, 400, "BAD_REQUEST", "unknown field 'Statuses'"},
		{"nested key in other case", "POST", "/chats", "", `{"contexts":[{"Type":"ORDER","id":1}]}`, 400, "BAD_REQUEST", "unknown field 'Type'"},
		{"body over 512 KB", "POST", "/chats", "", tooLarge, 400, "BAD_REQUEST", "Request body is too large"},
		{"text content type", "POST", "/chats", "text/plain", `{}`, 415, "UNSUPPORTED_MEDIA_TYPE", "Content type 'text/plain' not supported"},
		{"no content type", "POST", "/chats", "-", `{}`, 415, "UNSUPPORTED_MEDIA_TYPE", "application/octet-stream"},
		{"no chatId", "GET", "/chat", "", ``, 400, "BAD_REQUEST", "Required request parameter 'chatId' is not present"},
		{"chatId not a number", "GET", "/chat?chatId=abc", "", ``, 400, "BAD_REQUEST", "Parameter chatId must be a positive integer (rejected value: 'abc')"},
		{"chatId 0", "GET", "/chat?chatId=0", "", ``, 400, "BAD_REQUEST", "chatId must be a positive integer"},
		{"no messageId", "GET", "/chats/message?chatId={chat}", "", ``, 400, "BAD_REQUEST", "'messageId' is not present"},
		{"unknown chat history", "POST", "/chats/history?chatId=999", "", `{}`, 404, "NOT_FOUND", "Can't find chat by id: '999'"},
		{"messageIdFrom 0", "POST", "/chats/history?chatId={chat}", "", `{"messageIdFrom":0}`, 400, "BAD_REQUEST", "messageIdFrom"},
		{"chatId in the body", "POST", "/chats/message", "", `{"chatId":{chat},"message":"Здравствуйте"}`, 400, "BAD_REQUEST", "Required request parameter 'chatId' is not present"},
		{"no message", "POST", "/chats/message?chatId={chat}", "", `{}`, 400, "BAD_REQUEST", "message is required"},
		{"empty message", "POST", "/chats/message?chatId={chat}", "", `{"message":""}`, 400, "BAD_REQUEST", "1 to 4096 characters"},
		{"message over 4096 characters", "POST", "/chats/message?chatId={chat}", "", tooLong, 400, "BAD_REQUEST", "(got 4097)"},
		{"message to an unknown chat", "POST", "/chats/message?chatId=999", "", `{"message":"Здравствуйте"}`, 404, "NOT_FOUND", "Can't find chat by id: '999'"},
		{"message to a finished chat", "POST", "/chats/message?chatId={finished}", "", `{"message":"Здравствуйте"}`, 400, "BAD_REQUEST", "is closed"},
		{"create DIRECT chat", "POST", "/chats/new", "", `{"context":{"type":"DIRECT","id":1}}`, 400, "BAD_REQUEST", "context.type must be ORDER or RETURN"},
		{"create without context", "POST", "/chats/new", "", `{}`, 400, "BAD_REQUEST", "context is required"},
		{"create for order 0", "POST", "/chats/new", "", `{"orderId":0}`, 400, "BAD_REQUEST", "orderId must be greater than or equal to 1"},
		{"create for an unknown order", "POST", "/chats/new", "", `{"context":{"type":"ORDER","id":12345}}`, 404, "NOT_FOUND", "Order not found: '12345'"},
		{"create for an unknown order, legacy", "POST", "/chats/new", "", `{"orderId":12345}`, 404, "NOT_FOUND", "Order not found: '12345'"},
		{"create for an unknown return", "POST", "/chats/new", "", `{"context":{"type":"RETURN","id":777}}`, 404, "NOT_FOUND", "Return not found: '777'"},
		{"file as JSON", "POST", "/chats/file/send?chatId={chat}", "", `{"file":"aGVsbG8="}`, 415, "UNSUPPORTED_MEDIA_TYPE", "application/json"},
	}
	ids := strings.NewReplacer("{chat}", fmt.Sprint(chat), "{finished}", fmt.Sprint(finished))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, s, tt.method, ids.Replace(tt.path), ids.Replace(tt.body))
			switch tt.contentType {
			case "":
			case "-":
				req.Header.Del("Content-Type")
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			wantError(t, send(t, req), tt.status, tt.code, tt.msg)
		})
	}
	if got := s.Messages(chat); got[len(got)-1].Sender == SenderPartner {
		t.Error("a refused message was stored")
	}
}

func TestRouting(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"POST", "/businesses/{b}/chats", 404, "NOT_FOUND", "Resource not found"},
		{"POST", "/v2/businesses/{b}/chats/", 404, "NOT_FOUND", "Resource not found"},
		{"POST", "/v2/businesses/{b}/chatz", 404, "NOT_FOUND", "Resource not found"},
		{"POST", "/v2/businesses/{b}", 404, "NOT_FOUND", "Resource not found"},
		{"GET", "/v2/campaigns/{b}/chats", 404, "NOT_FOUND", "Resource not found"},
		{"GET", "/v2/businesses/{b}/chats", 405, "METHOD_NOT_ALLOWED", "Request method 'GET' is not supported"},
		{"POST", "/v2/businesses/{b}/chat", 405, "METHOD_NOT_ALLOWED", "'POST'"},
		{"DELETE", "/v2/businesses/{b}/chats/message", 405, "METHOD_NOT_ALLOWED", "'DELETE'"},
		{"POST", "/v2/businesses/abc/chats", 400, "BAD_REQUEST", "businessId"},
		{"POST", "/v2/businesses/0/chats", 400, "BAD_REQUEST", "businessId"},
		{"POST", "/v2/businesses/1234567/chats", 403, "FORBIDDEN", "Access denied"},
	}
	for _, tt := range tests {
		path := strings.ReplaceAll(tt.path, "{b}", fmt.Sprint(s.BusinessID))
		t.Run(tt.method+" "+path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+path, strings.NewReader(`{}`))
			req.Header.Set("Api-Key", s.APIKey)
			req.Header.Set("Content-Type", "application/json")
			a := send(t, req)
			wantError(t, a, tt.status, tt.code, tt.msg)
			wantNoLimitHeaders(t, a)
		})
	}
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/v2/businesses/%d/chats/message", s.URL, s.BusinessID), nil)
	req.Header.Set("Api-Key", s.APIKey)
	if allow := send(t, req).header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow: %q, want \"GET, POST\"", allow)
	}
}

func TestAuth(t *testing.T) {
	const oauth = "y0_AgAAAAB3dGVzdHRva2VuZm9ydGhlc2FuZGJveA"
	s := newTestServer(t, WithOAuthToken(oauth), WithBudget(OpGetChats, 5))
	tests := []struct {
		name   string
		header map[string]string
		status int
		code   string
		msg    string
	}{
		{"no credentials", nil, 401, "UNAUTHORIZED", "Credentials are not specified"},
		{"empty Api-Key", map[string]string{"Api-Key": ""}, 401, "UNAUTHORIZED", "Credentials are not specified"},
		{"Bearer in Api-Key", map[string]string{"Api-Key": "Bearer " + DefaultAPIKey}, 401, "UNAUTHORIZED", "Api-Key token prefix invalid"},
		{"wrong Api-Key", map[string]string{"Api-Key": DefaultAPIKey + "x"}, 401, "UNAUTHORIZED", "Api-Key token is invalid"},
		{"wrong OAuth token", map[string]string{"Authorization": "Bearer y0_other"}, 403, "FORBIDDEN", "OAuth token is invalid"},
		{"OAuth legacy syntax", map[string]string{"Authorization": "OAuth oauth_token=\"x\""}, 401, "UNAUTHORIZED", "Authorization header has invalid syntax"},
		{"Api-Key decides", map[string]string{"Api-Key": "wrong", "Authorization": "Bearer " + oauth}, 401, "UNAUTHORIZED", "Api-Key token is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, s, "POST", "/chats", `{}`)
			req.Header.Del("Api-Key")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			a := send(t, req)
			wantError(t, a, tt.status, tt.code, tt.msg)
			wantNoLimitHeaders(t, a)
		})
	}
	// None of the refusals spent budget.
	wantLimitHeaders(t, post(t, s, "/chats", `{}`), 5, 4)

	req := newRequest(t, s, "POST", "/chats", `{}`)
	req.Header.Del("Api-Key")
	req.Header.Set("Authorization", "Bearer "+oauth)
	result[chatsPage](t, send(t, req))

	plain := newTestServer(t)
	req = newRequest(t, plain, "POST", "/chats", `{}`)
	req.Header.Del("Api-Key")
	req.Header.Set("Authorization", "Bearer "+oauth)
	wantError(t, send(t, req), 403, "FORBIDDEN", "OAuth token is invalid")
}

func TestCustomCredentials(t *testing.T) {
	s := newTestServer(t, WithAPIKey("ACMA:custom:1"), WithBusinessID(42))
	if s.APIKey != "ACMA:custom:1" || s.BusinessID != 42 {
		t.Fatalf("APIKey %q, BusinessID %d", s.APIKey, s.BusinessID)
	}
	result[chatsPage](t, post(t, s, "/chats", `{}`))
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v2/businesses/%d/chats", s.URL, DefaultBusinessID), strings.NewReader(`{}`))
	req.Header.Set("Api-Key", s.APIKey)
	req.Header.Set("Content-Type", "application/json")
	wantError(t, send(t, req), 403, "FORBIDDEN", "Access denied")
}

func TestCreateChat(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now))
	create := func(body string) int64 {
		t.Helper()
		return result[struct {
			ChatID int64 `json:"chatId"`
		}](t, post(t, s, "/chats/new", body)).ChatID
	}

	var order Order
	for _, o := range s.Orders() {
		if o.ID == 53822301177 {
			order = o
		}
	}
	if order.ID == 0 {
		t.Fatal("Orders lacks the seeded order with no chat")
	}
	id := create(fmt.Sprintf(`{"context":{"type":"ORDER","id":%d}}`, order.ID))
	if again := create(fmt.Sprintf(`{"context":{"type":"ORDER","id":%d}}`, order.ID)); again != id {
		t.Errorf("second createChat gave chat %d, want %d", again, id)
	}
	if legacy := create(fmt.Sprintf(`{"orderId":%d}`, order.ID)); legacy != id {
		t.Errorf("legacy createChat gave chat %d, want %d", legacy, id)
	}
	got, ok := s.Chat(id)
	want := Chat{
		ChatID:  id,
		OrderID: order.ID,
		Context: Context{Type: ContextOrder, Customer: order.Customer, CampaignID: order.CampaignID, OrderID: order.ID},
		Type:    ChatTypeChat, Status: StatusNew,
		CreatedAt: apiTime(clock.Now()), UpdatedAt: apiTime(clock.Now()),
	}
	if !ok || got != want {
		t.Errorf("created %+v, want %+v", got, want)
	}
	if p := result[chatsPage](t, post(t, s, "/chats", `{}`)); p.Chats[0].ChatID != id {
		t.Errorf("the new chat is not first in getChats: %+v", p.Chats[0])
	}

	var ret Return
	for _, r := range s.Returns() {
		if r.ID == 8841812 {
			ret = r
		}
	}
	if ret.ID == 0 {
		t.Fatal("Returns lacks the seeded return with no chat")
	}
	id = create(`{"context":{"type":"RETURN","id":8841812}}`)
	if c, _ := s.Chat(id); c.Context.Type != ContextReturn || c.Context.ReturnID != ret.ID || c.Context.OrderID != ret.OrderID ||
		c.OrderID != ret.OrderID || c.Context.Customer.Name == "" || c.Context.CampaignID == 0 {
		t.Errorf("return chat %+v", c)
	}
	if again := create(`{"context":{"type":"RETURN","id":8841812}}`); again != id {
		t.Errorf("second createChat for the return gave %d, want %d", again, id)
	}

	seeded := findChat(t, s, func(c Chat) bool { return c.Context.Type == ContextOrder && c.Type == ChatTypeChat })
	if got := create(fmt.Sprintf(`{"context":{"type":"ORDER","id":%d}}`, seeded.OrderID)); got != seeded.ChatID {
		t.Errorf("createChat for an order with a chat gave %d, want %d", got, seeded.ChatID)
	}
}

func TestSendMessage(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, WithClock(clock.Now))
	c := findChat(t, s, withStatus(StatusWaitingForPartner))
	text := strings.Repeat("ж", maxMessageLength) // 4096 characters, 8192 bytes
	post(t, s, fmt.Sprintf("/chats/message?chatId=%d", c.ChatID), fmt.Sprintf(`{"message":%q}`, text))

	h := result[historyPage](t, post(t, s, fmt.Sprintf("/chats/history?chatId=%d", c.ChatID), `{}`))
	last := h.Messages[len(h.Messages)-1]
	if last.Sender != SenderPartner || last.Message != text || !last.CreatedAt.Equal(clock.Now()) || last.Payload != nil {
		t.Errorf("last message %+v", last)
	}
	if got, _ := s.Chat(c.ChatID); got.Status != StatusWaitingForCustomer || !got.UpdatedAt.Equal(clock.Now()) {
		t.Errorf("chat after the answer: %+v", got)
	}
	if p := result[chatsPage](t, post(t, s, "/chats", `{}`)); p.Chats[0].ChatID != c.ChatID {
		t.Errorf("the answered chat is not first in getChats: %+v", p.Chats[0])
	}

	dispute := findChat(t, s, func(c Chat) bool { return c.Type == ChatTypeArbitrage })
	post(t, s, fmt.Sprintf("/chats/message?chatId=%d", dispute.ChatID), `{"message":"Видео упаковки приложим сегодня."}`)
	if got, _ := s.Chat(dispute.ChatID); got.Status != dispute.Status {
		t.Errorf("a message changed the dispute's status to %s", got.Status)
	}
}

func TestSendFile(t *testing.T) {
	s := newTestServer(t)
	c := findChat(t, s, withStatus(StatusWaitingForPartner))
	data := bytes.Repeat([]byte("%PDF-1.7 "), 1000)
	if a := send(t, fileRequest(t, s, c.ChatID, "file", "инструкция по замене.pdf", "application/pdf", data)); string(a.body) != `{"status":"OK"}` {
		t.Fatalf("sendFileToChat answered %d %s", a.status, a.body)
	}
	msgs := s.Messages(c.ChatID)
	last := msgs[len(msgs)-1]
	if last.Sender != SenderPartner || last.Message != "" || len(last.Payload) != 1 {
		t.Fatalf("last message %+v", last)
	}
	att := last.Payload[0]
	if att.Name != "инструкция по замене.pdf" || att.Size != len(data) || !strings.HasPrefix(att.URL, s.URL+"/files/") {
		t.Errorf("attachment %+v", att)
	}
	if got, _ := s.Chat(c.ChatID); got.Status != StatusWaitingForCustomer {
		t.Errorf("status %s after a file", got.Status)
	}

	download := func(key string) reply {
		req, _ := http.NewRequest("GET", att.URL, nil)
		if key != "" {
			req.Header.Set("Api-Key", key)
		}
		return send(t, req)
	}
	if a := download(s.APIKey); a.status != 200 || !bytes.Equal(a.body, data) || a.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: %d, %d bytes, Content-Type %q", a.status, len(a.body), a.header.Get("Content-Type"))
	}
	wantError(t, download(""), 401, "UNAUTHORIZED", "Credentials are not specified")
	wantError(t, download("wrong"), 401, "UNAUTHORIZED", "Api-Key token is invalid")
	req, _ := http.NewRequest("GET", att.URL+"x", nil)
	req.Header.Set("Api-Key", s.APIKey)
	wantError(t, send(t, req), 404, "NOT_FOUND", "Resource not found")

	// Without a Content-Type the part is kept as binary.
	send(t, fileRequest(t, s, c.ChatID, "file", "photo.heic", "", []byte{1, 2, 3}))
	msgs = s.Messages(c.ChatID)
	req, _ = http.NewRequest("GET", msgs[len(msgs)-1].Payload[0].URL, nil)
	req.Header.Set("Api-Key", s.APIKey)
	if ct := send(t, req).header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q for a part without one", ct)
	}
}

func TestSendFileLimits(t *testing.T) {
	s := newTestServer(t)
	c := findChat(t, s, withStatus(StatusWaitingForPartner))
	before := len(s.Messages(c.ChatID))
	tests := []struct {
		name, field, file string
		size              int
		msg               string
	}{
		{"over 5 MB", "file", "big.jpg", maxFileSize + 1, "File is too large"},
		{"no file part", "document", "a.jpg", 10, "Required request part 'file' is not present"},
		{"file part without a name", "file", "", 10, "Required request part 'file' is not present"},
		{"empty file", "file", "empty.jpg", 0, "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, fileRequest(t, s, c.ChatID, tt.field, tt.file, "image/jpeg", make([]byte, tt.size)))
			wantError(t, a, 400, "BAD_REQUEST", tt.msg)
		})
	}
	if got := len(s.Messages(c.ChatID)); got != before {
		t.Fatalf("refused files added %d messages", got-before)
	}
	req := fileRequest(t, s, c.ChatID, "file", "a.jpg", "image/jpeg", []byte{1})
	req.URL.RawQuery = ""
	wantError(t, send(t, req), 400, "BAD_REQUEST", "Required request parameter 'chatId' is not present")
	wantError(t, send(t, fileRequest(t, s, 999, "file", "a.jpg", "image/jpeg", []byte{1})), 404, "NOT_FOUND", "Can't find chat by id: '999'")

	result[any](t, send(t, fileRequest(t, s, c.ChatID, "file", "exact.jpg", "image/jpeg", make([]byte, maxFileSize))))
	msgs := s.Messages(c.ChatID)
	if got := msgs[len(msgs)-1].Payload[0].Size; got != maxFileSize {
		t.Errorf("a file of exactly 5 MB stored with size %d", got)
	}
}

func TestSeed(t *testing.T) {
	s := newTestServer(t)
	chats := s.Chats()
	statuses := map[ChatStatus]int{}
	contexts := map[ContextType]int{}
	types := map[ChatType]int{}
	senders := map[Sender]int{}
	attachments := 0
	withChat := map[int64]bool{}
	for _, c := range chats {
		statuses[c.Status]++
		contexts[c.Context.Type]++
		types[c.Type]++
		if c.Context.Type == ContextReturn {
			withChat[c.Context.ReturnID] = true
		} else {
			withChat[c.OrderID] = true
		}
		if c.Context.Customer.Name == "" || c.Context.Customer.PublicID == "" {
			t.Errorf("chat %d has no customer", c.ChatID)
		}
		if c.Context.Type != ContextDirect && (c.OrderID == 0 || c.Context.CampaignID == 0) {
			t.Errorf("chat %d has no order or campaign", c.ChatID)
		}
		for _, at := range []time.Time{c.CreatedAt, c.UpdatedAt} {
			if _, off := at.Zone(); off != 3*60*60 || at.Before(time.Date(2026, 11, 20, 0, 0, 0, 0, moscow)) || !at.Before(time.Date(2026, 11, 25, 0, 0, 0, 0, moscow)) {
				t.Errorf("chat %d has time %v", c.ChatID, at)
			}
		}
		msgs := s.Messages(c.ChatID)
		for _, m := range msgs {
			senders[m.Sender]++
			attachments += len(m.Payload)
		}
		if len(msgs) > 0 && !msgs[len(msgs)-1].CreatedAt.Equal(c.UpdatedAt) {
			t.Errorf("chat %d: updatedAt %v, last message at %v", c.ChatID, c.UpdatedAt, msgs[len(msgs)-1].CreatedAt)
		}
	}
	if len(chats) <= 10 || len(chats) > 20 {
		t.Errorf("%d chats", len(chats))
	}
	for _, st := range chatStatuses {
		if statuses[st] == 0 {
			t.Errorf("no %s chat", st)
		}
	}
	if statuses[StatusWaitingForPartner] < 5 {
		t.Errorf("%d chats wait for the seller", statuses[StatusWaitingForPartner])
	}
	for _, ct := range contextTypes {
		if contexts[ct] == 0 {
			t.Errorf("no %s chat", ct)
		}
	}
	if types[ChatTypeArbitrage] == 0 {
		t.Error("no ARBITRAGE chat")
	}
	for _, sd := range []Sender{SenderCustomer, SenderPartner, SenderMarket, SenderSupport} {
		if senders[sd] == 0 {
			t.Errorf("no message from %s", sd)
		}
	}
	if attachments < 3 {
		t.Errorf("%d attachments", attachments)
	}
	longChat(t, s)
	free := 0
	for _, o := range s.Orders() {
		if !withChat[o.ID] {
			free++
		}
	}
	if free < 2 {
		t.Errorf("%d orders without a chat", free)
	}
	if slices.IndexFunc(s.Returns(), func(r Return) bool { return !withChat[r.ID] }) < 0 {
		t.Error("no return without a chat")
	}

	for i, want := range []string{"application/pdf", "image/jpeg"} {
		att := s.Messages(findChat(t, s, func(c Chat) bool { return c.Context.ReturnID == 8841203 }).ChatID)[1].Payload[i]
		req, _ := http.NewRequest("GET", att.URL, nil)
		req.Header.Set("Api-Key", s.APIKey)
		if a := send(t, req); a.status != 200 || len(a.body) != att.Size || a.header.Get("Content-Type") != want {
			t.Errorf("seeded file %d: %d, %d bytes, %s", i, a.status, len(a.body), a.header.Get("Content-Type"))
		}
	}
}

func TestStateAccessors(t *testing.T) {
	clock := newFakeClock()
	s := newTestServer(t, WithoutSeed(), WithClock(clock.Now))
	if len(s.Chats()) != 0 || len(s.Orders()) != 0 || len(s.Returns()) != 0 {
		t.Fatal("WithoutSeed left a seed")
	}
	if p := post(t, s, "/chats", `{}`); !strings.Contains(string(p.body), `"chats":[]`) {
		t.Errorf("an empty list is %s", p.body)
	}

	c := s.AddChat(Chat{
		Context: Context{Type: ContextOrder, OrderID: 1001, CampaignID: 7, Customer: Customer{Name: "Тест", PublicID: "t1"}},
		Status:  StatusWaitingForPartner,
	})
	if c.ChatID == 0 || c.OrderID != 1001 || c.Type != ChatTypeChat || !c.CreatedAt.Equal(clock.Now()) || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("AddChat stored %+v", c)
	}
	clock.Advance(90 * time.Second)
	m, ok := s.AddMessage(c.ChatID, Message{Sender: SenderCustomer, Message: "Где заказ?"})
	if !ok || m.MessageID == 0 || !m.CreatedAt.Equal(clock.Now()) {
		t.Errorf("AddMessage stored %+v, %v", m, ok)
	}
	if got, _ := s.Chat(c.ChatID); !got.UpdatedAt.Equal(m.CreatedAt) || got.Status != StatusWaitingForPartner {
		t.Errorf("chat after AddMessage: %+v", got)
	}
	h := result[historyPage](t, post(t, s, fmt.Sprintf("/chats/history?chatId=%d", c.ChatID), `{}`))
	if len(h.Messages) != 1 || h.Messages[0].MessageID != m.MessageID || h.Messages[0].Message != m.Message {
		t.Errorf("history %+v", h.Messages)
	}
	if _, ok := s.AddMessage(999, Message{}); ok {
		t.Error("AddMessage to an unknown chat succeeded")
	}
	c.Status = StatusFinished
	s.AddChat(c)
	if got := s.Messages(c.ChatID); len(got) != 1 {
		t.Errorf("replacing a chat left %d messages", len(got))
	}
	wantError(t, post(t, s, fmt.Sprintf("/chats/message?chatId=%d", c.ChatID), `{"message":"Здравствуйте"}`), 400, "BAD_REQUEST", "closed")

	s.AddOrder(Order{ID: 2002, CampaignID: 7, Customer: Customer{Name: "Покупатель", PublicID: "p2"}})
	s.AddReturn(Return{ID: 3003, OrderID: 2002})
	a := post(t, s, "/chats/new", `{"context":{"type":"RETURN","id":3003}}`)
	id := result[struct {
		ChatID int64 `json:"chatId"`
	}](t, a).ChatID
	if got, _ := s.Chat(id); got.Context.ReturnID != 3003 || got.Context.OrderID != 2002 || got.Context.Customer.Name != "Покупатель" {
		t.Errorf("return chat %+v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("AddReturn of an unknown order did not panic")
		}
	}()
	s.AddReturn(Return{ID: 1, OrderID: 999})
}

func TestRequestLog(t *testing.T) {
	s := newTestServer(t)
	post(t, s, "/chats?limit=3", `{"statuses":["NEW"]}`)
	get(t, s, "/chat?chatId=1")
	req, _ := http.NewRequest("GET", s.URL+"/nowhere", nil)
	send(t, req)
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	r := reqs[0]
	if r.Op != OpGetChats || r.Method != "POST" || r.Query.Get("limit") != "3" || string(r.Body) != `{"statuses":["NEW"]}` ||
		r.Header.Get("Api-Key") != s.APIKey || r.Path != fmt.Sprintf("/v2/businesses/%d/chats", s.BusinessID) || r.At.IsZero() {
		t.Errorf("logged %+v", r)
	}
	if reqs[1].Op != OpGetChat || reqs[2].Op != "" {
		t.Errorf("ops %q, %q", reqs[1].Op, reqs[2].Op)
	}
	reqs[0].Body[0] = 'x'
	reqs[0].Query.Set("limit", "9")
	if again := s.Requests()[0]; again.Body[0] != '{' || again.Query.Get("limit") != "3" {
		t.Error("Requests shares its slices with the log")
	}
	if st := s.Stats(); st.Requests[OpGetChats] != 1 || st.Requests[OpGetChat] != 1 || len(st.Requests) != 2 {
		t.Errorf("stats %+v", st.Requests)
	}

	quiet := newTestServer(t, WithoutRequestLog())
	post(t, quiet, "/chats", `{}`)
	if len(quiet.Requests()) != 0 || quiet.Stats().Requests[OpGetChats] != 1 {
		t.Errorf("WithoutRequestLog: %d logged, stats %v", len(quiet.Requests()), quiet.Stats().Requests)
	}
}

func TestNewHandler(t *testing.T) {
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	s := NewHandler(base + "/")
	defer s.Close()
	hs.Config.Handler = s.Handler()
	hs.Start()
	defer hs.Close()
	if s.URL != base {
		t.Fatalf("URL %q, want %q", s.URL, base)
	}
	c := result[chatsPage](t, post(t, s, "/chats", `{"statuses":["WAITING_FOR_PARTNER"]}`)).Chats[0]
	send(t, fileRequest(t, s, c.ChatID, "file", "фото.jpg", "image/jpeg", photo))
	msgs := s.Messages(c.ChatID)
	u := msgs[len(msgs)-1].Payload[0].URL
	if !strings.HasPrefix(u, base+"/files/") {
		t.Fatalf("file link %q does not start with %q", u, base)
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Api-Key", s.APIKey)
	if a := send(t, req); !bytes.Equal(a.body, photo) {
		t.Errorf("download gave %d bytes", len(a.body))
	}
}
