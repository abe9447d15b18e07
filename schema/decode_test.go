package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeInto decodes args into a fresh T with T's schema.
func decodeInto[T any](args any) (T, error) {
	var v T
	err := MustFor[T]().Decode(args, &v)
	return v, err
}

func decodeErr[T any](args any) error {
	_, err := decodeInto[T](args)
	return err
}

func TestDecodeRules(t *testing.T) {
	long := strings.Repeat("é", 11) // 11 code points, 22 bytes
	for _, tc := range []struct {
		name   string
		decode func(args any) error
		args   string // raw JSON
		field  string
		rule   string
		msg    string
	}{
		{"unknown argument", decodeErr[sendArgs], `{"chat_id":1,"message":"hi","chat_idd":2}`,
			"chat_idd", "additionalProperties", `unknown argument "chat_idd"; known arguments: chat_id, message`},
		{"unknown nested field", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1,"kind":"x"}}`,
			"context.kind", "additionalProperties", `unknown field "kind" in context; known fields: id, type`},
		{"no arguments at all", decodeErr[struct{}], `{"x":1}`,
			"x", "additionalProperties", `unknown argument "x"; there are no arguments`},
		{"required", decodeErr[sendArgs], `{"message":"hi"}`,
			"chat_id", "required", "chat_id is required"},
		{"required null", decodeErr[sendArgs], `{"chat_id":null,"message":"hi"}`,
			"chat_id", "required", "chat_id is required, got null"},
		{"required nested", decodeErr[nestedArgs], `{"context":{"type":"ORDER"}}`,
			"context.id", "required", "context.id is required"},
		{"integer from string", decodeErr[sendArgs], `{"chat_id":"abc","message":"hi"}`,
			"chat_id", "type", `chat_id must be an integer, got string "abc"`},
		{"integer with fraction", decodeErr[sendArgs], `{"chat_id":1.5,"message":"hi"}`,
			"chat_id", "type", "chat_id must be an integer, got number 1.5"},
		{"integer beyond int64", decodeErr[sendArgs], `{"chat_id":9223372036854775808,"message":"hi"}`,
			"chat_id", "type", "chat_id must be an integer between -9223372036854775808 and 9223372036854775807, got 9223372036854775808"},
		{"integer beyond 2^53 in exponent form", decodeErr[sendArgs], `{"chat_id":1e17,"message":"hi"}`,
			"chat_id", "type", "chat_id must be an integer within ±2^53 (9007199254740992) unless written as a plain integer literal, got 1e17"},
		{"minimum", decodeErr[sendArgs], `{"chat_id":0,"message":"hi"}`,
			"chat_id", "minimum", "chat_id must be at least 1, got 0"},
		{"maximum", decodeErr[listArgs], `{"limit":50}`,
			"limit", "maximum", "limit must be at most 20, got 50"},
		{"exclusiveMinimum", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":0}}`,
			"context.id", "exclusiveMinimum", "context.id must be greater than 0, got 0"},
		{"exclusiveMaximum", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"ratio":1.0}`,
			"ratio", "exclusiveMaximum", "ratio must be less than 1, got 1.0"},
		{"number from string", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"ratio":"half"}`,
			"ratio", "type", `ratio must be a number, got string "half"`},
		{"number beyond float64", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"ratio":1e400}`,
			"ratio", "type", "ratio must be a number within the range of a 64-bit float, got 1e400"},
		{"unsigned bounds", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"attachments":[{"name":"a","size":-1}]}`,
			"attachments[0].size", "minimum", "attachments[0].size must be at least 0, got -1"},
		{"enum", decodeErr[listArgs], `{"statuses":["NEW","WAITING"]}`,
			"statuses[1]", "enum", `statuses[1] must be one of NEW, WAITING_FOR_CUSTOMER, WAITING_FOR_PARTNER; got "WAITING"`},
		{"minLength", decodeErr[sendArgs], `{"chat_id":1,"message":""}`,
			"message", "minLength", "message must be at least 1 character long, got 0"},
		{"maxLength counts code points", decodeErr[sendArgs], `{"chat_id":1,"message":"` + long + `"}`,
			"message", "maxLength", "message must be at most 10 characters long, got 11"},
		{"pattern", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"attachments":[{"name":"A.PDF"}]}`,
			"attachments[0].name", "pattern", `attachments[0].name must match the regular expression ^[a-z.]+$, got "A.PDF"`},
		{"date-time", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"since":"yesterday"}`,
			"since", "format", `since must be a date-time in RFC 3339 form such as 2025-01-31T15:04:05Z, got "yesterday"`},
		{"base64", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"data":"not base64!"}`,
			"data", "contentEncoding", `data must be base64 (standard alphabet, with padding), got "not base64!"`},
		{"boolean", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"urgent":"yes"}`,
			"urgent", "type", `urgent must be a boolean, got string "yes"`},
		{"object", decodeErr[nestedArgs], `{"context":"ORDER 1"}`,
			"context", "type", `context must be an object, got string "ORDER 1"`},
		{"map values", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"labels":{"a":1}}`,
			"labels.a", "type", "labels.a must be a string, got number 1"},
		{"array", decodeErr[listArgs], `{"statuses":"NEW"}`,
			"statuses", "type", `statuses must be an array, got string "NEW"`},
		{"minItems", decodeErr[listArgs], `{"statuses":[]}`,
			"statuses", "minItems", "statuses must have at least 1 item, got 0"},
		{"maxItems", decodeErr[listArgs], `{"order_ids":[1,2,3,4]}`,
			"order_ids", "maxItems", "order_ids must have at most 3 items, got 4"},
		{"uniqueItems", decodeErr[listArgs], `{"statuses":["NEW","WAITING_FOR_PARTNER","NEW"]}`,
			"statuses", "uniqueItems", `statuses must not contain duplicates ("NEW" appears more than once)`},
		{"uniqueItems compares numbers by value", decodeErr[listArgs], `{"order_ids":[1,1.0]}`,
			"order_ids", "uniqueItems", "order_ids must not contain duplicates (1 appears more than once)"},
		{"uniqueItems of objects", decodeErr[tagArgs], `{"tags":[{"key":"a","value":"1"},{"key":"b","value":"2"},{"value":"1","key":"a"}]}`,
			"tags", "uniqueItems", "tags must not contain duplicates (items 0 and 2 are equal)"},
		{"not an object", decodeErr[sendArgs], `[1,2]`,
			"", "type", "arguments must be an object, got an array"},
		{"not JSON", decodeErr[sendArgs], `{"chat_id":`,
			"", "json", "arguments are not valid JSON: unexpected EOF"},
		{"trailing data", decodeErr[listArgs], `{} {}`,
			"", "json", "arguments are not valid JSON: unexpected data after the top-level value"},
		{"long strings are shortened", decodeErr[nestedArgs], `{"context":{"type":"ORDER","id":1},"since":"` + strings.Repeat("x", 50) + `"}`,
			"since", "format", `since must be a date-time in RFC 3339 form such as 2025-01-31T15:04:05Z, got "` + strings.Repeat("x", 40) + `"… (50 characters)`},
		{"Validate", decodeErr[createArgs], `{}`,
			"", "Validate", "give exactly one of order_id and return_id"},
		{"Validate naming a field", decodeErr[fileArgs], `{"file_name":"."}`,
			"file_name", "Validate", "file_name must name a file"},
		{"schema runs before Validate", decodeErr[createArgs], `{"order_id":-1}`,
			"order_id", "minimum", "order_id must be at least 1, got -1"},
		{"decoding that the schema cannot foresee", decodeErr[beltArgs], `{"picky":"no"}`,
			"", "type", `arguments could not be decoded: only "ok" will do`},
		{"decoding into a narrower float", decodeErr[beltArgs], `{"small":1e300}`,
			"small", "type", "small could not be decoded into Go type float32, got number 1e300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode(json.RawMessage(tc.args))
			ve, ok := errors.AsType[*ValidationError](err)
			if !ok {
				t.Fatalf("error = %v (%T), want a *ValidationError", err, err)
			}
			if ve.Field != tc.field || ve.Rule != tc.rule || err.Error() != tc.msg {
				t.Errorf("got field %q, rule %q, error\n  %s\nwant field %q, rule %q, error\n  %s", ve.Field, ve.Rule, err, tc.field, tc.rule, tc.msg)
			}
		})
	}
}

func TestDecodeReportsAllInFieldOrder(t *testing.T) {
	err := decodeErr[listArgs](json.RawMessage(`{"statuses":["X","NEW"],"page_tokn":"a","limit":0,"order_ids":[0,"1"]}`))
	want := strings.Join([]string{
		"limit must be at least 1, got 0",
		"order_ids[0] must be at least 1, got 0",
		`order_ids[1] must be an integer, got string "1"`,
		`unknown argument "page_tokn"; known arguments: limit, order_ids, page_token, statuses`,
		`statuses[0] must be one of NEW, WAITING_FOR_CUSTOMER, WAITING_FOR_PARTNER; got "X"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fields = append(fields, e.(*ValidationError).Field)
	}
	if got := strings.Join(fields, " "); got != "limit order_ids[0] order_ids[1] page_tokn statuses[0]" {
		t.Errorf("fields = %s", got)
	}
}

func TestDecodeBoundsTheReport(t *testing.T) {
	err := decodeErr[listArgs](json.RawMessage(`{"statuses":["a","b","c","d","e","f","g","h","i","j","k","l"]}`))
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != maxErrors {
		t.Errorf("%d errors, want %d", n, maxErrors)
	}
}

func TestDecodeAccepts(t *testing.T) {
	since := time.Date(2025, 1, 31, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		decode func(args any) (any, error)
		args   any
		want   any
	}{
		{"nil is no arguments", erase(decodeInto[listArgs]), nil, listArgs{}},
		{"empty raw JSON is no arguments", erase(decodeInto[listArgs]), json.RawMessage(" "), listArgs{}},
		{"raw null is no arguments", erase(decodeInto[listArgs]), []byte("null"), listArgs{}},
		{"map with float64 numbers", erase(decodeInto[listArgs]),
			map[string]any{"limit": 20.0, "order_ids": []any{1.0, 2.0}, "statuses": []any{"NEW"}},
			listArgs{Limit: 20, OrderIDs: []int64{1, 2}, Statuses: []string{"NEW"}}},
		{"map with json.Number", erase(decodeInto[sendArgs]),
			map[string]any{"chat_id": json.Number("9007199254740993"), "message": "hi"},
			sendArgs{ChatID: 9007199254740993, Message: "hi"}},
		{"map with Go values", erase(decodeInto[listArgs]),
			map[string]any{"limit": 3, "statuses": []string{"NEW"}},
			listArgs{Limit: 3, Statuses: []string{"NEW"}}},
		{"integers written with a fraction or exponent", erase(decodeInto[listArgs]),
			json.RawMessage(`{"limit":3.0,"order_ids":[1e3]}`),
			listArgs{Limit: 3, OrderIDs: []int64{1000}}},
		{"integers above 2^53 as plain literals", erase(decodeInto[sendArgs]),
			json.RawMessage(`{"chat_id":9223372036854775807,"message":"hi"}`),
			sendArgs{ChatID: 9223372036854775807, Message: "hi"}},
		{"null for an optional argument is absent", erase(decodeInto[listArgs]),
			json.RawMessage(`{"limit":null,"statuses":null}`), listArgs{}},
		{"10 code points in 20 bytes", erase(decodeInto[sendArgs]),
			json.RawMessage(`{"chat_id":1,"message":"éééééééééé"}`),
			sendArgs{ChatID: 1, Message: "éééééééééé"}},
		{"nested, with every kind of value", erase(decodeInto[nestedArgs]),
			json.RawMessage(`{"context":{"type":"RETURN","id":7},"attachments":[{"name":"a.pdf","size":65535}],` +
				`"since":"2025-01-31T15:04:05Z","ratio":0.5,"data":"aGk=","urgent":true,"labels":{"k":"v"}}`),
			nestedArgs{Context: chatContext{Type: "RETURN", ID: 7}, Attachments: []attachment{{Name: "a.pdf", Size: 65535}},
				Since: since, Ratio: 0.5, Data: []byte("hi"), Urgent: true, Labels: map[string]string{"k": "v"}}},
		{"Validate passes", erase(decodeInto[createArgs]), map[string]any{"return_id": 5.0}, createArgs{ReturnID: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.decode(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// erase adapts a typed decoder to the table.
func erase[T any](decode func(any) (T, error)) func(any) (any, error) {
	return func(args any) (any, error) { return decode(args) }
}

func TestDecodeFromFloat64MapRefusesLostPrecision(t *testing.T) {
	// 2^53+1 has no float64; a client that decoded it as one already rounded it.
	err := decodeErr[sendArgs](map[string]any{"chat_id": 9007199254740994.0, "message": "hi"})
	want := "chat_id must be an integer within ±2^53 (9007199254740992) unless written as a plain integer literal, got 9007199254740994"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestDecodeDoesNotChangeArgs(t *testing.T) {
	args := map[string]any{"limit": 3.0, "statuses": nil}
	if _, err := decodeInto[listArgs](args); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(args, map[string]any{"limit": 3.0, "statuses": nil}) {
		t.Errorf("args changed: %v", args)
	}
}

func TestDecodeWrongDestination(t *testing.T) {
	s := MustFor[sendArgs]()
	for _, dst := range []any{nil, sendArgs{}, &listArgs{}} {
		err := s.Decode(nil, dst)
		if _, ok := errors.AsType[*ValidationError](err); err == nil || ok {
			t.Errorf("Decode into %T: error = %v, want a plain error", dst, err)
		}
	}
}

func TestCheckOutput(t *testing.T) {
	s := MustFor[page]()
	if err := s.Check(page{Chats: []chatContext{{Type: "ORDER", ID: 1}}}); err != nil {
		t.Errorf("valid page: %v", err)
	}
	// A nil slice marshals as null, which the output schema does not allow.
	if err := s.Check(page{}); err == nil || err.Error() != "chats is required, got null" {
		t.Errorf("page with nil chats: error = %v", err)
	}
	if err := s.Check(page{Chats: []chatContext{{Type: "CHAT", ID: 1}}}); err == nil ||
		err.Error() != `chats[0].type must be one of ORDER, RETURN; got "CHAT"` {
		t.Errorf("page with a bad chat: error = %v", err)
	}
}

func BenchmarkDecode(b *testing.B) {
	s := MustFor[nestedArgs]()
	raw := json.RawMessage(`{"context":{"type":"RETURN","id":7},"attachments":[{"name":"a.pdf","size":12}],` +
		`"since":"2025-01-31T15:04:05Z","ratio":0.5,"urgent":true,"labels":{"k":"v"}}`)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		args any
	}{{"raw", raw}, {"map", m}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var v nestedArgs
				if err := s.Decode(bc.args, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
