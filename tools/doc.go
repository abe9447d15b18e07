package tools

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Markdown returns the tool reference for README.md, derived from the declarations: each tool's
// description, what it calls, and its arguments with the rules the server enforces.
func Markdown() string {
	var b strings.Builder
	for _, d := range All {
		def := d.Definition()
		fmt.Fprintf(&b, "### `%s`: %s\n\n%s\n\n%s\n\n", def.Name, def.Title, def.Description, d.Calls())
		var in struct {
			Properties map[string]property `json:"properties"`
			Required   []string            `json:"required"`
		}
		if err := json.Unmarshal(def.RawInputSchema, &in); err != nil {
			panic(err) // the schema package made this JSON
		}
		b.WriteString("| argument | type | rules | meaning |\n| --- | --- | --- | --- |\n")
		for _, name := range propertyOrder(def.RawInputSchema) {
			p := in.Properties[name]
			rules := p.rules()
			if slices.Contains(in.Required, name) {
				rules = append([]string{"required"}, rules...)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, p.typeName(), strings.Join(rules, ", "), p.Description)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// property is the part of a JSON Schema property the reference shows.
type property struct {
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Items       *property `json:"items"`
	Enum        []any     `json:"enum"`
	Minimum     *float64  `json:"minimum"`
	Maximum     *float64  `json:"maximum"`
	MinLength   *float64  `json:"minLength"`
	MaxLength   *float64  `json:"maxLength"`
	MinItems    *float64  `json:"minItems"`
	MaxItems    *float64  `json:"maxItems"`
	UniqueItems bool      `json:"uniqueItems"`
}

func (p property) typeName() string {
	if p.Items != nil {
		return p.Items.typeName() + "[]"
	}
	return p.Type
}

func (p property) rules() []string {
	var r []string
	add := func(format string, v any) { r = append(r, fmt.Sprintf(format, v)) }
	if p.Items != nil {
		r = append(r, p.Items.rules()...)
	}
	if len(p.Enum) > 0 {
		vals := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			vals[i] = fmt.Sprint(v)
		}
		add("one of %s", strings.Join(vals, ", "))
	}
	for _, b := range []struct {
		format string
		v      *float64
	}{
		{"≥ %v", p.Minimum}, {"≤ %v", p.Maximum},
		{"at least %v characters", p.MinLength}, {"at most %v characters", p.MaxLength},
		{"at least %v item(s)", p.MinItems}, {"at most %v items", p.MaxItems},
	} {
		if b.v != nil {
			add(b.format, *b.v)
		}
	}
	if p.UniqueItems {
		r = append(r, "no duplicates")
	}
	return r
}

// propertyOrder returns the property names in the order the schema lists them.
func propertyOrder(raw json.RawMessage) []string {
	var top map[string]json.RawMessage
	_ = json.Unmarshal(raw, &top)
	dec := json.NewDecoder(strings.NewReader(string(top["properties"])))
	var names []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return names
		}
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '{' || tok == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				names = append(names, tok)
				if err := dec.Decode(new(json.RawMessage)); err != nil {
					return names
				}
			}
		}
	}
}
