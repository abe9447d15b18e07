package transport

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestIDsRoundTrip(t *testing.T) {
	for _, tt := range []struct{ in, marked string }{
		{`{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}`, `"id":"\u0000big-id:9007199254740993"`},
		{`{"jsonrpc":"2.0","id":-9223372036854775808,"method":"ping"}`, `"id":"\u0000big-id:-9223372036854775808"`},
		{`{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}`, `"id":"\u0000big-id:123456789012345678901234567890"`},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9007199254740993}}`, `"requestId":"\u0000big-id:9007199254740993"`},
	} {
		marked := encodeIDs([]byte(tt.in))
		if !bytes.Contains(marked, []byte(tt.marked)) {
			t.Errorf("encodeIDs(%s) = %s", tt.in, marked)
		}
		if back := decodeIDs(marked); !sameJSON(t, back, []byte(tt.in)) {
			t.Errorf("decodeIDs(%s) = %s, want %s", marked, back, tt.in)
		}
	}
	// What a float64 holds exactly stays as it is, byte for byte.
	for _, in := range []string{
		`{"jsonrpc":"2.0","id":9007199254740992,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"9007199254740993","method":"ping"}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`not json`,
	} {
		if out := encodeIDs([]byte(in)); string(out) != in {
			t.Errorf("encodeIDs(%s) = %s", in, out)
		}
	}
}

// sameJSON compares two JSON documents by value, numbers by their literals.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for doc, v := range map[*[]byte]*any{&a: &x, &b: &y} {
		dec := json.NewDecoder(bytes.NewReader(*doc))
		dec.UseNumber()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", *doc, err)
		}
	}
	return reflect.DeepEqual(x, y)
}

func TestDecodeIDsInAnswers(t *testing.T) {
	for in, want := range map[string]string{
		`{"jsonrpc":"2.0","id":"\u0000big-id:9007199254740993","result":{}}`:                       `{"jsonrpc":"2.0","id":9007199254740993,"result":{}}`,
		"event: message\ndata: {\"id\":\"\\u0000big-id:-18446744073709551617\",\"result\":{}}\n\n": "event: message\ndata: {\"id\":-18446744073709551617,\"result\":{}}\n\n",
		`{"jsonrpc":"2.0","id":7,"result":{"text":"big-id"}}`:                                      `{"jsonrpc":"2.0","id":7,"result":{"text":"big-id"}}`,
	} {
		if got := string(decodeIDs([]byte(in))); got != want {
			t.Errorf("decodeIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIDReaderKeepsLines(t *testing.T) {
	in := "{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n{\"id\":3}"
	out, err := io.ReadAll(newIDReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"\u0000big-id:9007199254740993"`) || lines[1] != `{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\r" || lines[2] != `{"id":3}` {
		t.Errorf("read %q", out)
	}
}
