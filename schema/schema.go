// Package schema turns a Go type into the JSON Schema that an MCP client sees, and decodes
// arguments strictly against that same schema.
//
// The schema is reflected from the type's json and jsonschema struct tags by
// invopop/jsonschema: inline (no $ref, $defs, $schema or $id), an object at the root, and
// additionalProperties false on every struct. A field is required when its json tag has
// neither omitempty nor omitzero. Decode enforces the schema with santhosh-tekuri/jsonschema,
// formats and content encodings included, and a type whose schema would contain a keyword or
// format that nothing enforces is refused when its Schema is built: what the schema promises is
// exactly what is enforced. Failures are told in sentences that name the field, the rule and
// the value.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	invopop "github.com/invopop/jsonschema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the JSON Schema of a Go type together with the rules it enforces. It is immutable
// and safe for concurrent use.
type Schema struct {
	typ    reflect.Type // never a pointer
	json   json.RawMessage
	doc    any // the document, decoded
	engine *jsonschema.Schema
}

// Validator is implemented by argument types with rules that a top-level JSON Schema cannot
// portably express, such as "exactly one of order_id and return_id". Decode calls Validate
// after the arguments have passed the schema and been decoded.
type Validator interface {
	Validate() error
}

// cache holds one func() (*Schema, error) per type, so that each type is reflected once.
var cache sync.Map

// For returns the schema of T (or of what T points to). The first call for a type reflects
// it; later calls return the same Schema.
func For[T any]() (*Schema, error) {
	t := reflect.TypeFor[T]()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	once, ok := cache.Load(t)
	if !ok {
		once, _ = cache.LoadOrStore(t, sync.OnceValues(func() (*Schema, error) { return build(t) }))
	}
	return once.(func() (*Schema, error))()
}

// MustFor is like For but panics when T has no valid schema. It suits package-level
// declarations, whose types are fixed at compile time.
func MustFor[T any]() *Schema {
	s, err := For[T]()
	if err != nil {
		panic(err)
	}
	return s
}

// Parse compiles a JSON Schema document, such as a tool's outputSchema as a client receives it,
// so that Check can hold values against it. No Go type stands behind it, so Decode refuses
// every destination. Keywords the package does not enforce are refused, as for For.
func Parse(raw json.RawMessage) (*Schema, error) {
	doc, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	engine, err := compile(doc)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Schema{json: slices.Clone(raw), doc: doc, engine: engine}, nil
}

// JSON returns the schema as compact JSON. Property order follows struct field order, so the
// output is stable.
func (s *Schema) JSON() json.RawMessage {
	return slices.Clone(s.json)
}

// Decode checks args against the schema and then decodes them into dst, which must be a
// pointer to the schema's type. If dst implements Validator, Validate is called last.
//
// args is what an MCP library hands over: a map[string]any from encoding/json (numbers as
// float64 or json.Number), raw JSON as json.RawMessage or []byte, or nil, which stands for no
// arguments. Other Go values are taken as what they marshal to.
//
// Arguments that break the schema yield a *ValidationError, or several joined with
// errors.Join in field order. A null value counts as absent.
func (s *Schema) Decode(args, dst any) error {
	if t := reflect.TypeOf(dst); t == nil || t.Kind() != reflect.Pointer || t.Elem() != s.typ {
		return fmt.Errorf("schema: Decode into %T, want *%v", dst, s.typ)
	}
	v, err := s.check(args)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("schema: re-encoding checked arguments: %w", err)
	}
	// Unknown fields were refused above; DisallowUnknownFields guards against a schema that
	// drifted from its type.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if val, ok := dst.(Validator); ok {
		if err := val.Validate(); err != nil {
			return validateError(err)
		}
	}
	return nil
}

// Check reports whether v satisfies the schema, without decoding it. v takes the same forms
// as Decode's args, and any Go value is taken as what it marshals to, so a test can check that
// a tool's output matches the tool's output schema.
func (s *Schema) Check(v any) error {
	_, err := s.check(v)
	return err
}

// check validates args and returns them as plain JSON values ready to be marshalled.
func (s *Schema) check(args any) (any, error) {
	var err error
	switch raw := args.(type) {
	case nil:
		args = map[string]any{}
	case json.RawMessage:
		args, err = parseArgs(raw)
	case []byte:
		args, err = parseArgs(raw)
	}
	if err != nil {
		return nil, err
	}
	return check(s.engine, s.doc, "", args)
}

// parseArgs parses raw JSON arguments, keeping numbers exact. Empty input and null stand for
// no arguments.
func parseArgs(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, &ValidationError{Rule: "json", Message: "arguments are not valid JSON: " + err.Error(), err: err}
	}
	if v == nil {
		return map[string]any{}, nil
	}
	return v, nil
}

// decodeError turns a failure of the final json decoding into an argument error. It happens
// only when a value fits the schema but not the Go type, e.g. a custom UnmarshalJSON refused it.
func decodeError(err error) error {
	e := &ValidationError{Rule: "type", Message: "arguments could not be decoded: " + err.Error(), err: err}
	if ute, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && ute.Field != "" {
		e.Field = ute.Field
		e.Message = fmt.Sprintf("%s could not be decoded into Go type %v, got %s", ute.Field, ute.Type, ute.Value)
	}
	return e
}

// validateError keeps the errors of a Validate method that already name a field, and makes a
// ValidationError of any other, so that callers tell bad arguments from failures the same way.
func validateError(err error) error {
	if _, ok := errors.AsType[*ValidationError](err); ok {
		return err
	}
	return &ValidationError{Rule: "Validate", Message: err.Error(), err: err}
}

// reflector is configured for MCP: everything inline, the root expanded, no $id, closed
// objects, and required fields taken from the json tags (a field is required unless it has
// omitempty or omitzero).
var reflector = &invopop.Reflector{
	DoNotReference:             true,
	ExpandedStruct:             true,
	Anonymous:                  true,
	AllowAdditionalProperties:  false,
	RequiredFromJSONSchemaTags: false,
	Mapper:                     integerBounds,
}

// build reflects t, checks that every keyword of the result is enforced, and compiles it.
func build(t reflect.Type) (s *Schema, err error) {
	if err := checkRecursion(t); err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	defer func() {
		// invopop panics on types that JSON cannot represent (channels, funcs, complex numbers).
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schema: %v: %v", t, r)
		}
	}()
	js := reflector.ReflectFromType(t)
	js.Version = ""
	data, err := json.Marshal(js)
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	if typ := doc.(map[string]any)["type"]; typ != "object" {
		return nil, fmt.Errorf("schema: %v: the root of a tool schema must be an object, not type %v", t, typ)
	}
	engine, err := compile(doc)
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	return &Schema{typ: t, json: data, doc: doc, engine: engine}, nil
}

// integerBounds gives the predeclared integer types narrower than 64 bits, and the unsigned
// ones, the bounds of what they can hold, so that the schema does not accept a number that
// decoding would then refuse. Struct tags (minimum=, maximum=) still take precedence. Named
// types are left alone: they may decode from something other than a number.
func integerBounds(t reflect.Type) *invopop.Schema {
	if t.PkgPath() != "" {
		return nil
	}
	s := &invopop.Schema{Type: "integer"}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t.Bits() == 64 {
			return nil
		}
		s.Minimum = json.Number(strconv.FormatInt(-1<<(t.Bits()-1), 10))
		s.Maximum = json.Number(strconv.FormatInt(1<<(t.Bits()-1)-1, 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.Minimum = "0"
		if t.Bits() < 64 {
			s.Maximum = json.Number(strconv.FormatUint(1<<t.Bits()-1, 10))
		}
	default:
		return nil
	}
	return s
}

// checkRecursion refuses a type that contains itself: an inline schema cannot describe it, and
// the reflector would recurse until the stack overflows. It follows the fields the reflector
// follows.
func checkRecursion(t reflect.Type) error {
	done := map[reflect.Type]bool{}
	var path []string // "Type.Field" steps from the root to the current type
	var open []reflect.Type
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || done[t] || t.Implements(customSchemaType) || t.Implements(aliasSchemaType) {
			return nil
		}
		if slices.Contains(open, t) {
			return fmt.Errorf("type %v contains itself (through %s); an inline schema cannot describe a recursive type", t, strings.Join(path, " -> "))
		}
		open = append(open, t)
		for f := range t.Fields() {
			if !followedField(f) {
				continue
			}
			path = append(path, t.Name()+"."+f.Name)
			if err := walk(f.Type); err != nil {
				return err
			}
			path = path[:len(path)-1]
		}
		open = open[:len(open)-1]
		done[t] = true
		return nil
	}
	return walk(t)
}

// The interfaces by which a type supplies its own schema; the reflector does not look inside
// such types.
var (
	customSchemaType = reflect.TypeFor[interface{ JSONSchema() *invopop.Schema }]()
	aliasSchemaType  = reflect.TypeFor[interface{ JSONSchemaAlias() any }]()
)

// followedField reports whether the reflector descends into f.
func followedField(f reflect.StructField) bool {
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "-" {
		return false
	}
	if name, _, _ := strings.Cut(f.Tag.Get("jsonschema"), ","); name == "-" {
		return false
	}
	return f.IsExported() || f.Anonymous
}
