package markettest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// statusLimit is the status the API answers when a limit is hit ("420 Enhance Your Calm").
const statusLimit = 420

// apiError is an error the server answers with the API's error envelope.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequestf(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

var errResourceNotFound = errorf(http.StatusNotFound, "Resource not found")

func chatNotFound(id int64) error {
	return errorf(http.StatusNotFound, "Can't find chat by id: '%d'", id)
}

type envelope struct {
	Status string     `json:"status"`
	Result any        `json:"result,omitempty"`
	Errors []errorDTO `json:"errors,omitempty"`
}

type errorDTO struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var errorCodes = map[int]string{
	http.StatusBadRequest:           "BAD_REQUEST",
	http.StatusUnauthorized:         "UNAUTHORIZED",
	http.StatusForbidden:            "FORBIDDEN",
	http.StatusNotFound:             "NOT_FOUND",
	http.StatusMethodNotAllowed:     "METHOD_NOT_ALLOWED",
	http.StatusUnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
	statusLimit:                     "LIMIT_EXCEEDED",
	http.StatusLocked:               "LOCKED",
}

func errorCode(status int) string {
	if code, ok := errorCodes[status]; ok {
		return code
	}
	if status >= 500 {
		return "INTERNAL_ERROR"
	}
	return "BAD_REQUEST"
}

// render turns a handler's outcome into the status and body of the answer.
func render(result any, err error) (int, []byte) {
	if err != nil {
		var e *apiError
		if !errors.As(err, &e) {
			e = &apiError{status: http.StatusInternalServerError, msg: "Internal server error"}
		}
		return e.status, errorBody(e.status, e.msg)
	}
	body, err := json.Marshal(envelope{Status: "OK", Result: result})
	if err != nil {
		return render(nil, err)
	}
	return http.StatusOK, body
}

func errorBody(status int, msg string) []byte {
	body, _ := json.Marshal(envelope{Status: "ERROR", Errors: []errorDTO{{Code: errorCode(status), Message: msg}}})
	return body
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, err error) {
	status, body := render(nil, err)
	writeBody(w, status, body)
}
