// Command bench measures market-chat-mcp beside the usual alternative, the same tools written with
// the official TypeScript SDK (peer.mjs), in one run on one machine: how fast each starts, the
// latency each adds to a Partner API call, the calls per second each holds, its memory, and how
// much of Market's limits our client uses without crossing them. BENCHMARKS.md describes the
// method.
//
// It builds the server, installs Node 22 and the SDK as the interop tests do, serves an in-memory
// Partner API in this process, and prints a table. Run it from anywhere in the module:
//
//	go run ./bench           # the full run, a few minutes
//	go run ./bench -write    # and record the figures in BENCHMARKS.md
//	go run ./bench -quick    # few repetitions: to see that it works, not to quote
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/nodetools"
	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
	"github.com/yandex-market-mcp/market-chat-mcp/market/markettest"
)

//go:embed peer.mjs
var peerScript []byte

// plan is how many times, and how long, each row is measured.
type plan struct {
	coldWarmup, coldRounds int           // server starts
	latWarmup, latRounds   int           // calls per route
	loadWarmup, loadRun    time.Duration // a throughput warm-up and one counted run
	loadRuns               int           // counted runs per number of clients
	memRounds              int           // server starts per memory figure
	settle                 time.Duration // how long a server is left alone before its memory is read
	bursts                 int           // saturating bursts
}

var (
	fullPlan  = plan{10, 200, 500, 5000, time.Second, time.Second, 7, 5, 2 * time.Second, 3}
	quickPlan = plan{2, 10, 50, 200, 300 * time.Millisecond, 300 * time.Millisecond, 2, 1, 300 * time.Millisecond, 1}
)

// The requests measured: list_chats as a seller's assistant starts its day, and get_history of a
// chat (chosen in run).
const (
	listChatsArgs = `{"statuses":["WAITING_FOR_PARTNER"]}`
	listChatsCall = `{"name":"list_chats","arguments":` + listChatsArgs + `}`
)

// jsonschemaPackage is the dependency whose initialization takes most of a start.
const jsonschemaPackage = "github.com/santhosh-tekuri/jsonschema/v6"

// loadClients are the numbers of concurrent clients of the throughput rows.
var loadClients = []int{1, 8, 64}

// sessions is the number of sessions of the memory row that holds many.
const sessions = 100

func main() {
	write := flag.Bool("write", false, "rewrite the figures in BENCHMARKS.md with this run's")
	quick := flag.Bool("quick", false, "measure a few times only, to see that the command works (not with -write)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p := fullPlan
	if *quick {
		if *write {
			fmt.Fprintln(os.Stderr, "bench: -quick figures are not worth recording; run -write without -quick")
			os.Exit(2)
		}
		p = quickPlan
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, p, *write, logger); err != nil {
		logger.Error("bench failed", "error", err)
		stop()
		os.Exit(1)
	}
}

// run sets everything up, measures every row, prints the table and, if asked, records it.
func run(ctx context.Context, p plan, write bool, logger *slog.Logger) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "market-chat-mcp-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	logger.Info("building the server and installing Node 22 with the TypeScript SDK")
	binary, floorBinary := filepath.Join(work, "market-chat-mcp"), filepath.Join(work, "floor")
	var (
		wg                 sync.WaitGroup
		buildErr, floorErr error
		node               *nodetools.Tools
		nodeErr            error
	)
	wg.Go(func() { buildErr = serverproc.Build(root, ".", binary) })
	wg.Go(func() { floorErr = serverproc.Build(root, "./bench/floor", floorBinary) })
	wg.Go(func() { node, nodeErr = nodetools.Install(filepath.Join(root, "interop")) })
	wg.Wait()
	if err := errors.Join(buildErr, floorErr, nodeErr); err != nil {
		return err
	}
	peerDir := filepath.Join(work, "peer")
	if err := os.Mkdir(peerDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(peerDir, "peer.mjs"), peerScript, 0o644); err != nil {
		return err
	}
	if err := node.Link(peerDir); err != nil {
		return err
	}

	sandbox := markettest.New(liftedLimits()...)
	defer sandbox.Close()
	env := serverproc.Env("YANDEX_MARKET_BASE_URL="+sandbox.URL, "YANDEX_MARKET_API_KEY="+sandbox.APIKey,
		"YANDEX_MARKET_BUSINESS_ID="+strconv.FormatInt(sandbox.BusinessID, 10))
	peerScriptPath := filepath.Join(peerDir, "peer.mjs")
	// In the table's order: ours, the peer, and the reference.
	servers := []*server{
		{name: "market-chat-mcp", stdio: []string{binary}, http: []string{binary, "--transport", "http", "--addr", "127.0.0.1:0"}, env: env},
		{name: "TypeScript SDK peer", stdio: []string{node.Node(), peerScriptPath}, http: []string{node.Node(), peerScriptPath, "--http"}, env: env},
		{name: "mcp-go alone", stdio: []string{floorBinary}, http: []string{floorBinary, "--http"}, env: env},
	}
	chat, messages := historyChat(sandbox)
	historyCall := fmt.Sprintf(`{"name":"get_history","arguments":{"chat_id":%d}}`, chat)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * sessions, DisableCompression: true}}
	defer client.CloseIdleConnections()

	var rows []row
	logger.Info("cold start", "rounds", p.coldRounds)
	sandboxed := &server{name: "market-chat-mcp --sandbox", stdio: []string{binary, "--sandbox"}, env: env}
	initialize, list, err := coldStart(append(slices.Clip(servers), sandboxed), p.coldWarmup, p.coldRounds)
	if err != nil {
		return err
	}
	rows = append(rows,
		timed("Start to the initialize answer over stdio, ms", servers, initialize, "≤ 5", 5),
		timed("Start to the tools/list answer over stdio, ms", servers, list, "≤ 6", 6),
		row{label: "Start to the initialize answer with --sandbox (the built-in Market, seeded on first use), ms",
			cells: []cell{figure(initialize[sandboxed])}, format: fixed(2)})
	goServers := []*server{servers[0], servers[2]}
	inits, jsonschema, err := initTime(goServers, jsonschemaPackage, p.coldRounds)
	if err != nil {
		return err
	}
	rows = append(rows,
		row{label: "Package initialization before main, as GODEBUG=inittrace=1 reports it, ms",
			cells: []cell{figure(inits[goServers[0]]), {}, figure(inits[goServers[1]])}, format: fixed(2)},
		row{label: "of which " + jsonschemaPackage + ", which mcp-go's server package imports, ms",
			cells: []cell{figure(jsonschema[goServers[0]]), {}, figure(jsonschema[goServers[1]])}, format: fixed(2)})

	logger.Info("added latency", "rounds", p.latRounds)
	added, err := addedLatency(ctx, client, sandbox, servers, p)
	if err != nil {
		return err
	}
	rows = append(rows, added...)

	for _, n := range loadClients {
		logger.Info("throughput", "clients", n)
		r := row{label: fmt.Sprintf("get_history calls per second over Streamable HTTP, %d client%s (p99: of one call, ms)", n, plural(n)),
			format: whole, p99Format: fixed(2), higherBetter: true}
		for _, s := range servers {
			l, err := throughputOf(ctx, client, s, historyCall, n, p)
			if err != nil {
				return err
			}
			r.cells = append(r.cells, cell{median: l.rate.median(), p99: l.latency.p99(), ok: true})
		}
		if n == 8 {
			r.goal, r.met = "≥ 5 000", r.cells[0].median >= 5000
		}
		rows = append(rows, r)
	}

	logger.Info("memory", "rounds", p.memRounds)
	mem, err := memoryRows(ctx, client, servers, p)
	if err != nil {
		return err
	}
	rows = append(rows, mem...)

	logger.Info("limits", "bursts", p.bursts)
	used, rateLimited, err := limits(ctx, p.bursts, logger)
	if err != nil {
		return err
	}
	rows = append(rows,
		row{label: fmt.Sprintf("Share of the budget used by a saturating burst, %% (p99: the least of %d)", len(used)),
			cells: []cell{{median: used.median(), p99: slices.Min(used), ok: true}}, format: fixed(1), higherBetter: true,
			goal: "≥ 95", met: slices.Min(used) >= 95},
		row{label: fmt.Sprintf("420 answers in those %d bursts", len(used)),
			cells: []cell{{median: float64(rateLimited), p99: float64(rateLimited), ok: true}}, format: whole, goal: "0", met: rateLimited == 0})

	figures, err := describe(node, p, chat, messages)
	if err != nil {
		return err
	}
	figures += "\n" + table(servers, rows)
	fmt.Println(figures)
	if write {
		path := filepath.Join(root, "BENCHMARKS.md")
		if err := writeFigures(path, figures); err != nil {
			return err
		}
		logger.Info("recorded the figures", "file", path)
	}
	return nil
}

// liftedLimits are options of a sandbox that lets through everything a benchmark sends: a budget
// no run can spend for every operation, and no limit of requests in flight.
func liftedLimits() []markettest.Option {
	opts := []markettest.Option{markettest.WithParallelLimit(0), markettest.WithoutRequestLog()}
	for _, op := range []string{markettest.OpCreateChat, markettest.OpGetChats, markettest.OpGetChat, markettest.OpGetChatHistory,
		markettest.OpGetChatMessage, markettest.OpSendMessageToChat, markettest.OpSendFileToChat} {
		opts = append(opts, markettest.WithBudget(op, 1<<30))
	}
	return opts
}

// historyChat picks the chat whose history is read: the longest of those waiting for the seller.
func historyChat(sandbox *markettest.Server) (id int64, messages int) {
	for _, c := range sandbox.Chats() {
		if n := len(sandbox.Messages(c.ChatID)); c.Status == markettest.StatusWaitingForPartner && n > messages {
			id, messages = c.ChatID, n
		}
	}
	return id, messages
}

// timed is a row of times with a goal for ours: at most max ms by the median.
func timed(label string, servers []*server, times map[*server]sample, goal string, max float64) row {
	r := row{label: label, format: fixed(2), goal: goal}
	for _, s := range servers {
		r.cells = append(r.cells, figure(times[s]))
	}
	r.met = r.cells[0].median <= max
	return r
}

// addedLatency measures list_chats through each server over each transport it has against the
// same request straight to the sandbox, and returns the rows of the differences.
func addedLatency(ctx context.Context, client *http.Client, sandbox *markettest.Server, servers []*server, p plan) ([]row, error) {
	routes := []route{{name: "direct", call: direct(client, sandbox, listChatsArgs)}}
	for _, s := range servers {
		c, err := s.startStdio()
		if err != nil {
			return nil, err
		}
		defer c.kill()
		if err := c.initialize(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		routes = append(routes, route{name: s.name + " stdio", call: func(context.Context) error {
			_, err := c.call("tools/call", listChatsCall)
			return err
		}})
		h, err := s.startHTTP(ctx)
		if err != nil {
			return nil, err
		}
		defer h.Stop()
		sess, err := openSession(ctx, client, h.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		routes = append(routes, route{name: s.name + " http", call: func(ctx context.Context) error {
			_, err := sess.call(ctx, "tools/call", listChatsCall)
			return err
		}})
	}
	times, err := latency(ctx, routes, p.latWarmup, p.latRounds)
	if err != nil {
		return nil, err
	}
	base := figure(times["direct"])
	added := func(name string) cell {
		c := figure(times[name])
		return cell{median: c.median - base.median, p99: c.p99 - base.p99, ok: c.ok}
	}
	var rows []row
	for _, t := range []struct{ transport, key string }{{"stdio", " stdio"}, {"Streamable HTTP", " http"}} {
		r := row{label: fmt.Sprintf("list_chats over %s, ms added to the %.3f (%.3f) of its request straight to the sandbox", t.transport, base.median, base.p99),
			format: fixed(3), goal: "≤ 0.15 (≤ 0.5)"}
		for _, s := range servers {
			r.cells = append(r.cells, added(s.name+t.key))
		}
		r.met = r.cells[0].median <= 0.15 && r.cells[0].p99 <= 0.5
		rows = append(rows, r)
	}
	return rows, nil
}

// throughputOf starts s over HTTP and measures its throughput with n clients.
func throughputOf(ctx context.Context, client *http.Client, s *server, call string, n int, p plan) (load, error) {
	h, err := s.startHTTP(ctx)
	if err != nil {
		return load{}, err
	}
	defer h.Stop()
	l, err := throughput(ctx, client, h.URL, call, n, p.loadRuns, p.loadWarmup, p.loadRun)
	if err != nil {
		return load{}, fmt.Errorf("%s, %d clients: %w", s.name, n, err)
	}
	return l, nil
}

// memoryRows measures resident memory idle over stdio and over HTTP, and with many sessions.
func memoryRows(ctx context.Context, client *http.Client, servers []*server, p plan) ([]row, error) {
	idle, anon, err := idleMemory(servers, p.memRounds, p.settle)
	if err != nil {
		return nil, err
	}
	rows := []row{
		{label: "Resident memory idle after initialize over stdio, MiB", format: fixed(1), goal: "≤ 12"},
		{label: "of which anonymous (heap and stacks, not the executable's pages), MiB", format: fixed(1)},
		{label: "Resident memory over Streamable HTTP with one session, MiB", format: fixed(1)},
		{label: fmt.Sprintf("Resident memory with %d Streamable HTTP sessions, each holding its GET stream, MiB", sessions), format: fixed(1)},
	}
	for _, s := range servers {
		one, many, err := sessionMemory(ctx, s, client, sessions, p.memRounds, p.settle)
		if err != nil {
			return nil, err
		}
		rows[0].cells = append(rows[0].cells, figure(idle[s]))
		rows[1].cells = append(rows[1].cells, figure(anon[s]))
		rows[2].cells = append(rows[2].cells, figure(one))
		rows[3].cells = append(rows[3].cells, figure(many))
	}
	rows[0].met = rows[0].cells[0].median <= 12
	return rows, nil
}

// describe says what the figures are of: the machine, the versions and the repetitions.
func describe(node *nodetools.Tools, p plan, chat int64, messages int) (string, error) {
	nodeVersion, err := exec.Command(node.Node(), "--version").Output()
	if err != nil {
		return "", err
	}
	sdk, err := packageVersion(node.PackageDir("@modelcontextprotocol/sdk"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured on %s: %s, %d cores, %s of memory, Linux %s; %s; Node %s with @modelcontextprotocol/sdk %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), memTotal(), kernel(),
		runtime.Version(), strings.TrimSpace(string(nodeVersion)), sdk)
	fmt.Fprintf(&b, "Repetitions: %d starts of each server after %d not counted; %d calls of each route after %d not counted; "+
		"%d runs of %s per number of clients after %s of warm-up; %d starts per memory figure, read %s after the last request; %d bursts. "+
		"get_history reads chat %d (%d messages).\n",
		p.coldRounds, p.coldWarmup, p.latRounds, p.latWarmup, p.loadRuns, p.loadRun, p.loadWarmup, p.memRounds, p.settle, p.bursts, chat, messages)
	return b.String(), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
