package market_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

// typedErrors counts the client's typed errors that err matches.
func typedErrors(err error) int {
	var (
		apiErr   *market.APIError
		limitErr *market.RateLimitError
		respErr  *market.ResponseError
	)
	n := 0
	for _, target := range []any{&apiErr, &limitErr, &respErr} {
		if errors.As(err, target) {
			n++
		}
	}
	return n
}

// wantError checks that err is one typed error equal to want, which is an *APIError,
// *RateLimitError or *ResponseError with no TraceID, apart from the trace id of the request
// that failed. For a ResponseError it checks only that the cause is kept. A nil want wants no
// error.
func wantError(t *testing.T, err, want error, traceID string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	if n := typedErrors(err); n != 1 {
		t.Fatalf("err = %v (%T) matches %d typed errors, want %T", err, err, n, want)
	}
	switch w := want.(type) {
	case *market.APIError:
		var got *market.APIError
		if !errors.As(err, &got) {
			t.Fatalf("err = %v (%T), want an *APIError", err, err)
		}
		w2 := *w
		w2.TraceID = traceID
		wantEqual(t, "APIError", *got, w2)
	case *market.RateLimitError:
		var got *market.RateLimitError
		if !errors.As(err, &got) {
			t.Fatalf("err = %v (%T), want a *RateLimitError", err, err)
		}
		g, w2 := *got, *w
		g.Until, w2.Until, w2.TraceID = g.Until.UTC(), w2.Until.UTC(), traceID
		wantEqual(t, "RateLimitError", g, w2)
	case *market.ResponseError:
		var got *market.ResponseError
		if !errors.As(err, &got) {
			t.Fatalf("err = %v (%T), want a *ResponseError", err, err)
		}
		if got.Op != w.Op || got.Status != w.Status || got.TraceID != traceID || got.Err == nil {
			t.Errorf("ResponseError %+v, want op %s, status %d, trace id %s and a cause", *got, w.Op, w.Status, traceID)
		}
	default:
		t.Fatalf("wantError cannot compare %T", want)
	}
}

// wantUntyped checks that err is an error that is none of the client's typed errors.
func wantUntyped(t *testing.T, err error) {
	t.Helper()
	var ne *market.NetworkError
	if err == nil || typedErrors(err) != 0 || !errors.As(err, &ne) || ne.Op == "" || ne.TraceID == "" {
		t.Errorf("err = %v (%T), want a *NetworkError and none of the typed API errors", err, err)
	}
}

// The call functions below call one operation and keep only its error.

func callGetChats(p market.Page) func(context.Context, *market.Client) error {
	return func(ctx context.Context, c *market.Client) error {
		_, err := c.GetChats(ctx, market.ChatsFilter{}, p)
		return err
	}
}

func callGetChat(id int64) func(context.Context, *market.Client) error {
	return func(ctx context.Context, c *market.Client) error {
		_, err := c.GetChat(ctx, id)
		return err
	}
}

func callCreateChat(about market.ChatContext) func(context.Context, *market.Client) error {
	return func(ctx context.Context, c *market.Client) error {
		_, err := c.CreateChat(ctx, about)
		return err
	}
}

// firstSeededChat is the id of the first chat markettest seeds.
const firstSeededChat = 4821001

func TestErrors(t *testing.T) {
	const business = markettest.DefaultBusinessID
	// Windows are an hour ahead of now, as the client weighs waits by its own clock.
	clock := time.Now().UTC().Truncate(time.Second)
	until := clock.Add(time.Hour)
	const errorPage = "\r\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n"
	tests := []struct {
		name      string
		server    []markettest.Option
		client    func(*market.Options)
		inject    string // the operation the fault is for, if any
		fault     markettest.Fault
		call      func(context.Context, *market.Client) error
		want      error
		temporary bool
		local     bool // answered by the client alone: no request, no trace id
	}{
		{
			name: "400 limit over the maximum",
			call: callGetChats(market.Page{Limit: 21}),
			want: &market.APIError{Op: "getChats", Status: 400, Code: "BAD_REQUEST",
				Message: "Parameter limit must be less than or equal to '20' (rejected value: '21')"},
		},
		{
			name:   "401 wrong Api-Key",
			client: func(o *market.Options) { o.APIKey = "ACMA:notTheKeyNotTheKey000000000:00000000" },
			call:   callGetChats(market.Page{}),
			want:   &market.APIError{Op: "getChats", Status: 401, Code: "UNAUTHORIZED", Message: "Api-Key token is invalid"},
		},
		{
			name:   "403 wrong OAuth token",
			server: []markettest.Option{markettest.WithOAuthToken("y0_theRightToken")},
			client: withOAuth("y0_aWrongToken"),
			call:   callGetChats(market.Page{}),
			want:   &market.APIError{Op: "getChats", Status: 403, Code: "FORBIDDEN", Message: "OAuth token is invalid"},
		},
		{
			name:   "403 another business",
			client: func(o *market.Options) { o.BusinessID = business + 1 },
			call:   callGetChat(1),
			want:   &market.APIError{Op: "getChat", Status: 403, Code: "FORBIDDEN", Message: "Access denied"},
		},
		{
			name: "404 unknown chat",
			call: callGetChat(1),
			want: &market.APIError{Op: "getChat", Status: 404, Code: "NOT_FOUND", Message: "Can't find chat by id: '1'"},
		},
		{
			name: "404 unknown order",
			call: callCreateChat(market.ChatContext{Type: market.ContextOrder, ID: 1}),
			want: &market.APIError{Op: "createChat", Status: 404, Code: "NOT_FOUND", Message: "Order not found: '1'"},
		},
		{
			name:   "420 budget spent, as injected",
			inject: markettest.OpSendMessageToChat, fault: markettest.Fault{Status: 420, Until: until},
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.SendMessage(ctx, firstSeededChat, "Добрый день!")
				return err
			},
			want: &market.RateLimitError{Op: "sendMessageToChat", Until: until, Limit: 1000,
				Message: "Hit rate limit of '1000' requests per '1 hour' for resource '/v2/businesses/{businessId}/chats/message' for businessId 7654321"},
		},
		{
			name:   "420 budget spent by the calls before",
			server: []markettest.Option{markettest.WithBudget(markettest.OpGetChats, 1), markettest.WithClock(func() time.Time { return clock })},
			call: func(ctx context.Context, c *market.Client) error {
				if _, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{}); err != nil {
					return fmt.Errorf("the call within the budget failed: %v", err) // not wrapped: it must not pass for the 420
				}
				_, err := c.GetChats(ctx, market.ChatsFilter{}, market.Page{})
				return err
			},
			// The first answer said the budget was spent: the client answers without asking.
			want:  &market.RateLimitError{Op: "getChats", Until: clock.Add(time.Hour), Limit: 1, Local: true},
			local: true,
		},
		{
			name:   "420 parallel requests",
			inject: markettest.OpGetChatMessage, fault: markettest.Fault{Status: 420},
			call: func(ctx context.Context, c *market.Client) error { _, err := c.GetChatMessage(ctx, 1, 2); return err },
			want: &market.RateLimitError{Op: "getChatMessage", Message: "Hit rate limit of 4 parallel requests for businessId 7654321", Parallel: true},
		},
		{
			name:   "500",
			inject: markettest.OpGetChatHistory, fault: markettest.Fault{Status: 500},
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.GetChatHistory(ctx, 1, 0, market.Page{})
				return err
			},
			want:      &market.APIError{Op: "getChatHistory", Status: 500, Code: "INTERNAL_ERROR", Message: "Internal Server Error"},
			temporary: true,
		},
		{
			name:   "503",
			inject: markettest.OpGetChats, fault: markettest.Fault{Status: 503},
			call: callGetChats(market.Page{}),
			want: &market.APIError{Op: "getChats", Status: 503, Code: "INTERNAL_ERROR",
				Message: "Service temporarily unavailable. Please, try again later"},
			temporary: true,
		},
		{
			name:   "HTML error page",
			inject: markettest.OpCreateChat, fault: markettest.Fault{Status: 502, Body: errorPage},
			call:      callCreateChat(market.ChatContext{Type: market.ContextOrder, ID: 1}),
			want:      &market.APIError{Op: "createChat", Status: 502, Message: "502 Bad Gateway"},
			temporary: true,
		},
		{
			name:   "200 that is not JSON",
			inject: markettest.OpGetChat, fault: markettest.Fault{Body: "not json"},
			call: callGetChat(1),
			want: &market.ResponseError{Op: "getChat", Status: 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.server...)
			edits := []func(*market.Options){}
			if tt.client != nil {
				edits = append(edits, tt.client)
			}
			c := newClient(t, s, edits...)
			if tt.inject != "" {
				s.Inject(tt.inject, tt.fault)
			}
			err := tt.call(t.Context(), c)
			trace := traceID(t, lastRequest(t, s).Header)
			if tt.local {
				trace = ""
				if n := len(s.Requests()); n != 1 {
					t.Errorf("%d requests, want only the one that spent the budget", n)
				}
			}
			wantError(t, err, tt.want, trace)
			var apiErr *market.APIError
			if errors.As(err, &apiErr) && apiErr.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v, want %v", apiErr.Temporary(), tt.temporary)
			}
		})
	}
}

// TestUnexpectedAnswers covers answers of shapes markettest does not produce.
func TestUnexpectedAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		call   func(context.Context, *market.Client) error
		want   error
	}{
		{
			name: "error envelope with status 200", status: 200,
			body: `{"status":"ERROR","errors":[{"code":"NOT_FOUND","message":"Can't find chat by id: '5'"}]}`,
			call: callGetChat(5),
			want: &market.APIError{Op: "getChat", Status: 200, Code: "NOT_FOUND", Message: "Can't find chat by id: '5'"},
		},
		{
			name: "error status with an envelope without errors", status: 404, body: `{"status":"ERROR"}`,
			call: callGetChat(5),
			want: &market.APIError{Op: "getChat", Status: 404},
		},
		{
			name: "420 with no envelope and no limit headers", status: 420, body: "",
			call: callGetChats(market.Page{}),
			want: &market.RateLimitError{Op: "getChats", Parallel: true},
		},
		{
			name: "OK without a result", status: 200, body: `{"status":"OK"}`,
			call: callGetChat(5),
			want: &market.ResponseError{Op: "getChat", Status: 200},
		},
		{
			name: "result of another shape", status: 200, body: `{"status":"OK","result":[1,2]}`,
			call: callGetChat(5),
			want: &market.ResponseError{Op: "getChat", Status: 200},
		},
		{
			name: "createChat answered without a chat id", status: 200, body: `{"status":"OK","result":{}}`,
			call: callCreateChat(market.ChatContext{Type: market.ContextOrder, ID: 1}),
			want: &market.ResponseError{Op: "createChat", Status: 200},
		},
		{
			name: "sendMessageToChat answered OK with no result", status: 200, body: `{"status":"OK"}`,
			call: func(ctx context.Context, c *market.Client) error {
				_, err := c.SendMessage(ctx, 5, "Спасибо!")
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStub(t, tt.status, tt.body)
			err := tt.call(t.Context(), st.client(t))
			wantError(t, err, tt.want, st.lastTraceID(t))
		})
	}
}

// TestErrorPageMessageKeepsWholeCharacters checks the message cut from a long error page that is
// not JSON: its text without markup, short, and valid UTF-8 when the cut falls inside a
// character.
func TestErrorPageMessageKeepsWholeCharacters(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	// After "<p>" every character takes two bytes and starts at an odd offset, so any cut at
	// an even length falls inside one.
	page := "<p>" + strings.Repeat("Сервисвременнонедоступен", 20) + "</p>"
	s.Inject(markettest.OpGetChats, markettest.Fault{Status: 502, Body: page})
	_, err := c.GetChats(t.Context(), market.ChatsFilter{}, market.Page{})
	var apiErr *market.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 502 {
		t.Fatalf("err = %v, want an *APIError with status 502", err)
	}
	cut, ok := strings.CutSuffix(apiErr.Message, "…")
	if !ok || !utf8.ValidString(cut) || !strings.HasPrefix(page[len("<p>"):], cut) || len(cut) > 200 || len(cut) < 190 {
		t.Errorf("message %q (valid UTF-8: %v), want the page's first 200 bytes of text, cut between characters",
			apiErr.Message, utf8.ValidString(apiErr.Message))
	}
}

func TestDroppedConnection(t *testing.T) {
	tests := []struct {
		op   string
		call func(context.Context, *market.Client) error
	}{
		{markettest.OpGetChat, callGetChat(1)},
		{markettest.OpGetChatMessage, func(ctx context.Context, c *market.Client) error {
			_, err := c.GetChatMessage(ctx, firstSeededChat, 1)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			s := newServer(t)
			c := newClient(t, s, withoutKeepAlives)
			s.Inject(tt.op, markettest.Fault{Drop: true})
			err := tt.call(t.Context(), c)
			wantUntyped(t, err)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, a context error for a dropped connection", err)
			}
			if id := traceID(t, lastRequest(t, s).Header); err != nil && (!strings.Contains(err.Error(), tt.op) || !strings.Contains(err.Error(), id)) {
				t.Errorf("err = %v, want the operation %s and the trace id %s in it", err, tt.op, id)
			}
			if n := s.Stats().Requests[tt.op]; n != 1 {
				t.Errorf("%d requests of %s, want 1", n, tt.op)
			}
		})
	}
}

// TestOversizedAnswer: an answer larger than the client reads is reported as such, not as broken
// JSON.
func TestOversizedAnswer(t *testing.T) {
	st := newStub(t, 200, `{"status":"OK","result":{"chats":[`+strings.Repeat(`{"chatId":1},`, 17<<20/13)+`{"chatId":1}]}}`)
	err := callGetChats(market.Page{})(t.Context(), st.client(t))
	if !errors.Is(err, market.ErrAnswerTooLarge) {
		t.Errorf("err = %v, want ErrAnswerTooLarge", err)
	}
}
