// Package tools declares the server's MCP tools and turns each declaration into an mcp-go tool.
//
// A tool is declared once, as data (see Tool): its name, its words for the model, the Partner API
// operation it calls, a typed input, a typed output and the one function that does the work. The
// input and output schemas, the argument validation, the annotations, read-only mode and the
// README's tool reference are all derived from that declaration.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/folders"
	"github.com/yandex-market-mcp/market-chat-mcp/inbox"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
	"github.com/yandex-market-mcp/market-chat-mcp/schema"
)

// Env is what the tools work with.
type Env struct {
	// Cabinets are the seller's cabinets the server works in: at least one.
	Cabinets []*Cabinet
	// Folders are the folders send_file may read a path from; nil or empty allows no path.
	Folders *folders.Set
	// Confirm says when the user is asked before a send; the zero value asks whenever the client
	// can (config.ConfirmAuto).
	Confirm config.Confirm
	// ConfirmTimeout is how long the user has to answer; zero is DefaultConfirmTimeout.
	ConfirmTimeout time.Duration
	// Approvals keeps the questions asked of clients that answer in a later request; nil keeps
	// them in this process (the handlers set it).
	Approvals Approvals

	// Cabinet is the cabinet of the call, which the handler chose from its business_id: nil for
	// a tool of every cabinet called without one.
	*Cabinet
}

// Cabinet is a seller's cabinet the tools work in.
type Cabinet struct {
	Name       string // empty when the seller gave it none
	BusinessID int64
	// ReadOnly refuses the writing tools in this cabinet, whatever tools exist.
	ReadOnly bool
	Market   *market.Client
	// Inbox hears what happens in the chats, for wait_for_messages; nil leaves it unavailable.
	Inbox *inbox.Inbox
}

// OneCabinet is the Env of a server of one cabinet.
func OneCabinet(mc *market.Client, in *inbox.Inbox) *Env {
	return &Env{Cabinets: []*Cabinet{{BusinessID: mc.BusinessID(), Market: mc, Inbox: in}}}
}

// String names the cabinet in a sentence: 111 "Бренд А", or 111 when it has no name.
func (c *Cabinet) String() string {
	if c.Name == "" {
		return strconv.FormatInt(c.BusinessID, 10)
	}
	return fmt.Sprintf("%d %q", c.BusinessID, c.Name)
}

// Tool declares one MCP tool whose arguments decode into In and whose result is Out.
type Tool[In, Out any] struct {
	Name        string
	Title       string
	Description string
	// Op is the Partner API operation the tool calls: it decides whether the tool reads or
	// writes, and with that its annotations and whether it exists in read-only mode. A tool
	// that calls no one operation leaves it zero, and reads.
	Op market.Operation
	// Uses says, for a tool without an Op, what it calls.
	Uses string
	// Every is true for a tool that works across the cabinets when no business_id is given
	// (its Call then gets no Cabinet); other tools need one cabinet.
	Every bool
	// Call does the work. An error becomes a tool result with isError set, in words for the model.
	Call func(ctx context.Context, env *Env, in In) (Out, error)
}

// Declaration is a tool of any input and output type, as the list of all tools holds it.
type Declaration interface {
	// Definition returns the tool as tools/list shows it.
	Definition() mcp.Tool
	// Operation returns the Partner API operation the tool calls; it is zero for a tool that
	// calls no one operation.
	Operation() market.Operation
	// Calls says what the tool calls, for the reference.
	Calls() string
	// Handler returns the function that answers tools/call.
	Handler(env *Env) server.ToolHandlerFunc
}

// All lists every tool, reading tools first.
var All = []Declaration{listCabinets, listChats, getChat, getHistory, getMessage, getAttachment, waitForMessages, createChat, sendMessage, sendFile}

// Register adds the tools to s.
func Register(s *server.MCPServer, env *Env, tools []Declaration) {
	for _, d := range tools {
		s.AddTool(d.Definition(), d.Handler(env))
	}
}

// Select returns the tools that spec names: a comma-separated list of tool names, "read-only"
// for the reading tools, or "read-only+name+..." for those and more; every tool when spec is
// empty. readOnly removes the writing tools whatever spec says. An unknown name is an error that
// lists the tools there are.
func Select(spec string, readOnly bool) ([]Declaration, error) {
	byName := map[string]Declaration{}
	var names []string
	for _, d := range All {
		byName[d.Definition().Name] = d
		names = append(names, d.Definition().Name)
	}
	want := map[string]bool{}
	if strings.TrimSpace(spec) == "" {
		spec = strings.Join(names, ",")
	}
	for item := range strings.SplitSeq(spec, ",") {
		for i, name := range strings.Split(strings.TrimSpace(item), "+") {
			name = strings.TrimSpace(name)
			switch {
			case name == "read-only" && i == 0:
				for _, d := range All {
					if !d.Operation().Write {
						want[d.Definition().Name] = true
					}
				}
			case byName[name] != nil:
				want[name] = true
			case name != "":
				return nil, fmt.Errorf("MCP_TOOLS names %q, which is no tool; the tools are read-only or %s", name, strings.Join(names, ", "))
			}
		}
	}
	var ds []Declaration
	for _, d := range All {
		if want[d.Definition().Name] && !(readOnly && d.Operation().Write) {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// Operation returns the Partner API operation the tool calls.
func (t *Tool[In, Out]) Operation() market.Operation { return t.Op }

// Calls says what the tool calls, for the reference.
func (t *Tool[In, Out]) Calls() string {
	if t.Op.Name == "" {
		return t.Uses
	}
	kind := "reads"
	if t.Op.Write {
		kind = "writes; absent in read-only mode"
	}
	return fmt.Sprintf("Calls `%s` (%s, %d requests an hour).", t.Op.Name, kind, t.Op.HourlyLimit)
}

// Definition returns the tool as tools/list shows it.
func (t *Tool[In, Out]) Definition() mcp.Tool {
	in, out := t.schemaJSON()
	def := mcp.NewToolWithRawSchema(t.Name, t.Description, in)
	def.Title = t.Title
	def.RawOutputSchema = out
	def.Annotations = mcp.ToolAnnotation{
		Title:           t.Title,
		ReadOnlyHint:    mcp.ToBoolPtr(!t.Op.Write),
		DestructiveHint: mcp.ToBoolPtr(false), // chat tools add messages; they never change or delete any
		IdempotentHint:  mcp.ToBoolPtr(t.Op.Idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(true),
	}
	return def
}

// Handler returns the function that answers tools/call: it decodes and checks the arguments
// against the input schema, calls the tool and shapes the result.
func (t *Tool[In, Out]) Handler(env *Env) server.ToolHandlerFunc {
	if env.Approvals == nil { // one store for every call: each call works on a copy of env
		env.Approvals = NewMemoryApprovals()
	}
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in := t.input()
		var args any = req.Params.Arguments
		if len(req.Params.RawArguments) > 0 {
			args = req.Params.RawArguments // keeps ids above 2^53 exact
		}
		var v In
		if err := in.Decode(args, &v); err != nil {
			return mcp.NewToolResultError("Invalid arguments for " + t.Name + ": " + err.Error()), nil
		}
		call, err := env.forCall(businessID(v), t.Every, t.Op.Write)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		state := req.Params.RequestState
		if t.Op.Write {
			ci := &callInfo{req: req, args: argsHash(t.Name, v)}
			ctx = context.WithValue(ctx, callInfoKey{}, ci)
			if state != "" { // the answer to a question: taken once, and replayed as it ended
				done, err := call.Approvals.Claim(ctx, state, ci.args)
				switch {
				case errors.Is(err, ErrNoApproval):
					ci.expired = true
				case err != nil:
					return mcp.NewToolResultError(fmt.Sprintf("Nothing more was done: %v; read the chat with get_history to see whether it went out.", err)), nil
				case done != nil:
					var res mcp.CallToolResult
					return &res, json.Unmarshal(done, &res)
				}
			}
		}
		res, err := t.result(reportWaits(ctx, req), call, v)
		if err == nil && state != "" && t.Op.Write {
			if raw, merr := json.Marshal(res); merr == nil {
				_ = call.Approvals.Finish(ctx, state, raw, answeredKept)
			}
		}
		return res, err
	}
}

// result calls the tool and shapes its result: the structured content, the text, and what
// else the output shows; or the sentence of its error; or the question it asks the user.
func (t *Tool[In, Out]) result(ctx context.Context, env *Env, v In) (*mcp.CallToolResult, error) {
	out, err := t.Call(ctx, env, v)
	if q, ok := errors.AsType[needInput](err); ok {
		return q.b.ToolResult(), nil
	}
	if err != nil {
		return mcp.NewToolResultError(sentence(err)), nil
	}
	structured, err := marshal(out)
	if err != nil {
		return nil, err // a programming error: the output type does not marshal
	}
	text := string(structured)
	if t, ok := any(out).(texter); ok {
		text = t.text()
	}
	res := mcp.NewToolResultStructured(out, text)
	res.RawStructuredContent = structured // on the wire as is, without marshalling out again
	if c, ok := any(out).(contenter); ok {
		res.Content = append(res.Content, c.contents()...)
	}
	return res, nil
}

// contenter is an output that carries content besides its text, such as an image.
type contenter interface{ contents() []mcp.Content }

// marshal writes v as JSON without escaping <, > and &, which a model could copy into a reply
// as \u003c.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// reportWaits makes the calls under ctx tell the client, by progress notifications, when they
// wait for one of Market's limits, and lets a tool report its own waits (see reportProgress),
// if the client asked for progress.
func reportWaits(ctx context.Context, req mcp.CallToolRequest) context.Context {
	srv := server.ServerFromContext(ctx)
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil || srv == nil {
		return ctx
	}
	token := req.Params.Meta.ProgressToken
	var progress atomic.Int64
	send := func(msg string) {
		_ = srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
			"progressToken": token,
			"progress":      progress.Add(1),
			"message":       msg,
		})
	}
	ctx = context.WithValue(ctx, progressKey{}, send)
	return market.WithWaitNotifier(ctx, func(w market.Wait) {
		if w.Until.IsZero() {
			send(fmt.Sprintf("Waiting for Market to answer earlier %s requests, which tell how much of its hourly limit is left", w.Op))
			return
		}
		send(fmt.Sprintf("Waiting for Market's limit on %s to reset at %s (in %s)",
			w.Op, clockTime(w.Until, time.Now()), time.Until(w.Until).Round(time.Second)))
	})
}

// progressKey carries the function that sends a call's progress notifications.
type progressKey struct{}

// reportProgress tells the client, if it asked for progress, what the call is doing.
func reportProgress(ctx context.Context, msg string) {
	if send, ok := ctx.Value(progressKey{}).(func(string)); ok {
		send(msg)
	}
}

// schemaJSON returns the tool's input and output schemas as JSON. They come from schemas_gen.go,
// which go test ./tools -update writes from the reflected schemas, so that a server starts and
// answers tools/list without reflecting every type; a tool missing there is reflected instead.
func (t *Tool[In, Out]) schemaJSON() (in, out json.RawMessage) {
	if s, ok := generatedSchemas[t.Name]; ok {
		return json.RawMessage(s.in), json.RawMessage(s.out)
	}
	in, out, err := t.reflectedSchemas()
	if err != nil {
		panic("tool " + t.Name + ": " + err.Error()) // a declaration error, caught by the tests of every tool
	}
	return in, out
}

// reflectedSchemas reflects the tool's input and output schemas from In and Out.
func (t *Tool[In, Out]) reflectedSchemas() (in, out json.RawMessage, err error) {
	i, err := schema.For[In]()
	if err != nil {
		return nil, nil, err
	}
	o, err := schema.For[Out]()
	if err != nil {
		return nil, nil, err
	}
	return i.JSON(), o.JSON(), nil
}

// input returns the schema that arguments are checked against and decoded by, reflected on the
// tool's first call.
func (t *Tool[In, Out]) input() *schema.Schema {
	in, err := schema.For[In]()
	if err != nil {
		panic("tool " + t.Name + ": " + err.Error()) // a declaration error, caught by the tests of every tool
	}
	return in
}

// toolSchemas are a tool's input and output schemas as JSON.
type toolSchemas struct{ in, out string }
