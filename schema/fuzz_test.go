package schema

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds arbitrary argument bytes to Decode: it must never panic, and whatever it
// accepts must, once decoded, still satisfy the schema.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"context":{"type":"ORDER","id":1}}`))
	s := MustFor[fuzzArgs]()
	f.Fuzz(func(t *testing.T, args []byte) {
		var v fuzzArgs
		if err := s.Decode(json.RawMessage(args), &v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %s but cannot marshal the result: %v", args, err)
		}
		if err := s.Check(json.RawMessage(out)); err != nil {
			t.Fatalf("accepted %s but its decoded form %s fails the schema: %v", args, out, err)
		}
	})
}
