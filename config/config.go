// Package config reads the server's settings from the environment and the command line.
//
// Every setting is an environment variable (read with sethvargo/go-envconfig); some are also
// flags, and a flag given on the command line wins over the variable. A missing or malformed
// setting is reported in one line that names the variable and what it expects.
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/sethvargo/go-envconfig"
)

// Transports the server speaks.
const (
	TransportStdio = "stdio"
	TransportHTTP  = "http"
)

// Config is the server's configuration.
type Config struct {
	APIKey     Secret     `env:"YANDEX_MARKET_API_KEY" help:"Api-Key token of the Partner API (needs the communication or all-methods scope)"`
	OAuthToken Secret     `env:"YANDEX_MARKET_OAUTH_TOKEN" help:"an OAuth token of the cabinet: with an Api-Key, used only to download buyers' files; alone, the deprecated way to call the API"`
	BusinessID BusinessID `env:"YANDEX_MARKET_BUSINESS_ID" help:"the cabinet (business) id the key belongs to"`
	BaseURL    BaseURL    `env:"YANDEX_MARKET_BASE_URL, default=https://api.partner.market.yandex.ru" help:"Partner API address; any http or https URL"`
	MaxWait    Duration   `env:"YANDEX_MARKET_MAX_WAIT, default=30s" help:"longest wait for one of Market's limits before a call gives up, e.g. 30s or 2m; 0 never waits"`
	Parallel   Parallel   `env:"YANDEX_MARKET_MAX_PARALLEL, default=4" help:"requests in flight to the Partner API at most (the API allows 4 per business)"`
	Transport  string     `env:"MCP_TRANSPORT, default=stdio" flag:"transport" help:"stdio, or http (Streamable HTTP at /mcp and HTTP+SSE at /sse); sse is the same as http"`
	Addr       string     `env:"MCP_ADDR, default=127.0.0.1:8080" flag:"addr" help:"HTTP listen address"`
	AuthToken  Secret     `env:"MCP_AUTH_TOKEN" help:"bearer token that HTTP clients must present; required to listen beyond loopback"`
	Origins    []string   `env:"MCP_ALLOWED_ORIGINS" help:"comma-separated browser origins allowed to call the HTTP endpoints, besides the server's own"`
	ReadOnly   Switch     `env:"MCP_READ_ONLY" flag:"read-only" help:"only the reading tools exist; the flag or the variable switches it on"`
	FileRoots  []string   `env:"MCP_FILE_ROOTS" help:"comma-separated folders that send_file may read a path from, opened at start"`
	LogLevel   LogLevel   `env:"MCP_LOG_LEVEL, default=info" help:"debug, info, warn or error; logs go to stderr"`
	NotifyPath Secret     `env:"YANDEX_MARKET_NOTIFY_PATH" help:"secret path on the HTTP listener where Market's push notifications arrive, / and 32 or more letters, digits, - or _; unset: no receiver, and wait_for_messages polls"`
	NotifyFrom Senders    `env:"YANDEX_MARKET_NOTIFY_FROM, default=yandex" help:"addresses notifications are taken from: yandex (Market's documented ranges), any, or comma-separated addresses and CIDR ranges"`
	Proxies    Prefixes   `env:"MCP_TRUSTED_PROXIES" help:"comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For tells a notification's sender"`
	PollShare  Share      `env:"YANDEX_MARKET_POLL_SHARE, default=0.1" help:"share of each hourly budget that wait_for_messages may poll with, above 0 and at most 1"`
	Cabinets   string     `env:"YANDEX_MARKET_CABINETS_FILE" help:"a JSON file of several cabinets, each with its key; readable by its owner only"`
	Tools      string     `env:"MCP_TOOLS" help:"the tools that exist: names (comma-separated), read-only, or read-only+send_message; all when unset"`
	Confirm    Confirm    `env:"MCP_CONFIRM_SENDS, default=auto" help:"auto (ask the user before a send when the client can ask), always (never send without the user's yes), never"`
	ConfirmFor Duration   `env:"MCP_CONFIRM_TIMEOUT, default=5m" help:"how long the user has to answer before a send; without an answer nothing is sent"`
	RedisURL   Secret     `env:"REDIS_URL" help:"a Redis (redis://host:6379/0) that the server's processes share their limits, sends and inbox through; unset, each process keeps its own"`
	Stateless  Switch     `env:"MCP_HTTP_STATELESS" help:"true makes Streamable HTTP keep no sessions, for replicas behind a load balancer"`
	Sandbox    bool       `flag:"sandbox" help:"run against the built-in in-memory Market instead of the real API"`
	// Version asks only for the version to be printed.
	Version bool `flag:"version" help:"print the version and exit"`
}

// Secret is a setting that must never be shown: it formats as "[set]" or "[unset]".
type Secret string

// EnvDecode takes a secret without the spaces and line breaks around it, which secrets mounted
// from files often end with, and refuses one with such characters inside. The value is never
// shown in the error.
func (s *Secret) EnvDecode(val string) error {
	val = strings.TrimSpace(val)
	if i := strings.IndexFunc(val, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("must be one word without spaces or line breaks, but has %q at position %d", val[i:i+1], i+1)
	}
	*s = Secret(val)
	return nil
}

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return "[unset]"
	}
	return "[set]"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// BusinessID is a Market cabinet id: a positive integer.
type BusinessID int64

// EnvDecode parses a business id. go-envconfig calls it for an unset variable too: that leaves
// the id zero, for validation to report.
func (b *BusinessID) EnvDecode(val string) error {
	if val == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("must be a positive integer (the cabinet id shown in the seller's cabinet), got %q", val)
	}
	*b = BusinessID(n)
	return nil
}

// LogLevel is the least severe level that is logged.
type LogLevel slog.Level

// EnvDecode parses debug, info, warn or error.
func (l *LogLevel) EnvDecode(val string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(val)); err != nil {
		return fmt.Errorf("must be debug, info, warn or error, got %q", val)
	}
	*l = LogLevel(lv)
	return nil
}

// Level returns the level for log/slog.
func (l LogLevel) Level() slog.Level { return slog.Level(l) }

// String names the level.
func (l LogLevel) String() string { return slog.Level(l).String() }

// Duration is a non-negative duration such as 30s or 2m.
type Duration time.Duration

// EnvDecode parses a duration.
func (d *Duration) EnvDecode(val string) error {
	v, err := time.ParseDuration(val)
	if err != nil || v < 0 {
		return fmt.Errorf("must be a duration such as 30s or 2m, got %q", val)
	}
	*d = Duration(v)
	return nil
}

// String formats the duration.
func (d Duration) String() string { return time.Duration(d).String() }

// Parallel is a number of requests in flight: 1 to 4, the API's limit per business.
type Parallel int

// EnvDecode parses the number.
func (p *Parallel) EnvDecode(val string) error {
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 || n > 4 {
		return fmt.Errorf("must be a whole number from 1 to 4 (the API allows 4 requests in flight per business), got %q", val)
	}
	*p = Parallel(n)
	return nil
}

// Confirm says when the user is asked before something reaches a buyer.
type Confirm string

// The approval modes.
const (
	ConfirmAuto   Confirm = "auto"   // ask whenever the client can ask
	ConfirmAlways Confirm = "always" // never send without the user's yes
	ConfirmNever  Confirm = "never"  // send without asking
)

// EnvDecode checks the mode.
func (c *Confirm) EnvDecode(val string) error {
	switch v := Confirm(strings.TrimSpace(val)); v {
	case ConfirmAuto, ConfirmAlways, ConfirmNever:
		*c = v
		return nil
	case "":
		*c = ConfirmAuto
		return nil
	}
	return fmt.Errorf("must be auto, always or never, got %q", val)
}

// Switch is an on-off setting: true or false (also 1 or 0).
type Switch bool

// EnvDecode parses the setting; go-envconfig calls it for an unset variable too, which leaves
// the switch off.
func (s *Switch) EnvDecode(val string) error {
	if val == "" {
		return nil
	}
	v, err := strconv.ParseBool(strings.TrimSpace(val))
	if err != nil {
		return fmt.Errorf("must be true or false, got %q", val)
	}
	*s = Switch(v)
	return nil
}

// switchOn is a Switch as a boolean flag that can only turn it on.
type switchOn Switch

func (s *switchOn) String() string   { return strconv.FormatBool(bool(s != nil && *s)) }
func (s *switchOn) IsBoolFlag() bool { return true }

func (s *switchOn) Set(val string) error {
	var on Switch
	if err := on.EnvDecode(val); err != nil {
		return err
	}
	*s = *s || switchOn(on)
	return nil
}

// Share is a share of a budget: above 0 and at most 1.
type Share float64

// EnvDecode parses the share.
func (s *Share) EnvDecode(val string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil || v <= 0 || v > 1 {
		return fmt.Errorf("must be a number above 0 and at most 1, such as 0.1, got %q", val)
	}
	*s = Share(v)
	return nil
}

// Prefixes are addresses and CIDR ranges, comma-separated.
type Prefixes []netip.Prefix

// EnvDecode parses the list; an address stands for itself alone.
func (p *Prefixes) EnvDecode(val string) error {
	*p = nil
	for item := range strings.SplitSeq(val, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			addr, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return fmt.Errorf("must list addresses or CIDR ranges such as 10.0.0.0/8, got %q", item)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		*p = append(*p, prefix.Masked())
	}
	return nil
}

// Senders are where push notifications are taken from: yandex (Market's documented ranges), any,
// or a list of addresses and ranges.
type Senders string

// EnvDecode checks the setting.
func (s *Senders) EnvDecode(val string) error {
	v := Senders(strings.TrimSpace(val))
	if v == "" {
		v = "yandex"
	}
	if _, _, _, err := v.Parse(); err != nil {
		return err
	}
	*s = v
	return nil
}

// Parse tells whether the senders are Market's documented ranges, any address, or which.
func (s Senders) Parse() (yandex, anywhere bool, prefixes Prefixes, err error) {
	switch s {
	case "yandex":
		return true, false, nil, nil
	case "any":
		return false, true, nil, nil
	}
	if err := prefixes.EnvDecode(string(s)); err != nil {
		return false, false, nil, fmt.Errorf("must be yandex, any, or a list of addresses and CIDR ranges: %w", err)
	}
	return false, false, prefixes, nil
}

// BaseURL is an absolute http or https URL. It may carry a user and password (for a proxy),
// which String hides.
type BaseURL string

// EnvDecode checks a base URL.
func (b *BaseURL) EnvDecode(val string) error {
	u, err := url.Parse(val)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", redactURL(val))
	}
	*b = BaseURL(strings.TrimRight(val, "/"))
	return nil
}

// String shows the URL with its password, if any, as "xxxxx".
func (b BaseURL) String() string { return redactURL(string(b)) }

// GoString hides the password from %#v too.
func (b BaseURL) GoString() string { return strconv.Quote(b.String()) }

// redactURL hides the password of a URL; text that is no URL is hidden whole if it could hold
// one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "[a malformed URL]"
		}
		return raw
	}
	return u.Redacted()
}

// Load reads the configuration from env (the process environment when nil) and then from args,
// the command-line arguments without the program name. It returns flag.ErrHelp when help was
// asked for; Usage prints it.
func Load(ctx context.Context, args []string, env envconfig.Lookuper) (*Config, error) {
	if env == nil {
		env = envconfig.OsLookuper()
	}
	// A variable set to "" counts as unset, as client configurations often carry blank entries.
	nonEmpty := envconfig.LookuperFunc(func(key string) (string, bool) {
		v, ok := env.Lookup(key)
		return v, ok && v != ""
	})
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: nonEmpty}); err != nil {
		return nil, nameVariable(err)
	}
	if err := c.parseFlags(args); err != nil {
		return nil, err
	}
	if c.Version {
		return &c, nil
	}
	return &c, c.validate()
}

func (c *Config) parseFlags(args []string) error {
	fs := flag.NewFlagSet("market-chat-mcp", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Usage prints help; errors are returned
	forEachField(func(f reflect.StructField, v reflect.Value) {
		name := f.Tag.Get("flag")
		if name == "" {
			return
		}
		switch p := v.Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, name, *p, f.Tag.Get("help"))
		case *bool:
			fs.BoolVar(p, name, *p, f.Tag.Get("help"))
		case *Switch:
			// A switch given as a flag can turn the setting on, never off: a client's launch
			// arguments must not lift what an operator set in the environment.
			fs.Var((*switchOn)(p), name, f.Tag.Get("help"))
		}
	}, c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Transport {
	case TransportStdio, TransportHTTP:
	case "sse":
		c.Transport = TransportHTTP
	default:
		return fmt.Errorf("MCP_TRANSPORT (--transport) must be stdio or http, got %q", c.Transport)
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("MCP_ADDR (--addr) must be host:port, such as 127.0.0.1:8080, got %q", c.Addr)
	}
	if c.Transport == TransportHTTP && c.AuthToken == "" && !isLoopback(host) {
		return fmt.Errorf("MCP_ADDR %s is reachable from other machines, so MCP_AUTH_TOKEN must be set: clients then send it as Authorization: Bearer (make one with: openssl rand -hex 32), or listen on 127.0.0.1", c.Addr)
	}
	if c.Transport == TransportHTTP && c.AuthToken == "" && len(c.Origins) > 0 {
		return errors.New("MCP_ALLOWED_ORIGINS lets web pages call the server, so MCP_AUTH_TOKEN must be set too: otherwise any page the seller opens could read and answer the buyers (make a token with: openssl rand -hex 32)")
	}
	roots := c.FileRoots
	c.FileRoots = nil
	for _, root := range roots {
		if root = strings.TrimSpace(root); root != "" { // "a,,b" and a trailing comma
			c.FileRoots = append(c.FileRoots, root)
		}
	}
	if c.NotifyPath != "" {
		if c.Transport != TransportHTTP {
			return errors.New("YANDEX_MARKET_NOTIFY_PATH needs the HTTP transport (MCP_TRANSPORT=http): Market posts its notifications to a URL")
		}
		if !notifyPath.MatchString(c.NotifyPath.Reveal()) {
			return errors.New("YANDEX_MARKET_NOTIFY_PATH must be / and then 32 or more letters, digits, - or _, as it is the only secret between Market and the server; make one with: echo /market-$(openssl rand -hex 24)")
		}
	}
	if c.Stateless && c.Transport != TransportHTTP {
		return errors.New("MCP_HTTP_STATELESS needs the HTTP transport (MCP_TRANSPORT=http): it is for replicas behind a load balancer")
	}
	if c.ConfirmFor <= 0 {
		return errors.New("MCP_CONFIRM_TIMEOUT must be above 0: it is how long the user has to answer before a send, such as 5m")
	}
	if c.Sandbox {
		return nil // the sandbox brings its own business and key
	}
	if c.Cabinets != "" {
		if c.APIKey != "" || c.OAuthToken != "" || c.BusinessID != 0 {
			return errors.New("YANDEX_MARKET_CABINETS_FILE lists the cabinets with their keys, so YANDEX_MARKET_API_KEY, YANDEX_MARKET_OAUTH_TOKEN and YANDEX_MARKET_BUSINESS_ID must be unset")
		}
		return nil
	}
	switch {
	case c.APIKey == "" && c.OAuthToken == "":
		return errors.New("YANDEX_MARKET_API_KEY is not set: create an Api-Key with the communication scope in the seller's cabinet (Settings → API), or run with --sandbox to try the server without an account")
	case c.BusinessID == 0:
		return errors.New("YANDEX_MARKET_BUSINESS_ID is not set: it must be a positive integer, the cabinet id the key belongs to")
	}
	return nil
}

// String describes the configuration without its secrets.
func (c *Config) String() string {
	var b strings.Builder
	forEachField(func(f reflect.StructField, v reflect.Value) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", f.Name, v.Interface())
	}, c)
	return b.String()
}

// Cabinet is a seller's cabinet the server works for: its business id, its credentials, and
// whether the server may only read it.
type Cabinet struct {
	Name       string
	BusinessID int64
	APIKey     Secret
	OAuthToken Secret
	ReadOnly   bool
}

// ListCabinets returns the cabinets: those of YANDEX_MARKET_CABINETS_FILE, or the one of
// YANDEX_MARKET_API_KEY (or YANDEX_MARKET_OAUTH_TOKEN) and YANDEX_MARKET_BUSINESS_ID. env
// looks up the variables a cabinets file names for its keys (the process environment when
// nil).
func (c *Config) ListCabinets(env envconfig.Lookuper) ([]Cabinet, error) {
	if c.Cabinets == "" {
		return []Cabinet{{BusinessID: int64(c.BusinessID),
			APIKey: c.APIKey, OAuthToken: c.OAuthToken}}, nil
	}
	if env == nil {
		env = envconfig.OsLookuper()
	}
	return readCabinets(c.Cabinets, env)
}

// cabinetEntry is a cabinet as the file lists it.
type cabinetEntry struct {
	Name          string `json:"name"`
	BusinessID    int64  `json:"business_id"`
	APIKey        string `json:"api_key"`
	APIKeyEnv     string `json:"api_key_env"`
	OAuthToken    string `json:"oauth_token"`
	OAuthTokenEnv string `json:"oauth_token_env"`
	ReadOnly      bool   `json:"read_only"`
}

// readCabinets reads and checks a cabinets file. Each error is one line that names the file,
// the entry and the rule.
func readCabinets(path string, env envconfig.Lookuper) ([]Cabinet, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("YANDEX_MARKET_CABINETS_FILE %s: "+format, append([]any{path}, args...)...)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fail("%v", errors.Unwrap(err))
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fail("others can read it (mode %v), and it holds keys: chmod 600 %s", info.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fail("%v", errors.Unwrap(err))
	}
	var file struct {
		Cabinets []cabinetEntry `json:"cabinets"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fail("not the expected JSON, {\"cabinets\": [{\"name\", \"business_id\", \"api_key\" or \"api_key_env\", ...}]}: %v", err)
	}
	if len(file.Cabinets) == 0 {
		return nil, fail("lists no cabinet")
	}
	seen := map[int64]int{}
	var out []Cabinet
	for i, e := range file.Cabinets {
		entry := fmt.Sprintf("cabinet %d", i+1)
		if e.Name != "" {
			entry += fmt.Sprintf(" (%q)", e.Name)
		}
		if e.BusinessID <= 0 {
			return nil, fail("%s: business_id must be a positive integer", entry)
		}
		if j, dup := seen[e.BusinessID]; dup {
			return nil, fail("%s: business_id %d is also that of cabinet %d", entry, e.BusinessID, j)
		}
		seen[e.BusinessID] = i + 1
		key, err := secretOf(e.APIKey, e.APIKeyEnv, env)
		if err != nil {
			return nil, fail("%s: api_key: %v", entry, err)
		}
		token, err := secretOf(e.OAuthToken, e.OAuthTokenEnv, env)
		if err != nil {
			return nil, fail("%s: oauth_token: %v", entry, err)
		}
		if key == "" && token == "" {
			return nil, fail("%s: has no key: give api_key, api_key_env (the variable that holds it), oauth_token or oauth_token_env", entry)
		}
		out = append(out, Cabinet{Name: e.Name, BusinessID: e.BusinessID, APIKey: key, OAuthToken: token, ReadOnly: e.ReadOnly})
	}
	return out, nil
}

// secretOf returns a secret given in the file, or in the variable the file names.
func secretOf(value, variable string, env envconfig.Lookuper) (Secret, error) {
	if value != "" && variable != "" {
		return "", errors.New("give the value or the variable, not both")
	}
	if variable != "" {
		v, ok := env.Lookup(variable)
		if !ok || v == "" {
			return "", fmt.Errorf("the variable %s is not set", variable)
		}
		value = v
	}
	var s Secret
	return s, s.EnvDecode(value)
}

// Usage prints the help: the flags and every variable.
func Usage(w io.Writer) {
	fmt.Fprint(w, `market-chat-mcp: an MCP server for the buyer chats of Yandex Market sellers.

Usage:
  market-chat-mcp [flags]        serve MCP (stdio by default)
  market-chat-mcp demo           run every tool once against the built-in sandbox and print the results
  market-chat-mcp health         ask the HTTP listener at MCP_ADDR for /healthz: exit 0 when it is up

Flags (each wins over its variable):
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	forEachField(func(f reflect.StructField, _ reflect.Value) {
		if name := f.Tag.Get("flag"); name != "" {
			fmt.Fprintf(tw, "  --%s\t%s\n", name, f.Tag.Get("help"))
		}
	}, &Config{})
	tw.Flush()
	fmt.Fprint(w, "\nEnvironment:\n")
	for _, v := range Variables() {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", v.Name, v.Help, def)
	}
	tw.Flush()
}

// Variable is one environment variable of the configuration, as Config declares it.
type Variable struct {
	Name    string
	Help    string
	Default string // empty when it has none
	Secret  bool   // never shown: keys, tokens, secret paths
}

// Variables lists the environment variables in the order Config declares them, for the usage,
// the README and the descriptions of the release's packages.
func Variables() []Variable {
	var vs []Variable
	forEachField(func(f reflect.StructField, _ reflect.Value) {
		if name, def := envTag(f); name != "" {
			vs = append(vs, Variable{Name: name, Help: f.Tag.Get("help"), Default: def, Secret: f.Type == reflect.TypeFor[Secret]()})
		}
	}, &Config{})
	return vs
}

// notifyPath is what a notification path must look like: long and random enough to be a secret.
var notifyPath = regexp.MustCompile(`^/[A-Za-z0-9_-]{32,200}$`)

// isLoopback reports whether a listen host binds only to the loopback interface; an empty host
// binds to every interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func forEachField(fn func(reflect.StructField, reflect.Value), c *Config) {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		fn(v.Type().Field(i), v.Field(i))
	}
}

// envTag returns a field's variable name and default.
func envTag(f reflect.StructField) (name, def string) {
	parts := strings.Split(f.Tag.Get("env"), ",")
	for _, p := range parts[1:] {
		if d, ok := strings.CutPrefix(strings.TrimSpace(p), "default="); ok {
			def = d
		}
	}
	return strings.TrimSpace(parts[0]), def
}

// nameVariable rewrites go-envconfig's "Field: problem" into "VARIABLE problem".
func nameVariable(err error) error {
	field, problem, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return err
	}
	f, found := reflect.TypeFor[Config]().FieldByName(field)
	if !found {
		return err
	}
	name, _ := envTag(f)
	return fmt.Errorf("%s %s", name, problem)
}
