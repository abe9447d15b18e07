package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// cell is one server's figure in a row: the median and the p99 of a sample.
type cell struct {
	median, p99 float64
	ok          bool // measured; a row that does not apply to a server leaves it empty
}

func figure(s sample) cell { return cell{median: s.median(), p99: s.p99(), ok: len(s) > 0} }

// row is one line of the table.
type row struct {
	label string
	// cells are the servers' figures, in the table's order; missing ones do not apply.
	cells []cell
	// format writes a figure, and p99Format its p99 where that differs (in a row of calls per
	// second, the p99 is of one call's time).
	format, p99Format func(float64) string
	// higherBetter is set for rows where more is better (calls per second, budget used).
	higherBetter bool
	// goal is ours' target as the table shows it, and met whether the figures reach it.
	goal string
	met  bool
}

// fixed formats with n digits after the point.
func fixed(n int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', n, 64) }
}

// whole formats a count with a thin space between thousands.
func whole(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "\u202f" + s[i:]
	}
	return s
}

func (r row) text(c cell) string {
	if !c.ok {
		return "—"
	}
	p99 := r.format
	if r.p99Format != nil {
		p99 = r.p99Format
	}
	return r.format(c.median) + " (" + p99(c.p99) + ")"
}

// cell returns the figure of the i-th server, which is not measured if the row lacks it.
func (r row) cell(i int) cell {
	if i < len(r.cells) {
		return r.cells[i]
	}
	return cell{}
}

// ahead compares the first server (ours) with the second (the peer) by the median: a tick and how
// many times better, or a cross.
func (r row) ahead() string {
	ours, peer := r.cell(0), r.cell(1)
	if !ours.ok || !peer.ok {
		return "—"
	}
	better, worse := ours.median, peer.median
	if r.higherBetter {
		better, worse = worse, better
	}
	switch {
	case better > worse:
		return "✗"
	case better <= 0 || worse/better >= 100:
		return "✓"
	}
	return fmt.Sprintf("✓ %.3g×", worse/better)
}

// table writes the rows as a Markdown table, a column for each server: the first is ours, whose
// goals it shows, the second the peer it is compared with.
func table(servers []*server, rows []row) string {
	var b strings.Builder
	b.WriteString("| measure: median (p99) |")
	for _, s := range servers {
		b.WriteString(" " + s.name + " |")
	}
	fmt.Fprintf(&b, " goal for %s | ahead of the %s |\n|---|", servers[0].name, servers[1].name)
	b.WriteString(strings.Repeat("--:|", len(servers)) + "---|:-:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", r.label)
		for i := range servers {
			b.WriteString(" " + r.text(r.cell(i)) + " |")
		}
		goal := "—"
		if r.goal != "" {
			goal = r.goal + map[bool]string{true: " ✓", false: " ✗ missed"}[r.met]
		}
		fmt.Fprintf(&b, " %s | %s |\n", goal, r.ahead())
	}
	return b.String()
}

// Markers of the generated part of BENCHMARKS.md.
const (
	figuresBegin = "<!-- figures:begin (generated: go run ./bench -write rewrites it) -->\n"
	figuresEnd   = "<!-- figures:end -->"
)

// writeFigures replaces the generated part of the file at path with figures.
func writeFigures(path, figures string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok := strings.Cut(string(raw), figuresBegin)
	_, after, ok2 := strings.Cut(rest, figuresEnd)
	if !ok || !ok2 {
		return fmt.Errorf("%s lacks the markers %q and %q", path, strings.TrimSpace(figuresBegin), figuresEnd)
	}
	return os.WriteFile(path, []byte(before+figuresBegin+"\n"+figures+"\n"+figuresEnd+after), 0o644)
}
