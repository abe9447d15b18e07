package schema

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidationError is a value that breaks a rule of its schema, told in one sentence that names
// the field, so that a language model can correct its call.
type ValidationError struct {
	// Field is the JSON path of the value, e.g. "limit", "statuses[1]" or "context.id"; it is
	// empty when the arguments as a whole are at fault.
	Field string
	// Rule is the JSON Schema keyword that failed ("required", "maximum", "enum", ...;
	// "additionalProperties" for an unknown argument), "json" for arguments that do not parse,
	// or "Validate" for a rule of the type's Validate method.
	Rule string
	// Message is the whole sentence, e.g. "limit must be at most 20, got 50".
	Message string

	err   error // the underlying error, when the rule was checked by other code
	order []any // Field as steps: names, and indexes as ints, to sort by
}

// Error returns the message.
func (e *ValidationError) Error() string { return e.Message }

// Unwrap returns the underlying error, if any.
func (e *ValidationError) Unwrap() error { return e.err }

// maxErrors bounds how many violations one check reports: enough to fix a call in one go,
// few enough that a huge wrong array does not flood the answer.
const maxErrors = 10

// report collects the violations of one check.
type report struct {
	base  []any // the steps of the value checked, within its document
	errs  []*ValidationError
	nulls []string // required fields that came as null
}

// fail records a violation whose message is the field followed by the formatted text.
func (w *report) fail(path, rule, format string, args ...any) {
	w.errs = append(w.errs, &ValidationError{Field: path, Rule: rule, Message: subject(path) + " " + fmt.Sprintf(format, args...), order: stepsOf(path)})
}

// stepsOf reads a field path back into steps.
func stepsOf(path string) []any {
	steps := []any{}
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			steps = append(steps, name)
		}
		for rest != "" {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			i, _ := strconv.Atoi(idx)
			steps = append(steps, i)
			rest = strings.TrimPrefix(rest, "[")
		}
	}
	return steps
}

// err returns the violations sorted by field, at most maxErrors of them, joined.
func (w *report) err() error {
	if len(w.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(w.errs, func(a, b *ValidationError) int { return comparePaths(a.order, b.order) })
	errs := make([]error, 0, min(len(w.errs), maxErrors))
	for _, e := range w.errs[:min(len(w.errs), maxErrors)] {
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// validate checks v against s, whose document is doc, and returns the violations as sentences.
func validate(s *jsonschema.Schema, doc any, path string, v any) error {
	_, err := check(s, doc, path, v)
	return err
}

// check validates v and returns it as prepare made it, ready to be decoded.
func check(s *jsonschema.Schema, doc any, path string, v any) (any, error) {
	w := &report{base: stepsOf(path)}
	v = w.prepare(doc, path, v)
	if len(w.errs) == 0 || len(w.errs) < maxErrors {
		w.engine(s.Validate(v), doc, v)
	}
	return v, w.err()
}

// engine turns what the engine found into sentences: one for each failed rule, with the value
// it failed for.
func (w *report) engine(err error, doc, v any) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		if err != nil {
			w.fail("", "type", "%v", err)
		}
		return
	}
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf, *kind.Not:
			for _, c := range e.Causes {
				leaves(c)
			}
			return
		}
		w.describe(e, doc, v)
	}
	leaves(ve)
}

// printer writes the engine's own words, for the rules this package does not word itself.
var printer = message.NewPrinter(language.English)

// describe words one failed rule.
func (w *report) describe(e *jsonschema.ValidationError, doc, root any) {
	_, order, value, node := locate(e.InstanceLocation, doc, root)
	order = append(slices.Clone(w.base), order...)
	path := pathText(order)
	if slices.ContainsFunc(w.errs, func(r *ValidationError) bool { return r.Field == path }) {
		return // prepare has told what is wrong with this value
	}
	add := func(field []any, rule, format string, args ...any) {
		p := pathText(field)
		w.errs = append(w.errs, &ValidationError{Field: p, Rule: rule, Message: subject(p) + " " + fmt.Sprintf(format, args...), order: field})
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			field := append(slices.Clone(order), name)
			if slices.Contains(w.nulls, pathText(field)) {
				add(field, "required", "is required, got null")
			} else {
				add(field, "required", "is required")
			}
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			noun, in := "argument", ""
			if path != "" {
				noun, in = "field", " in "+path
			}
			known := "there are no " + noun + "s"
			if props, _ := node["properties"].(map[string]any); len(props) > 0 {
				known = "known " + noun + "s: " + strings.Join(sortedKeys(props), ", ")
			}
			field := append(slices.Clone(order), name)
			w.errs = append(w.errs, &ValidationError{Field: pathText(field), Rule: "additionalProperties",
				Message: fmt.Sprintf("unknown %s %q%s; %s", noun, name, in, known), order: field})
		}
	case *kind.Type:
		add(order, "type", "must be %s, got %s", article(k.Want), describeValue(value))
	case *kind.Enum:
		add(order, "enum", "must be one of %s; got %s", listValues(k.Want), compact(value))
	case *kind.Const:
		add(order, "const", "must be %s, got %s", compact(k.Want), compact(value))
	case *kind.Minimum:
		add(order, "minimum", "must be at least %s, got %s", compact(node["minimum"]), compact(value))
	case *kind.Maximum:
		add(order, "maximum", "must be at most %s, got %s", compact(node["maximum"]), compact(value))
	case *kind.ExclusiveMinimum:
		add(order, "exclusiveMinimum", "must be greater than %s, got %s", compact(node["exclusiveMinimum"]), compact(value))
	case *kind.ExclusiveMaximum:
		add(order, "exclusiveMaximum", "must be less than %s, got %s", compact(node["exclusiveMaximum"]), compact(value))
	case *kind.MultipleOf:
		add(order, "multipleOf", "must be a multiple of %s, got %s", compact(node["multipleOf"]), compact(value))
	case *kind.MinLength:
		add(order, "minLength", "must be at least %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.MaxLength:
		add(order, "maxLength", "must be at most %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.Pattern:
		add(order, "pattern", "must match the regular expression %s, got %s", k.Want, quote(k.Got))
	case *kind.Format:
		if k.Want == "date-time" {
			add(order, "format", "must be a date-time in RFC 3339 form such as 2025-01-31T15:04:05Z, got %s", quote(fmt.Sprint(k.Got)))
		} else {
			add(order, "format", "must be in the %s format, got %s", k.Want, quote(fmt.Sprint(k.Got)))
		}
	case *kind.ContentEncoding:
		add(order, "contentEncoding", "must be %s (standard alphabet, with padding), got %s", k.Want, quote(fmt.Sprint(value)))
	case *kind.MinItems:
		add(order, "minItems", "must have at least %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.MaxItems:
		add(order, "maxItems", "must have at most %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.UniqueItems:
		items, _ := value.([]any)
		first := items[k.Duplicates[0]]
		switch first.(type) {
		case []any, map[string]any:
			add(order, "uniqueItems", "must not contain duplicates (items %d and %d are equal)", k.Duplicates[0], k.Duplicates[1])
		default:
			add(order, "uniqueItems", "must not contain duplicates (%s appears more than once)", compact(first))
		}
	default:
		add(order, ruleOf(e.ErrorKind), "%s", e.ErrorKind.LocalizedString(printer))
	}
}

func ruleOf(k jsonschema.ErrorKind) string {
	if kw := k.KeywordPath(); len(kw) > 0 {
		return kw[0]
	}
	return "schema"
}

// locate follows an instance location through the value and its schema: it returns the
// location as a field path, as steps to sort by, the value there, and its schema as far as
// properties, additionalProperties and items lead.
func locate(loc []string, doc, v any) (string, []any, any, map[string]any) {
	node, _ := doc.(map[string]any)
	steps := make([]any, 0, len(loc))
	for _, seg := range loc {
		switch x := v.(type) {
		case []any:
			i, _ := strconv.Atoi(seg)
			steps = append(steps, i)
			if i < len(x) {
				v = x[i]
			}
			node, _ = node["items"].(map[string]any)
		case map[string]any:
			steps = append(steps, seg)
			v = x[seg]
			props, _ := node["properties"].(map[string]any)
			sub, ok := props[seg].(map[string]any)
			if !ok {
				sub, _ = node["additionalProperties"].(map[string]any)
			}
			node = sub
		}
	}
	return pathText(steps), steps, v, node
}

// pathText writes steps as a field path: "attachments[0].name".
func pathText(steps []any) string {
	var b strings.Builder
	for _, s := range steps {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// comparePaths orders field paths step by step, indexes by number.
func comparePaths(a, b []any) int {
	for i := range min(len(a), len(b)) {
		as, aok := a[i].(string)
		bs, bok := b[i].(string)
		switch {
		case aok && bok:
			if c := cmp.Compare(as, bs); c != 0 {
				return c
			}
		case !aok && !bok:
			if c := cmp.Compare(a[i].(int), b[i].(int)); c != 0 {
				return c
			}
		case aok:
			return 1
		default:
			return -1
		}
	}
	return cmp.Compare(len(a), len(b))
}

// subject names a field at the start of a message.
func subject(path string) string {
	if path == "" {
		return "arguments"
	}
	return path
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// article names the JSON types a value must have: "an integer", "a string or a number".
func article(types []string) string {
	words := make([]string, len(types))
	for i, t := range types {
		switch t {
		case "integer", "object", "array":
			words[i] = "an " + t
		default:
			words[i] = "a " + t
		}
	}
	return strings.Join(words, " or ")
}

// describeValue names a value's JSON type and, for scalars, the value, as in `string "abc"`.
func describeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case string:
		return "string " + quote(v)
	case json.Number, float64:
		return "number " + compact(v)
	case []any:
		return "an array"
	default:
		return "an object"
	}
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

// compact renders a JSON value in one line; a number as it was written.
func compact(v any) string {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// quote quotes s for a message, shortening a long one.
func quote(s string) string {
	const shown = 40
	if utf8.RuneCountInString(s) <= shown {
		return strconv.Quote(s)
	}
	runes := []rune(s)
	return fmt.Sprintf("%s… (%d characters)", strconv.Quote(string(runes[:shown])), len(runes))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
