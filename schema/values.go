package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

var errUnexpectedData = errors.New("unexpected data after the top-level value")

// maxExact is the largest magnitude up to which every integer has an exact float64.
const maxExact = 1 << 53

// prepare turns v into the JSON value the engine validates and Decode decodes, and reports what
// the engine cannot tell: a null counts as absent (and is an error only for a required field),
// an integer must fit an int64 and must not have been rounded on the way as a float64, and a
// number must fit a float64. Integers come out as plain literals, so that 3.0 and 1e3 decode
// into integer fields. doc is the schema of v, as far as prepare follows it: types,
// properties, additionalProperties and items.
func (w *report) prepare(doc any, path string, v any) any {
	m, _ := doc.(map[string]any)
	typ, _ := m["type"].(string)
	switch x := v.(type) {
	case nil, bool, string:
		return v
	case float64:
		literal, _ := json.Marshal(x) // NaN and infinities cannot come from JSON
		return w.number(typ, path, string(literal), x, false)
	case json.Number:
		f, err := strconv.ParseFloat(x.String(), 64)
		if err != nil {
			f = math.Inf(1) // a literal beyond float64 is beyond int64 as well
		}
		return w.number(typ, path, x.String(), f, true)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = w.prepare(m["items"], path+"["+strconv.Itoa(i)+"]", item)
		}
		return out
	case map[string]any:
		props, _ := m["properties"].(map[string]any)
		required := map[string]bool{}
		if list, ok := m["required"].([]any); ok {
			for _, r := range list {
				if s, ok := r.(string); ok {
					required[s] = true
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, item := range x {
			if item == nil {
				if required[k] {
					w.nulls = append(w.nulls, joinField(path, k))
				}
				continue
			}
			sub, ok := props[k]
			if !ok {
				sub = m["additionalProperties"]
			}
			out[k] = w.prepare(sub, joinField(path, k), item)
		}
		return out
	}
	// A Go value of another type is taken as what it marshals to.
	data, err := json.Marshal(v)
	if err != nil {
		w.fail(path, "type", "must be a JSON value, got Go type %T", v)
		return nil
	}
	p, err := decodeJSON(data)
	if err != nil {
		w.fail(path, "type", "must be a JSON value, got Go type %T", v)
		return nil
	}
	return w.prepare(doc, path, p)
}

// number checks a number f, written as literal, for the type its schema wants, and returns it as
// a json.Number: an integer as a plain literal, anything else as written. literal is exact when
// it was read from JSON; a float64 may stand for an integer that was rounded on the way.
func (w *report) number(typ, path, literal string, f float64, exact bool) any {
	plain := !strings.ContainsAny(literal, ".eE")
	switch {
	case typ == "integer" && exact && plain:
		if _, err := strconv.ParseInt(literal, 10, 64); err != nil {
			w.fail(path, "type", "must be an integer between %d and %d, got %s", int64(math.MinInt64), int64(math.MaxInt64), literal)
		}
	case typ == "integer" && f == math.Trunc(f) && math.Abs(f) > maxExact:
		w.fail(path, "type", "must be an integer within ±2^53 (%d) unless written as a plain integer literal, got %s", int64(maxExact), literal)
	case typ == "integer" && f == math.Trunc(f):
		return json.Number(strconv.FormatInt(int64(f), 10))
	case typ == "number" && (math.IsInf(f, 0) || math.IsNaN(f)):
		w.fail(path, "type", "must be a number within the range of a 64-bit float, got %s", literal)
	}
	return json.Number(literal) // what is no integer, the engine tells; what failed here, it leaves alone
}

// decodeJSON decodes exactly one JSON value, with numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errUnexpectedData
	}
	return v, nil
}
