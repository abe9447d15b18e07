// Package prompts declares the seller's workflows as MCP prompts, which clients offer as ready
// commands (slash commands): answer the chats that wait, follow up on an order, handle a return.
//
// A prompt is declared once, as data (see Prompt): its name, its words for the user, typed
// arguments and the text it gives. The arguments that prompts/list shows, their checking and
// the README's reference are derived from the declaration.
package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/schema"
)

// Prompt declares one prompt whose arguments decode into Args, a struct of string fields (MCP
// gives prompt arguments as strings) whose jsonschema tags describe and check them.
type Prompt[Args any] struct {
	Name        string
	Title       string
	Description string
	// Text writes the prompt's message from its checked arguments.
	Text func(a Args) string
}

// Declaration is a prompt of any arguments, as the list of all prompts holds it.
type Declaration interface {
	// Definition returns the prompt as prompts/list shows it.
	Definition() mcp.Prompt
	// Handler returns the function that answers prompts/get.
	Handler() server.PromptHandlerFunc
}

// Register adds the prompts to s.
func Register(s *server.MCPServer, prompts []Declaration) {
	for _, p := range prompts {
		s.AddPrompt(p.Definition(), p.Handler())
	}
}

// Definition returns the prompt as prompts/list shows it, its arguments taken from Args' schema.
func (p *Prompt[Args]) Definition() mcp.Prompt {
	var doc struct {
		Properties map[string]struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(p.schema().JSON(), &doc); err != nil {
		panic("prompt " + p.Name + ": " + err.Error()) // a declaration error, caught by the tests
	}
	def := mcp.Prompt{Name: p.Name, Title: p.Title, Description: p.Description}
	for name, prop := range doc.Properties {
		def.Arguments = append(def.Arguments, mcp.PromptArgument{Name: name, Title: prop.Title,
			Description: prop.Description, Required: slices.Contains(doc.Required, name)})
	}
	slices.SortFunc(def.Arguments, func(a, b mcp.PromptArgument) int {
		if a.Required != b.Required { // the required first
			if a.Required {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return def
}

// Handler returns the function that answers prompts/get: it checks the arguments and writes
// the text.
func (p *Prompt[Args]) Handler() server.PromptHandlerFunc {
	return func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		args := map[string]any{}
		for k, v := range req.Params.Arguments {
			if v = strings.TrimSpace(v); v != "" { // a client sends an optional argument left blank as ""
				args[k] = v
			}
		}
		var a Args
		if err := p.schema().Decode(args, &a); err != nil {
			return nil, fmt.Errorf("invalid arguments for prompt %s: %w", p.Name, err)
		}
		return mcp.NewGetPromptResult(p.Description, []mcp.PromptMessage{
			mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(p.Text(a))),
		}), nil
	}
}

func (p *Prompt[Args]) schema() *schema.Schema {
	s, err := schema.For[Args]()
	if err != nil {
		panic("prompt " + p.Name + ": " + err.Error()) // a declaration error, caught by the tests
	}
	return s
}
