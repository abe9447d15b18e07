package schema

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The rules are enforced by santhosh-tekuri/jsonschema, which passes the JSON Schema test
// suite, with formats and content encodings asserted. This package adds what an MCP tool's
// arguments need besides: a null stands for an absent value, integers must fit the Go types
// they decode into, and every failure is told in a sentence that names the field (see
// errors.go).

// keywords are those of JSON Schema 2020-12 that the engine enforces or that only annotate; a
// schema with any other (a vendor extension such as x-secret) promises what nothing enforces,
// and is refused.
var keywords = map[string]bool{}

func init() {
	for k := range strings.FieldsSeq(`type enum const properties required additionalProperties
		patternProperties propertyNames minProperties maxProperties dependentRequired dependentSchemas
		items prefixItems contains minContains maxContains minItems maxItems uniqueItems
		unevaluatedItems unevaluatedProperties minLength maxLength pattern format contentEncoding
		contentMediaType contentSchema minimum maximum exclusiveMinimum exclusiveMaximum multipleOf
		allOf anyOf oneOf not if then else title description default examples deprecated readOnly
		writeOnly $comment`) {
		keywords[k] = true
	}
}

// formats are the formats the engine asserts; others would be taken as mere annotations.
var formats = []string{"date-time", "date", "time", "duration", "email", "hostname", "ipv4", "ipv6",
	"uri", "uri-reference", "iri", "iri-reference", "uri-template", "uuid", "json-pointer", "relative-json-pointer"}

// dateTime is the date-time format as time.Time decodes it, so that what passes the schema also
// decodes into a time.Time field.
var dateTime = &jsonschema.Format{Name: "date-time", Validate: func(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return (&time.Time{}).UnmarshalText([]byte(s))
}}

// base64Std is base64 as encoding/json decodes it into a []byte field.
var base64Std = &jsonschema.Decoder{Name: "base64", Decode: base64.StdEncoding.DecodeString}

// compile checks a schema document and compiles it for the engine. path names the document's
// place, for errors.
func compile(doc any) (*jsonschema.Schema, error) {
	if err := checkKeywords("", doc); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	c.RegisterFormat(dateTime)
	c.RegisterContentEncoding(base64Std)
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		return nil, compileError(err)
	}
	return s, checkSamples("", doc)
}

// compileError keeps the cause of a compilation error, which the engine wraps in the schema's
// location.
func compileError(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// checkKeywords refuses keywords and formats that nothing would enforce.
func checkKeywords(path string, doc any) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil // true, false, or what the engine refuses itself
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch {
		case !keywords[k]:
			return fmt.Errorf("%s: keyword %q is not enforced", where(path), k)
		case k == "format" && !slices.Contains(formats, fmt.Sprint(v)):
			return fmt.Errorf("%s: format %s is not enforced", where(path), compact(v))
		case k == "pattern":
			if _, err := regexp.Compile(fmt.Sprint(v)); err != nil {
				return fmt.Errorf("%s: pattern: %w", where(path), err)
			}
		}
		if err := eachSubschema(path, k, v, checkKeywords); err != nil {
			return err
		}
	}
	return nil
}

// checkSamples refuses a default or examples value that its own schema refuses: a default of
// 50 under maximum 20 would promise what Decode refuses.
func checkSamples(path string, doc any) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	for _, k := range []string{"default", "examples"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		samples := []any{v}
		if k == "examples" {
			if samples, ok = v.([]any); !ok {
				return fmt.Errorf("%s: examples: not an array", where(path))
			}
		}
		bare := make(map[string]any, len(m))
		for key, sub := range m {
			if key != "default" && key != "examples" {
				bare[key] = sub
			}
		}
		s, err := compile(bare)
		if err != nil {
			return err
		}
		for _, sample := range samples {
			if err := validate(s, bare, path, sample); err != nil {
				return fmt.Errorf("%s: %s value %s is invalid: %w", where(path), k, compact(sample), err)
			}
		}
	}
	for _, k := range sortedKeys(m) {
		if err := eachSubschema(path, k, m[k], checkSamples); err != nil {
			return err
		}
	}
	return nil
}

// eachSubschema calls fn for the subschemas that keyword k holds, with their field paths.
func eachSubschema(path, k string, v any, fn func(string, any) error) error {
	switch k {
	case "properties", "patternProperties", "dependentSchemas":
		props, _ := v.(map[string]any)
		for _, name := range sortedKeys(props) {
			if err := fn(joinField(path, name), props[name]); err != nil {
				return err
			}
		}
	case "additionalProperties", "propertyNames", "unevaluatedProperties":
		return fn(joinField(path, "*"), v)
	case "items", "contains", "unevaluatedItems":
		return fn(path+"[]", v)
	case "not", "if", "then", "else", "contentSchema":
		return fn(path, v)
	case "allOf", "anyOf", "oneOf", "prefixItems":
		list, _ := v.([]any)
		for _, sub := range list {
			if err := fn(path, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// where names a schema position in construction errors.
func where(path string) string {
	if path == "" {
		return "root"
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
