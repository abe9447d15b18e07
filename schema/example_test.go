package schema_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/yandex-market-mcp/market-chat-mcp/schema"
)

type SendMessageArgs struct {
	ChatID  int64  `json:"chat_id" jsonschema:"description=The chat to answer in,minimum=1"`
	Message string `json:"message" jsonschema:"minLength=1,maxLength=4096"`
}

var sendMessageSchema = schema.MustFor[SendMessageArgs]()

func Example() {
	fmt.Println(string(sendMessageSchema.JSON()))

	var args SendMessageArgs
	err := sendMessageSchema.Decode(json.RawMessage(`{"chat_id":0,"mesage":"hi"}`), &args)
	fmt.Println(err)

	if ve, ok := errors.AsType[*schema.ValidationError](err); ok {
		fmt.Printf("first: field %s, rule %s\n", ve.Field, ve.Rule)
	}

	err = sendMessageSchema.Decode(map[string]any{"chat_id": 42.0, "message": "Hello!"}, &args)
	fmt.Println(err, args.ChatID, args.Message)
	// Output:
	// {"properties":{"chat_id":{"type":"integer","minimum":1,"description":"The chat to answer in"},"message":{"type":"string","maxLength":4096,"minLength":1}},"additionalProperties":false,"type":"object","required":["chat_id","message"]}
	// chat_id must be at least 1, got 0
	// unknown argument "mesage"; known arguments: chat_id, message
	// message is required
	// first: field chat_id, rule minimum
	// <nil> 42 Hello!
}
