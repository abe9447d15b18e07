package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// subjectError names what a failed call was about ("chat 123"), so that a 404 can say what is
// missing without parsing the API's prose.
type subjectError struct {
	subject string
	err     error
}

func (e *subjectError) Error() string { return e.subject + ": " + e.err.Error() }
func (e *subjectError) Unwrap() error { return e.err }

// about names the subject of err, if there is an error.
func about(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &subjectError{subject: fmt.Sprintf(format, args...), err: err}
}

// sentence turns an error into one sentence the model can act on. Errors the tools make
// themselves are already such sentences.
func sentence(err error) string {
	subject := "the request"
	var se *subjectError
	if errors.As(err, &se) {
		subject = se.subject
	}
	var (
		un   *market.UnconfirmedError
		rl   *market.RateLimitError
		api  *market.APIError
		resp *market.ResponseError
		ne   *market.NetworkError
	)
	switch {
	case errors.As(err, &un):
		return fmt.Sprintf("Market did not confirm the send to chat %d (%v) and the chat's history could not be read to check (%v): "+
			"the buyer may or may not have it, so read the chat with get_history before sending again.", un.ChatID, un.Err, un.Check)
	case errors.As(err, &rl):
		if rl.Parallel {
			return fmt.Sprintf("Market is refusing parallel requests for %s; try again in a few seconds.", rl.Op)
		}
		return fmt.Sprintf("Market's hourly limit for %s is used up: it resets in %s, at %s; try again after that.",
			rl.Op, time.Until(rl.Until).Round(time.Second), rl.Until.UTC().Format("15:04:05 MST"))
	case errors.As(err, &api):
		return apiSentence(api, subject)
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

func apiSentence(e *market.APIError, subject string) string {
	detail := fmt.Sprintf("%d", e.Status)
	if e.Message != "" {
		detail += ": " + e.Message
	}
	switch {
	case e.Status == 404:
		return fmt.Sprintf("%s not found (%s).", subject, detail)
	case e.Status == 400:
		return fmt.Sprintf("Market rejected %s as invalid (%s); correct the arguments and try again.", subject, detail)
	case e.Status == 401:
		return fmt.Sprintf("Market did not accept the credentials (%s); the server's API key must be checked by the seller.", detail)
	case e.Status == 403:
		return fmt.Sprintf("Market denied access (%s); the API key needs the communication scope and must belong to this business.", detail)
	case e.Status >= 500:
		return fmt.Sprintf("Market failed on its side (%s); try again in a minute, and give Market support trace id %s if it persists.", detail, e.TraceID)
	}
	return fmt.Sprintf("Market refused %s (%s).", subject, detail)
}
