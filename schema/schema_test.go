package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
)

func TestSchemaJSON(t *testing.T) {
	got := string(MustFor[sendArgs]().JSON())
	want := `{"properties":{` +
		`"chat_id":{"type":"integer","minimum":1,"description":"The chat, by id"},` +
		`"message":{"type":"string","maxLength":10,"minLength":1,"description":"Plain text, as the seller"}},` +
		`"additionalProperties":false,"type":"object","required":["chat_id","message"]}`
	if got != want {
		t.Errorf("schema:\n got %s\nwant %s", got, want)
	}
}

func TestSchemaShape(t *testing.T) {
	for _, tc := range []struct {
		name     string
		schema   func() (*Schema, error)
		required []string
		// paths of sub-schemas and the keywords they must carry
		keywords map[string]string
	}{
		{"all optional", For[listArgs], nil, map[string]string{
			"statuses":   `{"description":"Only chats in these statuses","items":{"enum":["NEW","WAITING_FOR_CUSTOMER","WAITING_FOR_PARTNER"],"type":"string"},"minItems":1,"type":"array","uniqueItems":true}`,
			"order_ids":  `{"items":{"minimum":1,"type":"integer"},"maxItems":3,"type":"array","uniqueItems":true}`,
			"limit":      `{"default":20,"maximum":20,"minimum":1,"type":"integer"}`,
			"page_token": `{"type":"string"}`,
		}},
		{"nested", For[nestedArgs], []string{"context"}, map[string]string{
			"context":     `{"additionalProperties":false,"properties":{"id":{"exclusiveMinimum":0,"type":"integer"},"type":{"enum":["ORDER","RETURN"],"type":"string"}},"required":["type","id"],"type":"object"}`,
			"attachments": `{"items":{"additionalProperties":false,"properties":{"name":{"pattern":"^[a-z.]+$","type":"string"},"size":{"maximum":65535,"minimum":0,"type":"integer"}},"required":["name"],"type":"object"},"maxItems":2,"type":"array"}`,
			"since":       `{"format":"date-time","type":"string"}`,
			"data":        `{"contentEncoding":"base64","type":"string"}`,
			"labels":      `{"additionalProperties":{"type":"string"},"type":"object"}`,
		}},
		{"embedded structs merge", For[fuzzArgs], []string{"context"}, map[string]string{
			"raw": `true`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.schema()
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(s.JSON(), &doc); err != nil {
				t.Fatal(err)
			}
			checkInline(t, "", doc)
			if doc["type"] != "object" || doc["additionalProperties"] != false {
				t.Errorf("root is not a closed object: %s", s.JSON())
			}
			if got, want := fmt.Sprint(doc["required"]), fmt.Sprint(sliceOrNil(tc.required)); got != want {
				t.Errorf("required = %s, want %s", got, want)
			}
			props := doc["properties"].(map[string]any)
			for name, want := range tc.keywords {
				got, _ := json.Marshal(props[name]) // re-marshalled, so keys are sorted
				if string(got) != want {
					t.Errorf("%s:\n got %s\nwant %s", name, got, want)
				}
			}
		})
	}
}

func sliceOrNil(s []string) any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// checkInline asserts that a schema is self-contained and that every struct in it is closed.
func checkInline(t *testing.T, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"$ref", "$defs", "$schema", "$id"} {
			if _, ok := v[k]; ok {
				t.Errorf("%s: has %s", path, k)
			}
		}
		if _, ok := v["properties"]; ok && v["additionalProperties"] != false {
			t.Errorf("%s: object with properties is not closed", path)
		}
		for k, sub := range v {
			checkInline(t, path+"/"+k, sub)
		}
	case []any:
		for i, sub := range v {
			checkInline(t, fmt.Sprintf("%s/%d", path, i), sub)
		}
	}
}

func TestSchemaDeterministic(t *testing.T) {
	a, err := build(reflect.TypeFor[nestedArgs]())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := build(reflect.TypeFor[nestedArgs]())
		if err != nil {
			t.Fatal(err)
		}
		if string(a.JSON()) != string(b.JSON()) {
			t.Fatalf("schema changed between builds:\n%s\n%s", a.JSON(), b.JSON())
		}
	}
}

func TestForCachesPerType(t *testing.T) {
	a, b := MustFor[sendArgs](), MustFor[*sendArgs]()
	if a != b {
		t.Error("For built the same type twice")
	}
	raw := a.JSON()
	raw[0] = 'X'
	if a.JSON()[0] != '{' {
		t.Error("JSON returned the schema's own bytes")
	}
}

type (
	nullable struct {
		N *int `json:"n,omitempty" jsonschema:"nullable"`
	}
	anyOf struct {
		V any `json:"v" jsonschema:"anyof_type=string;integer"`
	}
	extras struct {
		S string `json:"s" jsonschema_extras:"x-secret=1"`
	}
	intKeys struct {
		M map[int]string `json:"m"`
	}
	multipleOf struct {
		N int `json:"n" jsonschema:"multipleOf=5"`
	}
	email struct {
		E string `json:"e" jsonschema:"format=email"`
	}
	unknownFormat struct {
		F string `json:"f" jsonschema:"format=ipv9"`
	}
	badDefault struct {
		Limit int `json:"limit,omitempty" jsonschema:"maximum=20,default=50"`
	}
	arrayDefault struct {
		IDs []int `json:"ids,omitempty" jsonschema:"default=1"`
	}
	badPattern struct {
		S string `json:"s" jsonschema:"pattern=(?<=a)b"`
	}
	nestedOneOf struct {
		Items []struct {
			N *int `json:"n" jsonschema:"nullable"`
		} `json:"items"`
	}
	channel struct {
		C chan int `json:"c"`
	}
	tree struct {
		Name     string `json:"name"`
		Children []tree `json:"children"`
	}
	// notRecursive skips its self-reference the way the reflector does.
	notRecursive struct {
		Name   string        `json:"name"`
		Parent *notRecursive `json:"-"`
		//lint:ignore U1000 an unexported self-reference, which the reflector must skip
		next *notRecursive
	}
	constant struct {
		C fixed `json:"c"`
	}
	fixed string
)

func (fixed) JSONSchema() *jsonschema.Schema { return &jsonschema.Schema{Type: "string", Const: "x"} }

func TestForRefusesWhatIsNotEnforced(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema func() (*Schema, error)
		want   string
	}{
		{"extras", For[extras], `s: keyword "x-secret" is not enforced`},
		{"format", For[unknownFormat], `f: format "ipv9" is not enforced`},
		{"default out of bounds", For[badDefault], `limit: default value 50 is invalid: limit must be at most 20, got 50`},
		{"default of wrong type", For[arrayDefault], `ids: default value ["1"] is invalid: ids[0] must be an integer, got string "1"`},
		{"pattern", For[badPattern], "s: pattern: error parsing regexp"},
		{"not an object", For[[]string], "the root of a tool schema must be an object, not type array"},
		{"unsupported Go type", For[channel], "unsupported type chan int"},
		{"recursive", For[tree], "contains itself (through tree.Children)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.schema()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := For[notRecursive](); err != nil {
		t.Errorf("notRecursive: %v", err)
	}
}

// TestEveryKeywordIsEnforced: the keywords the reflector can write beyond the usual ones are
// enforced too, and told in a sentence that names the field.
func TestEveryKeywordIsEnforced(t *testing.T) {
	for _, tc := range []struct {
		name      string
		decode    func(args any) error
		good, bad string
		want      string
	}{
		{"nullable", decodeErr[nullable], `{"n":5}`, `{"n":"five"}`, "n "},
		{"anyOf", decodeErr[anyOf], `{"v":5}`, `{"v":true}`, "v "},
		{"patternProperties", decodeErr[intKeys], `{"m":{"1":"a"}}`, `{"m":{"a":"b"}}`, `unknown field "a" in m`},
		{"multipleOf", decodeErr[multipleOf], `{"n":10}`, `{"n":7}`, "n must be a multiple of 5, got 7"},
		{"format", decodeErr[email], `{"e":"seller@example.com"}`, `{"e":"not an address"}`, `e must be in the email format, got "not an address"`},
		{"const", decodeErr[constant], `{"c":"x"}`, `{"c":"y"}`, `c must be "x", got "y"`},
		{"inside array items", decodeErr[nestedOneOf], `{"items":[{"n":1}]}`, `{"items":[{"n":"one"}]}`, "items[0].n "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.decode(json.RawMessage(tc.good)); err != nil {
				t.Errorf("%s: %v", tc.good, err)
			}
			err := tc.decode(json.RawMessage(tc.bad))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("%s: error = %v, want it to start with %q", tc.bad, err, tc.want)
			}
		})
	}
}

func TestMustForPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustFor did not panic")
		}
	}()
	MustFor[extras]()
}

func BenchmarkBuild(b *testing.B) {
	t := reflect.TypeFor[nestedArgs]()
	for b.Loop() {
		if _, err := build(t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFor(b *testing.B) {
	for b.Loop() {
		if _, err := For[nestedArgs](); err != nil {
			b.Fatal(err)
		}
	}
}
