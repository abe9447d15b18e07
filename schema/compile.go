package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// node is one compiled (sub)schema: the rules that values at one place must keep.
type node struct {
	typ string // a JSON type name; "" accepts any value

	// object
	props    map[string]*node
	known    string // the declared property names, sorted, for messages
	required map[string]bool
	extra    *node // the schema of undeclared properties; nil refuses them

	// array
	items              *node // nil accepts any item
	minItems, maxItems int   // maxItems < 0: no limit
	unique             bool

	// string
	minLength, maxLength int // in code points; maxLength < 0: no limit
	pattern              *regexp.Regexp
	dateTime             bool
	base64               bool

	// integer and number
	bounds []bound

	// string, integer, number and boolean
	enum     []any // canonical values, as the walker returns them
	enumText string
}

// bound is one of minimum, maximum, exclusiveMinimum and exclusiveMaximum.
type bound struct {
	keyword string
	limit   number
	text    string
}

// anyNode accepts every value; it stands for the schema true.
var anyNode = &node{maxItems: -1, maxLength: -1}

// keywords maps every keyword that Decode enforces or that is only an annotation to the types
// it applies to ("" for all). Any other keyword makes construction fail.
var keywords = map[string]string{
	"type":                 "",
	"enum":                 "string integer number boolean",
	"properties":           "object",
	"required":             "object",
	"additionalProperties": "object",
	"items":                "array",
	"minItems":             "array",
	"maxItems":             "array",
	"uniqueItems":          "array",
	"minLength":            "string",
	"maxLength":            "string",
	"pattern":              "string",
	"format":               "string",
	"contentEncoding":      "string",
	"minimum":              "integer number",
	"maximum":              "integer number",
	"exclusiveMinimum":     "integer number",
	"exclusiveMaximum":     "integer number",
	// annotations
	"title":       "",
	"description": "",
	"default":     "",
	"examples":    "",
	"deprecated":  "",
	"readOnly":    "",
	"writeOnly":   "",
	"$comment":    "",
}

// compile turns a decoded JSON Schema document into a node, refusing any keyword that is not
// enforced. path is the field path of the schema, for errors.
func compile(path string, doc any) (*node, error) {
	if doc == true {
		return anyNode, nil
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema %s is not enforced", where(path), compact(doc))
	}
	n := &node{maxItems: -1, maxLength: -1}
	if t, ok := m["type"]; ok {
		s, _ := t.(string)
		if !slices.Contains([]string{"object", "array", "string", "integer", "number", "boolean"}, s) {
			return nil, fmt.Errorf("%s: type %s is not enforced", where(path), compact(t))
		}
		n.typ = s
	}
	for _, k := range sortedKeys(m) {
		types, ok := keywords[k]
		if !ok {
			return nil, fmt.Errorf("%s: keyword %q is not enforced", where(path), k)
		}
		if types != "" && !slices.Contains(strings.Fields(types), n.typ) {
			return nil, fmt.Errorf("%s: keyword %q is not enforced on %s", where(path), k, typeName(n.typ))
		}
		if err := n.set(path, k, m[k]); err != nil {
			return nil, err
		}
	}
	if n.typ == "object" {
		if err := n.finishObject(m); err != nil {
			return nil, fmt.Errorf("%s: %w", where(path), err)
		}
	}
	// Annotations that show values must show valid ones: a default of 50 under maximum 20
	// would promise what Decode refuses.
	for _, k := range []string{"enum", "default", "examples"} {
		if err := n.checkSamples(path, k, m[k]); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// set reads one keyword into n. Errors of sub-schemas carry their own position.
func (n *node) set(path, keyword string, v any) (err error) {
	switch keyword {
	case "properties":
		props, ok := v.(map[string]any)
		if !ok {
			err = errors.New("not an object")
			break
		}
		n.props = make(map[string]*node, len(props))
		for _, name := range sortedKeys(props) {
			if n.props[name], err = compile(joinField(path, name), props[name]); err != nil {
				return err
			}
		}
	case "additionalProperties":
		if v != false {
			n.extra, err = compile(joinField(path, "*"), v)
		}
		return err
	case "items":
		n.items, err = compile(path+"[]", v)
		return err
	case "minItems":
		n.minItems, err = count(v)
	case "maxItems":
		n.maxItems, err = count(v)
	case "minLength":
		n.minLength, err = count(v)
	case "maxLength":
		n.maxLength, err = count(v)
	case "uniqueItems":
		n.unique, _ = v.(bool)
	case "pattern":
		s, _ := v.(string)
		n.pattern, err = regexp.Compile(s)
	case "format":
		n.dateTime = v == "date-time"
		if !n.dateTime {
			err = fmt.Errorf("%s is not enforced; only \"date-time\" is", compact(v))
		}
	case "contentEncoding":
		n.base64 = v == "base64"
		if !n.base64 {
			err = fmt.Errorf("%s is not enforced; only \"base64\" is", compact(v))
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		var limit number
		if limit, err = parseNumber(v); err == nil {
			n.bounds = append(n.bounds, bound{keyword: keyword, limit: limit, text: compact(v)})
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", where(path), keyword, err)
	}
	return nil
}

// finishObject reads required, which needs the declared properties, and leaves the object
// closed unless additionalProperties says otherwise.
func (n *node) finishObject(m map[string]any) error {
	if _, ok := m["additionalProperties"]; !ok {
		n.extra = anyNode // JSON Schema's default: undeclared properties are allowed
	}
	names := sortedKeys(n.props)
	n.known = strings.Join(names, ", ")
	req, _ := m["required"].([]any)
	n.required = make(map[string]bool, len(req))
	for _, r := range req {
		name, _ := r.(string)
		if n.props[name] == nil {
			return fmt.Errorf("required property %s is not declared", compact(r))
		}
		n.required[name] = true
	}
	return nil
}

// checkSamples checks the values of enum, default or examples against n, and keeps the enum's
// values in canonical form.
func (n *node) checkSamples(path, keyword string, v any) error {
	if v == nil {
		return nil
	}
	samples := []any{v}
	if keyword != "default" {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %s: not an array", where(path), keyword)
		}
		samples = list
	}
	// Check against n without its enum, so that enum values are checked too.
	bare := *n
	bare.enum = nil
	for _, s := range samples {
		w := &walker{}
		canonical := w.value(&bare, path, s)
		if err := w.err(); err != nil {
			return fmt.Errorf("%s: %s value %s is invalid: %w", where(path), keyword, compact(s), err)
		}
		if keyword == "enum" {
			n.enum = append(n.enum, canonical)
		}
	}
	if keyword == "enum" {
		n.enumText = listValues(n.enum)
	}
	return nil
}

// count reads a non-negative integer keyword value.
func count(v any) (int, error) {
	num, _ := v.(json.Number)
	c, err := strconv.ParseUint(num.String(), 10, 31)
	if err != nil {
		return 0, fmt.Errorf("%s is not a count", compact(v))
	}
	return int(c), nil
}

// parseNumber reads a schema's numeric limit.
func parseNumber(v any) (number, error) {
	num, _ := v.(json.Number)
	if i, err := strconv.ParseInt(num.String(), 10, 64); err == nil {
		return intNumber(i), nil
	}
	f, err := strconv.ParseFloat(num.String(), 64)
	if err != nil || math.IsInf(f, 0) {
		return number{}, fmt.Errorf("%s is not a usable number", compact(v))
	}
	return floatNumber(f), nil
}

// listValues lists enum values for a message: bare when that is unambiguous, quoted otherwise.
func listValues(values []any) string {
	bare := true
	for _, v := range values {
		if s, ok := v.(string); ok && (s == "" || strings.ContainsAny(s, " ,;\"")) {
			bare = false
		}
	}
	parts := make([]string, len(values))
	for i, v := range values {
		if s, ok := v.(string); ok && bare {
			parts[i] = s
		} else {
			parts[i] = compact(v)
		}
	}
	return strings.Join(parts, ", ")
}

// where names a schema position in construction errors.
func where(path string) string {
	if path == "" {
		return "root"
	}
	return path
}

func typeName(t string) string {
	if t == "" {
		return "a schema without a type"
	}
	return "type " + t
}

// compact renders a JSON value in one line.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
