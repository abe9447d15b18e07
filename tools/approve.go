package tools

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/market"
)

// Approval of sends: before send_message, send_file or create_chat reach Market, the user is
// asked, when Env.Confirm and the client allow, through MCP elicitation. Clients of the
// 2026-07-28 protocol are asked with a multi-round-trip input request: the call answers with the
// question and a state, and the client calls again with the answer. The state names a question
// kept in Approvals, which any replica that shares them can take, once: a replayed answer gets
// the first one's result and sends nothing again. Clients of earlier versions are asked with
// elicitation/create within the same call, and only when they declared the capability and their
// transport can carry a request to them (HTTP+SSE cannot); mcp-go itself would send it to any.

const (
	// DefaultConfirmTimeout is how long the user has to answer unless Env.ConfirmTimeout says
	// otherwise; after it nothing is sent.
	DefaultConfirmTimeout = 5 * time.Minute
	// answeredKept is how long the result of an answered question is kept, for replays of the
	// answer: long past any retry of a client's.
	answeredKept = time.Hour
	// approvalID is the key of the question in an input request.
	approvalID = "approve_send"
)

// The ways a user answered, as results report them.
const (
	approvalApproved   = "approved"
	approvalEdited     = "edited"
	approvalDeclined   = "declined"
	approvalCancelled  = "cancelled"
	approvalUnanswered = "unanswered"
	approvalInvalid    = "invalid"
)

// Asked is, in a send's result, how the user answered the question before it.
type Asked struct {
	Approval string `json:"approval,omitempty" jsonschema:"description=How the user answered when asked before the send: approved or edited (it went out)\\, or declined\\, cancelled\\, unanswered or invalid (nothing went out). Absent when no one was asked.,enum=approved,enum=edited,enum=declined,enum=cancelled,enum=unanswered,enum=invalid"`
	NotSent  string `json:"not_sent,omitempty" jsonschema:"description=Why nothing went out\\, when nothing did. This is the user's decision: do not try again unless the user asks."`
}

// decision is how a send was approved: Status is empty when no one was asked.
type decision struct {
	Status string
	Text   string // the message as the user left it, when it could be edited
	Why    string // why nothing is sent, for a status that sends nothing
}

// sends reports whether the send goes ahead.
func (d decision) sends() bool {
	return d.Status == "" || d.Status == approvalApproved || d.Status == approvalEdited
}

// asked is the decision as a result shows it; what names what did not happen, such as
// "The message was not sent".
func (d decision) asked(what string) Asked {
	a := Asked{Approval: d.Status}
	if !d.sends() {
		a.NotSent = fmt.Sprintf("%s: %s. Do not try again unless the user asks for it.", what, d.Why)
	}
	return a
}

// question is what the user is asked; message is made only when someone is asked.
type question struct {
	message func(ctx context.Context) (string, error)
	// editable is the text the user may change before it goes, or "" when nothing can be changed.
	editable string
}

// Approvals keeps the questions asked in one request and answered in another, so that any
// server that shares them can take an answer, and take it once.
type Approvals interface {
	// Put keeps a question asked for the call whose arguments hash to args, for ttl.
	Put(ctx context.Context, id, args string, ttl time.Duration) error
	// Claim takes the answer to question id for a call with arguments args: it returns the result
	// of the call that took it before, if one did, and otherwise claims it. An unknown, expired
	// or foreign question is ErrNoApproval; one being acted on is ErrApprovalBusy.
	Claim(ctx context.Context, id, args string) (result []byte, err error)
	// Finish keeps the result of the call that claimed question id, for replays, for ttl.
	Finish(ctx context.Context, id string, result []byte, ttl time.Duration) error
}

// Errors of Approvals.
var (
	ErrNoApproval   = errors.New("the approval is unknown or expired")
	ErrApprovalBusy = errors.New("the approval is being acted on")
)

// NewMemoryApprovals returns Approvals kept in this process.
func NewMemoryApprovals() Approvals { return &memoryApprovals{m: map[string]*pending{}} }

type memoryApprovals struct {
	mu sync.Mutex
	m  map[string]*pending
}

type pending struct {
	args    string
	expires time.Time
	claimed bool
	result  []byte
}

func (a *memoryApprovals) Put(_ context.Context, id, args string, ttl time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for k, p := range a.m { // the expired go as new ones come
		if now.After(p.expires) {
			delete(a.m, k)
		}
	}
	a.m[id] = &pending{args: args, expires: now.Add(ttl)}
	return nil
}

func (a *memoryApprovals) Claim(_ context.Context, id, args string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.m[id]
	switch {
	case p == nil || time.Now().After(p.expires) || p.args != args:
		return nil, ErrNoApproval
	case p.result != nil:
		return p.result, nil
	case p.claimed:
		return nil, ErrApprovalBusy
	}
	p.claimed = true
	return nil, nil
}

func (a *memoryApprovals) Finish(_ context.Context, id string, result []byte, ttl time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.m[id]; p != nil {
		p.result, p.expires = result, time.Now().Add(ttl)
	}
	return nil
}

// callInfo is what ask needs of the request it answers.
type callInfo struct {
	req     mcp.CallToolRequest
	args    string // a hash of the tool and its arguments
	expired bool   // the request answers a question that is no longer kept
}

type callInfoKey struct{}

// argsHash names a call by its tool and arguments.
func argsHash(tool string, v any) string {
	b, _ := marshal(v)
	h := sha256.Sum256(append([]byte(tool+"\x00"), b...))
	return hex.EncodeToString(h[:])
}

// needInput ends a call that asks the user before it can go on: its result is the question.
type needInput struct{ b *server.InputRequestBuilder }

func (needInput) Error() string { return "the user is asked" }

// ask asks the user whether to send, when e.Confirm and the client allow.
func (e *Env) ask(ctx context.Context, q question) (decision, error) {
	if e.Confirm == config.ConfirmNever {
		return decision{}, nil
	}
	ci, _ := ctx.Value(callInfoKey{}).(*callInfo)
	if ci == nil {
		return decision{}, errors.New("a send needs its call's details to ask for approval")
	}
	bound := cmp.Or(e.ConfirmTimeout, DefaultConfirmTimeout)
	if ci.req.Params.RequestState != "" { // the answer to an input request, claimed by Handler
		if ci.expired {
			return decision{Status: approvalUnanswered, Why: fmt.Sprintf("the answer came after the question expired (%s), or to a question this server did not ask", bound)}, nil
		}
		return decide(server.ElicitationResponse(ci.req.Params.InputResponses, approvalID), q), nil
	}
	modern := server.IsModernRequest(ctx)
	var canAsk bool
	if modern {
		info := server.RequestProtocolInfoFromContext(ctx)
		canAsk = info.ClientCapabilities != nil && info.ClientCapabilities.Elicitation != nil
	} else if s, ok := server.ClientSessionFromContext(ctx).(interface {
		server.SessionWithClientInfo
		server.SessionWithElicitation
	}); ok {
		canAsk = s.GetClientCapabilities().Elicitation != nil
	}
	switch {
	case !canAsk && e.Confirm == config.ConfirmAlways:
		return decision{}, errors.New("nothing was sent: this server asks the user before every send (MCP_CONFIRM_SENDS=always), and this client cannot ask. " +
			"Use a client that can (VS Code, Cursor, Claude Code or the MCP Inspector), over stdio or Streamable HTTP, or the seller can set MCP_CONFIRM_SENDS=auto")
	case !canAsk:
		return decision{}, nil
	}
	params, err := q.params(ctx)
	if err != nil {
		return decision{}, err
	}
	if modern {
		id := rand.Text()
		if err := e.Approvals.Put(ctx, id, ci.args, bound); err != nil {
			return decision{}, fmt.Errorf("nothing was sent: the question for the user could not be kept (%v)", err)
		}
		return decision{}, needInput{server.NewInputRequestBuilder(id).Elicit(approvalID, params)}
	}
	actx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	res, err := server.ServerFromContext(ctx).RequestElicitation(actx, mcp.ElicitationRequest{
		Request: mcp.Request{Method: string(mcp.MethodElicitationCreate)}, Params: params})
	switch {
	case ctx.Err() != nil:
		return decision{}, ctx.Err()
	case actx.Err() != nil:
		return decision{Status: approvalUnanswered, Why: fmt.Sprintf("the user did not answer within %s", bound)}, nil
	case err != nil:
		return decision{Status: approvalUnanswered, Why: fmt.Sprintf("the client could not ask the user (%v)", err)}, nil
	}
	return decide(res, q), nil
}

// params is the elicitation that asks q.
func (q question) params(ctx context.Context) (mcp.ElicitationParams, error) {
	msg, err := q.message(ctx)
	if err != nil {
		return mcp.ElicitationParams{}, err
	}
	props := map[string]any{}
	schema := map[string]any{"type": "object", "properties": props}
	if q.editable != "" {
		props["message"] = map[string]any{"type": "string", "title": "Message to the buyer",
			"description": "It goes as it stands here: edit it if needed.", "minLength": 1, "maxLength": market.MaxMessageLength, "default": q.editable}
		schema["required"] = []string{"message"}
	}
	return mcp.ElicitationParams{Message: msg, RequestedSchema: schema}, nil
}

// decide reads the user's answer. An answer that does not fit the question sends nothing, and
// is not asked again.
func decide(res *mcp.ElicitationResult, q question) decision {
	if res == nil {
		return decision{Status: approvalUnanswered, Why: "the client gave no answer"}
	}
	switch res.Action {
	case mcp.ElicitationResponseActionDecline:
		return decision{Status: approvalDeclined, Why: "the user declined"}
	case mcp.ElicitationResponseActionCancel:
		return decision{Status: approvalCancelled, Why: "the user cancelled"}
	case mcp.ElicitationResponseActionAccept:
	default:
		return decision{Status: approvalInvalid, Why: fmt.Sprintf("the answer %q is none of accept, decline and cancel", res.Action)}
	}
	content, _ := res.Content.(map[string]any)
	if res.Content != nil && content == nil {
		return decision{Status: approvalInvalid, Why: "the answer is not an object"}
	}
	for k := range content {
		if k != "message" || q.editable == "" {
			return decision{Status: approvalInvalid, Why: fmt.Sprintf("the answer has %q, which was not asked", k)}
		}
	}
	if q.editable == "" {
		return decision{Status: approvalApproved}
	}
	text, ok := content["message"].(string)
	switch n := utf8.RuneCountInString(text); {
	case !ok && content["message"] != nil:
		return decision{Status: approvalInvalid, Why: "the message in the answer is not text"}
	case !ok:
		return decision{Status: approvalApproved, Text: q.editable}
	case n < 1 || n > market.MaxMessageLength:
		return decision{Status: approvalInvalid, Why: fmt.Sprintf("the edited message has %d characters, not 1 to %d", n, market.MaxMessageLength)}
	case text != q.editable:
		return decision{Status: approvalEdited, Text: text}
	}
	return decision{Status: approvalApproved, Text: text}
}

// cabinetLine names the call's cabinet for the user.
func (e *Env) cabinetLine() string {
	if c := e.Cabinet; c.Name != "" {
		return fmt.Sprintf("Cabinet: %s (business %d)", c.Name, c.BusinessID)
	}
	return fmt.Sprintf("Cabinet: business %d", e.Cabinet.BusinessID)
}

// sendQuestion asks the user about a send to a chat: the question, the cabinet, the chat (what
// it is about and the buyer's name) and what goes.
func (e *Env) sendQuestion(ctx context.Context, chatID int64, ask, what string) (string, error) {
	c, err := e.Market.GetChat(ctx, chatID)
	if err != nil {
		return "", aboutChat(err, chatID)
	}
	about := chatOut(c).Context
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s\nChat %d, ", ask, e.cabinetLine(), chatID)
	switch {
	case about.ReturnID != 0:
		fmt.Fprintf(&b, "about return %d of order %d", about.ReturnID, about.OrderID)
	case about.OrderID != 0:
		fmt.Fprintf(&b, "about order %d", about.OrderID)
	default:
		b.WriteString("a question not about an order")
	}
	if about.CustomerName != "" {
		b.WriteString(", buyer " + about.CustomerName)
	}
	b.WriteString("\n\n" + what)
	return b.String(), nil
}

// byteSize writes a file's size for a person.
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
