package tools

import (
	"context"
	"fmt"
	"strings"
)

// In is embedded in every tool's arguments: the cabinet the call is about.
type In struct {
	BusinessID int64 `json:"business_id,omitempty" jsonschema:"description=The cabinet (its business id; list_cabinets lists them). Needed only when the server works in several.,minimum=1"`
}

func (in In) cabinet() int64 { return in.BusinessID }

// businessID returns the business_id of a tool's arguments, or 0.
func businessID(v any) int64 {
	if c, ok := v.(interface{ cabinet() int64 }); ok {
		return c.cabinet()
	}
	return 0
}

// forCall returns the Env of one call, with the cabinet the call names: the only one when there
// is one, none for a tool of every cabinet called without business_id. A business_id that is
// not configured, or a tool of one cabinet called without one when there are several, is
// refused, and so is a writing tool in a read-only cabinet.
func (e *Env) forCall(businessID int64, every, write bool) (*Env, error) {
	call := *e
	switch {
	case businessID != 0:
		call.Cabinet = e.cabinet(businessID)
		if call.Cabinet == nil {
			return nil, fmt.Errorf("business_id %d is not one of this server's cabinets; they are %s", businessID, e.cabinetList())
		}
	case len(e.Cabinets) == 1:
		call.Cabinet = e.Cabinets[0]
	case !every:
		return nil, fmt.Errorf("this server works in several cabinets: give business_id, one of %s", e.cabinetList())
	}
	if write && call.Cabinet != nil && call.Cabinet.ReadOnly {
		return nil, fmt.Errorf("cabinet %s is read-only on this server, so nothing can be sent or opened in it", call.Cabinet)
	}
	return &call, nil
}

func (e *Env) cabinet(id int64) *Cabinet {
	for _, c := range e.Cabinets {
		if c.BusinessID == id {
			return c
		}
	}
	return nil
}

// cabinetList names the cabinets for a sentence: 111 "Бренд А", 222 "Бренд Б".
func (e *Env) cabinetList() string {
	parts := make([]string, len(e.Cabinets))
	for i, c := range e.Cabinets {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// several reports whether the server works in more than one cabinet, when results name theirs.
func (e *Env) several() bool { return len(e.Cabinets) > 1 }

// CabinetsInput are list_cabinets' arguments.
type CabinetsInput struct{ In }

// CabinetList is list_cabinets' result.
type CabinetList struct {
	Cabinets []CabinetInfo `json:"cabinets"`
}

// CabinetInfo is a cabinet as list_cabinets gives it.
type CabinetInfo struct {
	BusinessID int64    `json:"business_id"`
	Name       string   `json:"name,omitempty"`
	Mode       string   `json:"mode" jsonschema:"description=read-write\\, or read-only: nothing can be sent or opened in it,enum=read-write,enum=read-only"`
	Budgets    []Budget `json:"budgets" jsonschema:"description=What is left of each Partner API budget of the cabinet"`
}

// Budget is what is left of one operation's hourly budget.
type Budget struct {
	Operation string `json:"operation"`
	Limit     int    `json:"limit" jsonschema:"description=Requests an hour"`
	Remaining int    `json:"remaining" jsonschema:"description=Requests left until resets_at; the whole limit when no request has told yet"`
	ResetsAt  string `json:"resets_at,omitempty" jsonschema:"description=When the budget's hour ends\\, as Market reported; absent before the first request,format=date-time"`
}

var listCabinets = &Tool[CabinetsInput, CabinetList]{
	Name:  "list_cabinets",
	Title: "List the seller's cabinets",
	Description: `Lists the seller's cabinets this server works in: each one's business_id (for the other tools' business_id), ` +
		`name, whether it is read-only, and what is left of its Partner API budgets this hour. ` +
		`list_chats and wait_for_messages without business_id cover all of them.`,
	Uses:  "Calls nothing: tells what the server knows of each cabinet's limits from Market's answers so far.",
	Every: true,
	Call: func(ctx context.Context, env *Env, _ CabinetsInput) (CabinetList, error) {
		cabs := env.Cabinets
		if env.Cabinet != nil && env.several() {
			cabs = []*Cabinet{env.Cabinet}
		}
		out := CabinetList{Cabinets: make([]CabinetInfo, 0, len(cabs))}
		for _, c := range cabs {
			info := CabinetInfo{BusinessID: c.BusinessID, Name: c.Name, Mode: "read-write"}
			if c.ReadOnly {
				info.Mode = "read-only"
			}
			for _, b := range c.Market.Budgets(ctx) {
				out := Budget{Operation: b.Op, Limit: b.Limit, Remaining: b.Limit}
				if b.Known {
					out.Remaining, out.ResetsAt = b.Remaining, timeOut(b.Until)
				}
				info.Budgets = append(info.Budgets, out)
			}
			out.Cabinets = append(out.Cabinets, info)
		}
		return out, nil
	},
}

func (l CabinetList) text() string {
	var b strings.Builder
	for _, c := range l.Cabinets {
		cab := Cabinet{Name: c.Name, BusinessID: c.BusinessID}
		fmt.Fprintf(&b, "%s · %s · left this hour:", &cab, c.Mode)
		for i, u := range c.Budgets {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %s %d/%d", u.Operation, u.Remaining, u.Limit)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
