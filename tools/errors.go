package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// subjectError names what a failed call was about ("chat 123"), so that an error can say what is
// missing and where to find it without parsing the API's prose.
type subjectError struct {
	subject  string
	notFound string // what to do when Market does not know the subject
	err      error
}

func (e *subjectError) Error() string { return e.subject + ": " + e.err.Error() }
func (e *subjectError) Unwrap() error { return e.err }

// about names the subject of err, if there is an error.
func about(err error, notFound, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &subjectError{subject: fmt.Sprintf(format, args...), notFound: notFound, err: err}
}

// aboutChat names a chat as the subject of err.
func aboutChat(err error, chatID int64) error {
	return about(err, "take chat_id from list_chats", "chat %d", chatID)
}

// pageTokenError is a refusal of a call that carried a page token, which is then the likely
// cause.
type pageTokenError struct{ err error }

func (e *pageTokenError) Error() string { return e.err.Error() }
func (e *pageTokenError) Unwrap() error { return e.err }

// withPageToken marks err as the failure of a call with a page token, if it is a 400.
func withPageToken(err error, token string) error {
	if api, ok := errors.AsType[*market.APIError](err); ok && api.Status == 400 && token != "" {
		return &pageTokenError{err}
	}
	return err
}

// closedChatError is a send refused because the chat is closed.
type closedChatError struct {
	chatID int64
	err    error
}

func (e *closedChatError) Error() string { return e.err.Error() }
func (e *closedChatError) Unwrap() error { return e.err }

// sendError explains a failed send. Market refuses a send to a closed chat with a 400 whose
// prose is not documented, so the chat's status tells whether that was the cause.
func sendError(ctx context.Context, env *Env, chatID int64, err error) error {
	if api, ok := errors.AsType[*market.APIError](err); ok && api.Status == 400 {
		if c, cerr := env.Market.GetChat(ctx, chatID); cerr == nil && c.Status == market.StatusFinished {
			err = &closedChatError{chatID: chatID, err: err}
		}
	}
	return aboutChat(err, chatID)
}

// sentence turns an error into one sentence the model can act on. Errors the tools make
// themselves are already such sentences.
func sentence(err error) string {
	subject, notFound := "the request", ""
	if se, ok := errors.AsType[*subjectError](err); ok {
		subject, notFound = se.subject, se.notFound
	}
	var (
		un     *market.UnconfirmedError
		rl     *market.RateLimitError
		api    *market.APIError
		resp   *market.ResponseError
		ne     *market.NetworkError
		closed *closedChatError
		token  *pageTokenError
		none   *market.NoAttachmentError
		dl     *market.DownloadError
	)
	switch {
	case errors.As(err, &un) && un.Check == nil:
		return fmt.Sprintf("The send to chat %d may have been delivered: Market failed it %d times (last: %v) and the chat's history does not show it yet. "+
			"Do not send it again now: read the chat with get_history in a minute, and send again only if it is not there.", un.ChatID, un.Attempts, un.Err)
	case errors.As(err, &un):
		return fmt.Sprintf("Market did not confirm the send to chat %d (%v) and the chat's history could not be read to check (%v): "+
			"the buyer may or may not have it, so read the chat with get_history before sending again.", un.ChatID, un.Err, un.Check)
	case errors.As(err, &closed):
		return fmt.Sprintf("Chat %d is closed (FINISHED): it accepts no messages, and create_chat cannot reopen it. A buyer who writes again opens it anew; "+
			"for an order, list_chats with order_ids shows whether another chat about it is open.", closed.chatID)
	case errors.As(err, &token):
		return fmt.Sprintf("Market refused page_token (%s): it is stale or belongs to other arguments. Call again without page_token to start from the first page.", detail(token.err.(*market.APIError)))
	case errors.As(err, &none) && none.Count == 0:
		return fmt.Sprintf("Message %d in chat %d has no attachments; get_history shows which messages have files.", none.MessageID, none.ChatID)
	case errors.As(err, &none):
		return fmt.Sprintf("Message %d in chat %d has %d attachments, so index must be 0 to %d, not %d.", none.MessageID, none.ChatID, none.Count, none.Count-1, none.Index)
	case errors.As(err, &dl) && dl.Refused:
		return fmt.Sprintf("Market refused the download of %q %s. The seller can set YANDEX_MARKET_OAUTH_TOKEN, an OAuth token of the cabinet, "+
			"besides the Api-Key: it is used only to download buyers' files. Meanwhile ask the buyer to describe the file.", dl.Name, strings.Join(dl.Tried, ", "))
	case errors.As(err, &dl):
		return fmt.Sprintf("The file %q could not be downloaded (%v); try again in a minute, or ask the buyer to describe it.", dl.Name, dl.Err)
	case errors.As(err, &rl):
		return limitSentence(rl)
	case errors.As(err, &api):
		return apiSentence(api, subject, notFound)
	case errors.As(err, &resp) && errors.Is(resp, market.ErrAnswerTooLarge):
		return fmt.Sprintf("Market's answer to %s was larger than the server reads; ask for less at a time (a smaller limit).", resp.Op)
	case errors.As(err, &resp):
		return fmt.Sprintf("Market's answer to %s could not be read (%v); try again, and give Market support trace id %s if it persists.", resp.Op, resp.Err, resp.TraceID)
	case errors.Is(err, context.Canceled):
		return "The call was cancelled before Market answered."
	case errors.As(err, &ne):
		return fmt.Sprintf("Market did not answer %s (%v); check the network and YANDEX_MARKET_BASE_URL, then try again. Trace id for Market support: %s.", ne.Op, ne.Err, ne.TraceID)
	case errors.Is(err, context.DeadlineExceeded):
		return "Market did not answer in time; try again."
	}
	return err.Error()
}

func limitSentence(rl *market.RateLimitError) string {
	switch d := time.Until(rl.Until); {
	case rl.Parallel:
		return fmt.Sprintf("Market is refusing parallel requests for %s; try again in a few seconds.", rl.Op)
	case rl.Pending:
		return fmt.Sprintf("Market has not yet answered earlier %s requests, whose answers tell how much of its hourly limit is left, "+
			"within the time the server waits (YANDEX_MARKET_MAX_WAIT); check the network, then try again.", rl.Op)
	case d <= 0:
		return fmt.Sprintf("Market's hourly limit for %s was reached and should reset any moment; try again in a minute.", rl.Op)
	default:
		return fmt.Sprintf("Market's hourly limit for %s is used up: it resets in %s, at %s; try again after that.",
			rl.Op, d.Round(time.Second), clockTime(rl.Until, time.Now()))
	}
}

func detail(e *market.APIError) string {
	d := fmt.Sprintf("%d", e.Status)
	if e.Message != "" {
		d += ": " + e.Message
	}
	return d
}

func apiSentence(e *market.APIError, subject, notFound string) string {
	switch {
	case e.Redirect != "":
		return fmt.Sprintf("Market's address answered %s with a redirect to %s (%d), which the server does not follow so that the key and the message never leave it; "+
			"the seller should check YANDEX_MARKET_BASE_URL.", e.Op, e.Redirect, e.Status)
	case e.Status == 404 && notFound != "":
		return fmt.Sprintf("%s not found (%s): %s.", subject, detail(e), notFound)
	case e.Status == 404:
		return fmt.Sprintf("%s not found (%s).", subject, detail(e))
	case e.Status == 400:
		return fmt.Sprintf("Market rejected %s as invalid (%s); correct the arguments and try again.", subject, detail(e))
	case e.Status == 401:
		return fmt.Sprintf("Market did not accept the credentials (%s); the server's API key must be checked by the seller.", detail(e))
	case e.Status == 403:
		return fmt.Sprintf("Market denied access (%s); the API key needs the communication scope and must belong to this business.", detail(e))
	case e.Status >= 500:
		return fmt.Sprintf("Market failed on its side (%s); try again in a minute, and give Market support trace id %s if it persists.", detail(e), e.TraceID)
	}
	return fmt.Sprintf("Market refused %s (%s).", subject, detail(e))
}
