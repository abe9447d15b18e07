package tools

import (
	"context"
	"errors"
	"fmt"
	"net"
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
		rl   *market.RateLimitError
		api  *market.APIError
		resp *market.ResponseError
		ne   net.Error
	)
	switch {
	case errors.As(err, &rl):
		if rl.Until.IsZero() {
			return fmt.Sprintf("Market is limiting parallel requests (%s); try again in a few seconds.", rl.Op)
		}
		return fmt.Sprintf("Market's hourly limit for %s is used up until %s (in %s); try again after that.",
			rl.Op, rl.Until.UTC().Format("15:04:05 MST"), time.Until(rl.Until).Round(time.Second))
	case errors.As(err, &api):
		return apiSentence(api, subject)
	case errors.As(err, &resp):
		return fmt.Sprintf("Market's answer to %s could not be read (%v); try again, and give Market support trace id %s if it persists.", resp.Op, resp.Err, resp.TraceID)
	case errors.Is(err, context.Canceled):
		return "The call was cancelled before Market answered."
	case errors.Is(err, context.DeadlineExceeded):
		return "Market did not answer in time; try again."
	case errors.As(err, &ne):
		return fmt.Sprintf("Could not reach Market (%v); check the network and YANDEX_MARKET_BASE_URL, then try again.", ne)
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
