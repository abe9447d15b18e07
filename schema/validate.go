package schema

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
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

	err error // the underlying error, when the rule was checked by other code
}

// Error returns the message.
func (e *ValidationError) Error() string { return e.Message }

// Unwrap returns the underlying error, if any.
func (e *ValidationError) Unwrap() error { return e.err }

// maxErrors bounds how many violations one check reports: enough to fix a call in one go,
// few enough that a huge wrong array does not flood the answer.
const maxErrors = 10

// maxExact is the largest magnitude up to which every integer has an exact float64.
const maxExact = 1 << 53

// walker checks values against nodes and collects the violations. It visits object properties
// in sorted order and array items in index order, so violations come out sorted by field.
type walker struct {
	errs []error
}

func (w *walker) err() error {
	switch len(w.errs) {
	case 0:
		return nil
	case 1:
		return w.errs[0]
	}
	return errors.Join(w.errs...)
}

func (w *walker) full() bool { return len(w.errs) >= maxErrors }

func (w *walker) add(e *ValidationError) {
	if !w.full() {
		w.errs = append(w.errs, e)
	}
}

// fail records a violation whose message is the field followed by the formatted text.
func (w *walker) fail(path, rule, format string, args ...any) {
	w.add(&ValidationError{Field: path, Rule: rule, Message: subject(path) + " " + fmt.Sprintf(format, args...)})
}

// value checks v against n and returns it in canonical form for json.Marshal: integers as
// int64, objects without their null properties.
func (w *walker) value(n *node, path string, v any) any {
	v, ok := plain(v)
	if !ok {
		w.fail(path, "type", "must be a JSON value, got Go type %T", v)
		return nil
	}
	switch n.typ {
	case "":
		return v
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			w.fail(path, "type", "must be an object, got %s", describe(v))
			return v
		}
		return w.object(n, path, obj)
	case "array":
		arr, ok := v.([]any)
		if !ok {
			w.fail(path, "type", "must be an array, got %s", describe(v))
			return v
		}
		return w.array(n, path, arr)
	case "string":
		s, ok := v.(string)
		if !ok {
			w.fail(path, "type", "must be a string, got %s", describe(v))
			return v
		}
		w.str(n, path, s)
	case "boolean":
		if _, ok := v.(bool); !ok {
			w.fail(path, "type", "must be a boolean, got %s", describe(v))
			return v
		}
	case "integer":
		num, ok := w.integer(path, v)
		if !ok {
			return v
		}
		w.bounds(n, path, num, v)
		v = num.i
	case "number":
		num, ok := w.number(path, v)
		if !ok {
			return v
		}
		w.bounds(n, path, num, v)
		v = num.canonical()
	}
	if n.enum != nil && !slices.Contains(n.enum, v) {
		w.fail(path, "enum", "must be one of %s; got %s", n.enumText, compact(v))
	}
	return v
}

func (w *walker) object(n *node, path string, obj map[string]any) map[string]any {
	names := make([]string, 0, len(obj)+len(n.required))
	for k := range obj {
		names = append(names, k)
	}
	for k := range n.required {
		if _, ok := obj[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := make(map[string]any, len(obj))
	for _, k := range names {
		if w.full() {
			break
		}
		p := cmp.Or(n.props[k], n.extra)
		if p == nil {
			w.unknown(n, path, k)
			continue
		}
		v, present := obj[k]
		if v, _ = plain(v); v == nil {
			switch {
			case n.required[k] && present:
				w.fail(joinField(path, k), "required", "is required, got null")
			case n.required[k]:
				w.fail(joinField(path, k), "required", "is required")
			}
			continue
		}
		out[k] = w.value(p, joinField(path, k), v)
	}
	return out
}

func (w *walker) unknown(n *node, path, key string) {
	noun, in := "argument", ""
	if path != "" {
		noun, in = "field", " in "+path
	}
	known := "known " + noun + "s: " + n.known
	if n.known == "" {
		known = "there are no " + noun + "s"
	}
	w.add(&ValidationError{
		Field:   joinField(path, key),
		Rule:    "additionalProperties",
		Message: fmt.Sprintf("unknown %s %q%s; %s", noun, key, in, known),
	})
}

func (w *walker) array(n *node, path string, arr []any) []any {
	if len(arr) < n.minItems {
		w.fail(path, "minItems", "must have at least %s, got %d", plural(n.minItems, "item"), len(arr))
	}
	if n.maxItems >= 0 && len(arr) > n.maxItems {
		w.fail(path, "maxItems", "must have at most %s, got %d", plural(n.maxItems, "item"), len(arr))
	}
	items := cmp.Or(n.items, anyNode)
	before := len(w.errs)
	out := make([]any, len(arr))
	for i, v := range arr {
		if w.full() {
			break
		}
		out[i] = w.value(items, path+"["+strconv.Itoa(i)+"]", v)
	}
	// Duplicates are judged on canonical values (1 and 1.0 are the same integer), which are
	// only trustworthy when every item passed.
	if n.unique && len(w.errs) == before {
		w.unique(path, out)
	}
	return out
}

// encoded is an object or array in its JSON form, as a map key for duplicate detection.
type encoded string

func (w *walker) unique(path string, items []any) {
	seen := make(map[any]int, len(items))
	for i, v := range items {
		key, composite := v, false
		switch v.(type) {
		case []any, map[string]any:
			key, composite = encoded(compact(v)), true // json.Marshal sorts object keys
		}
		j, dup := seen[key]
		if !dup {
			seen[key] = i
			continue
		}
		if composite {
			w.fail(path, "uniqueItems", "must not contain duplicates (items %d and %d are equal)", j, i)
		} else {
			w.fail(path, "uniqueItems", "must not contain duplicates (%s appears more than once)", compact(v))
		}
		return
	}
}

func (w *walker) str(n *node, path, s string) {
	if n.minLength > 0 || n.maxLength >= 0 {
		// JSON Schema counts characters as code points.
		c := utf8.RuneCountInString(s)
		if c < n.minLength {
			w.fail(path, "minLength", "must be at least %s long, got %d", plural(n.minLength, "character"), c)
		}
		if n.maxLength >= 0 && c > n.maxLength {
			w.fail(path, "maxLength", "must be at most %s long, got %d", plural(n.maxLength, "character"), c)
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		w.fail(path, "pattern", "must match the regular expression %s, got %s", n.pattern, quote(s))
	}
	// time.Time decodes with the same strict RFC 3339 parser.
	if n.dateTime && (&time.Time{}).UnmarshalText([]byte(s)) != nil {
		w.fail(path, "format", "must be a date-time in RFC 3339 form such as 2025-01-31T15:04:05Z, got %s", quote(s))
	}
	// []byte decodes with the same encoding.
	if n.base64 {
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			w.fail(path, "contentEncoding", "must be base64 (standard alphabet, with padding), got %s", quote(s))
		}
	}
}

// number is a JSON number, exact when it is an integer that fits int64.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func intNumber(i int64) number { return number{i: i, f: float64(i), isInt: true} }

func floatNumber(f float64) number {
	if f == math.Trunc(f) && math.Abs(f) < math.MaxInt64 {
		return intNumber(int64(f))
	}
	return number{f: f}
}

func (a number) compare(b number) int {
	if a.isInt && b.isInt {
		return cmp.Compare(a.i, b.i)
	}
	return cmp.Compare(a.f, b.f)
}

// canonical is the number as the walker returns it: int64 when it is an integer, so that 2 and
// 2.0 compare equal in enums and duplicate checks.
func (a number) canonical() any {
	if a.isInt {
		return a.i
	}
	return a.f
}

// integer reads v as an int64. A float64 beyond ±2^53 is refused: the integer it stood for
// was already rounded when the JSON was decoded.
func (w *walker) integer(path string, v any) (number, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		i, err := strconv.ParseInt(x.String(), 10, 64)
		if err == nil {
			return intNumber(i), true
		}
		if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
			f = math.Inf(1) // a literal beyond float64 is beyond int64 as well
		}
	default:
		w.fail(path, "type", "must be an integer, got %s", describe(v))
		return number{}, false
	}
	switch {
	case f != math.Trunc(f): // also NaN
		w.fail(path, "type", "must be an integer, got %s", describe(v))
	case math.Abs(f) >= math.MaxInt64:
		w.fail(path, "type", "must be an integer between %d and %d, got %s", int64(math.MinInt64), int64(math.MaxInt64), numberText(v))
	case math.Abs(f) > maxExact:
		w.fail(path, "type", "must be an integer within ±2^53 (%d) unless written as a plain integer literal, got %s", int64(maxExact), numberText(v))
	default:
		return intNumber(int64(f)), true
	}
	return number{}, false
}

// number reads v as a finite float64 (or an exact int64 when it is an integer).
func (w *walker) number(path string, v any) (number, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return intNumber(i), true
		}
		var err error
		if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
			f = math.Inf(1)
		}
	default:
		w.fail(path, "type", "must be a number, got %s", describe(v))
		return number{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.fail(path, "type", "must be a number within the range of a 64-bit float, got %s", numberText(v))
		return number{}, false
	}
	return floatNumber(f), true
}

func (w *walker) bounds(n *node, path string, num number, v any) {
	for _, b := range n.bounds {
		c := num.compare(b.limit)
		var ok bool
		var relation string
		switch b.keyword {
		case "minimum":
			ok, relation = c >= 0, "at least"
		case "maximum":
			ok, relation = c <= 0, "at most"
		case "exclusiveMinimum":
			ok, relation = c > 0, "greater than"
		case "exclusiveMaximum":
			ok, relation = c < 0, "less than"
		}
		if !ok {
			w.fail(path, b.keyword, "must be %s %s, got %s", relation, b.text, numberText(v))
		}
	}
}

// plain returns v as encoding/json decodes JSON into any: nil, bool, string, float64 or
// json.Number, []any or map[string]any. Other Go values are taken as what they marshal to.
func plain(v any) (any, bool) {
	switch v.(type) {
	case nil, bool, string, float64, json.Number, []any, map[string]any:
		return v, true
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v, false
	}
	p, err := decodeJSON(data)
	return p, err == nil
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

// describe names a value's JSON type and, for scalars, the value, as in "got string \"abc\"".
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case string:
		return "string " + quote(v)
	case float64, json.Number:
		return "number " + numberText(v)
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// numberText writes a number as JSON does.
func numberText(v any) string {
	if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return compact(f)
	}
	return fmt.Sprint(v)
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
