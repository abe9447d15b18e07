package schema

import (
	"encoding/json"
	"errors"
	"time"
)

// The argument types below stand for the kinds of tool inputs and outputs the package serves.

type listArgs struct {
	Statuses  []string `json:"statuses,omitempty" jsonschema:"description=Only chats in these statuses,enum=NEW,enum=WAITING_FOR_CUSTOMER,enum=WAITING_FOR_PARTNER,minItems=1,uniqueItems=true"`
	OrderIDs  []int64  `json:"order_ids,omitempty" jsonschema:"minimum=1,maxItems=3,uniqueItems=true"`
	Limit     int      `json:"limit,omitempty" jsonschema:"minimum=1,maximum=20,default=20"`
	PageToken string   `json:"page_token,omitempty"`
}

type sendArgs struct {
	ChatID  int64  `json:"chat_id" jsonschema:"description=The chat\\, by id,minimum=1"`
	Message string `json:"message" jsonschema_description:"Plain text, as the seller" jsonschema:"minLength=1,maxLength=10"`
}

type chatContext struct {
	Type string `json:"type" jsonschema:"enum=ORDER,enum=RETURN"`
	ID   int64  `json:"id" jsonschema:"exclusiveMinimum=0"`
}

type attachment struct {
	Name string `json:"name" jsonschema:"pattern=^[a-z.]+$"`
	Size uint16 `json:"size,omitempty"`
}

type nestedArgs struct {
	Context     chatContext       `json:"context"`
	Attachments []attachment      `json:"attachments,omitempty" jsonschema:"maxItems=2"`
	Since       time.Time         `json:"since,omitzero"`
	Ratio       float64           `json:"ratio,omitempty" jsonschema:"minimum=0,exclusiveMaximum=1"`
	Data        []byte            `json:"data,omitempty"`
	Urgent      bool              `json:"urgent,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type tagArgs struct {
	Tags []tag `json:"tags" jsonschema:"uniqueItems=true"`
}

// createArgs has a rule across fields, checked by Validate.
type createArgs struct {
	OrderID  int64 `json:"order_id,omitempty" jsonschema:"minimum=1"`
	ReturnID int64 `json:"return_id,omitempty" jsonschema:"minimum=1"`
}

func (a createArgs) Validate() error {
	if (a.OrderID == 0) == (a.ReturnID == 0) {
		return errors.New("give exactly one of order_id and return_id")
	}
	return nil
}

// fileArgs names the offending field itself from Validate.
type fileArgs struct {
	FileName string `json:"file_name"`
}

func (a *fileArgs) Validate() error {
	if a.FileName == "." {
		return &ValidationError{Field: "file_name", Rule: "Validate", Message: "file_name must name a file"}
	}
	return nil
}

// picky decodes only from strings it likes, which the schema cannot tell.
type picky string

func (p *picky) UnmarshalJSON(b []byte) error {
	if string(b) != `"ok"` {
		return errors.New("only \"ok\" will do")
	}
	*p = "ok"
	return nil
}

type beltArgs struct {
	Small float32 `json:"small,omitempty"`
	Picky picky   `json:"picky,omitempty"`
}

// page is an output type: Check verifies a value against it.
type page struct {
	Chats []chatContext `json:"chats"`
	Next  string        `json:"next,omitempty"`
}

// fuzzArgs gathers the rules the fuzzer exercises.
type fuzzArgs struct {
	listArgs
	nestedArgs
	Raw json.RawMessage `json:"raw,omitempty"`
}
