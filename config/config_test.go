package config

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

var valid = map[string]string{
	"YANDEX_MARKET_API_KEY":     "ACMA:secret-key:1234",
	"YANDEX_MARKET_BUSINESS_ID": "7654321",
}

func with(base map[string]string, kv ...string) envconfig.Lookuper {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return envconfig.MapLookuper(m)
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(context.Background(), nil, with(valid))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey.Reveal() != "ACMA:secret-key:1234" || c.BusinessID != 7654321 {
		t.Errorf("credentials = %q, %d", c.APIKey.Reveal(), c.BusinessID)
	}
	if c.BaseURL != "https://api.partner.market.yandex.ru" || c.Transport != TransportStdio || c.Addr != "127.0.0.1:8080" {
		t.Errorf("defaults = %q %q %q", c.BaseURL, c.Transport, c.Addr)
	}
	if bool(c.ReadOnly) || c.Sandbox || len(c.FileRoots) != 0 || c.LogLevel.String() != "INFO" || c.MaxWait.String() != "30s" || c.Parallel != 4 {
		t.Errorf("unexpected defaults: %s", c)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	env := with(valid, "MCP_TRANSPORT", "stdio", "MCP_ADDR", "127.0.0.1:1", "MCP_READ_ONLY", "false")
	c, err := Load(context.Background(), []string{"--transport", "sse", "--addr", "127.0.0.1:9000", "--read-only"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != TransportHTTP || c.Addr != "127.0.0.1:9000" || !bool(c.ReadOnly) {
		t.Errorf("got transport %q addr %q read-only %v", c.Transport, c.Addr, c.ReadOnly)
	}
}

func TestEnvironmentAlone(t *testing.T) {
	dir := t.TempDir()
	env := with(valid, "MCP_TRANSPORT", "http", "MCP_READ_ONLY", "true", "MCP_FILE_ROOTS", dir+",,"+dir,
		"MCP_LOG_LEVEL", "debug", "YANDEX_MARKET_BASE_URL", "http://127.0.0.1:1234/")
	c, err := Load(context.Background(), nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != TransportHTTP || !bool(c.ReadOnly) || c.LogLevel.String() != "DEBUG" || c.BaseURL != "http://127.0.0.1:1234" {
		t.Errorf("got %s", c)
	}
	if want := []string{dir, dir}; fmt.Sprint(c.FileRoots) != fmt.Sprint(want) {
		t.Errorf("FileRoots = %v, want %v", c.FileRoots, want)
	}
}

func TestRemoteListeningWithToken(t *testing.T) {
	env := with(valid, "MCP_TRANSPORT", "http", "MCP_ADDR", "0.0.0.0:8080", "MCP_AUTH_TOKEN", "t0ken",
		"MCP_ALLOWED_ORIGINS", "https://a.example,https://b.example")
	c, err := Load(context.Background(), nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthToken.Reveal() != "t0ken" || fmt.Sprint(c.Origins) != "[https://a.example https://b.example]" {
		t.Errorf("got %s", c)
	}
	// stdio never listens, so no token is needed whatever MCP_ADDR says.
	if _, err := Load(context.Background(), nil, with(valid, "MCP_ADDR", "0.0.0.0:8080")); err != nil {
		t.Error(err)
	}
}

func TestNotificationSettings(t *testing.T) {
	path := "/market-" + strings.Repeat("0f", 16)
	c, err := Load(context.Background(), nil, with(valid, "MCP_TRANSPORT", "http", "YANDEX_MARKET_NOTIFY_PATH", path,
		"YANDEX_MARKET_NOTIFY_FROM", "5.45.207.0/25, 10.1.2.3", "MCP_TRUSTED_PROXIES", "127.0.0.1", "YANDEX_MARKET_POLL_SHARE", "0.25"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, from, _ := c.NotifyFrom.Parse(); c.NotifyPath.Reveal() != path || fmt.Sprint(from) != "[5.45.207.0/25 10.1.2.3/32]" || fmt.Sprint(c.Proxies) != "[127.0.0.1/32]" || c.PollShare != 0.25 {
		t.Errorf("got %s", c)
	}
	if strings.Contains(c.String(), path) {
		t.Errorf("the notification path shows: %s", c)
	}
	d, err := Load(context.Background(), nil, with(valid))
	if yandex, _, _, _ := d.NotifyFrom.Parse(); err != nil || !yandex || d.PollShare != 0.1 {
		t.Errorf("defaults: %s, %v", d, err)
	}
}

func TestSandboxNeedsNoCredentials(t *testing.T) {
	if _, err := Load(context.Background(), []string{"--sandbox"}, with(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestBadSettingsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  envconfig.Lookuper
		args []string
		want string
	}{
		{with(valid, "YANDEX_MARKET_BUSINESS_ID", "abc"), nil, `YANDEX_MARKET_BUSINESS_ID must be a positive integer (the cabinet id shown in the seller's cabinet), got "abc"`},
		{with(valid, "YANDEX_MARKET_BUSINESS_ID", "-5"), nil, `YANDEX_MARKET_BUSINESS_ID must be a positive integer`},
		{with(valid, "YANDEX_MARKET_BUSINESS_ID", ""), nil, `YANDEX_MARKET_BUSINESS_ID is not set`},
		{with(valid, "YANDEX_MARKET_API_KEY", ""), nil, `YANDEX_MARKET_API_KEY is not set`},
		{with(valid, "YANDEX_MARKET_BASE_URL", "ftp://example.com"), nil, `YANDEX_MARKET_BASE_URL must be an absolute http or https URL, got "ftp://example.com"`},
		{with(valid, "MCP_TRANSPORT", "websocket"), nil, `MCP_TRANSPORT (--transport) must be stdio or http, got "websocket"`},
		{with(valid), []string{"--transport", "grpc"}, `MCP_TRANSPORT (--transport) must be stdio or http, got "grpc"`},
		{with(valid, "MCP_ADDR", "8080"), nil, `MCP_ADDR (--addr) must be host:port`},
		{with(valid, "MCP_READ_ONLY", "yes"), nil, `MCP_READ_ONLY must be true or false, got "yes"`},
		{with(valid), []string{"--read-only=perhaps"}, `invalid boolean value "perhaps" for -read-only: must be true or false`},
		{with(valid, "MCP_TRANSPORT", "http", "MCP_ALLOWED_ORIGINS", "*"), nil, `MCP_ALLOWED_ORIGINS lets web pages call the server, so MCP_AUTH_TOKEN must be set too`},
		{with(valid, "MCP_TRANSPORT", "http", "MCP_ALLOWED_ORIGINS", "https://app.example"), nil, `MCP_AUTH_TOKEN must be set too`},
		{with(valid, "YANDEX_MARKET_API_KEY", "ACMA:secret-key\n:1234"), nil, `YANDEX_MARKET_API_KEY must be one word without spaces or line breaks`},
		{with(valid, "MCP_TRANSPORT", "http", "MCP_AUTH_TOKEN", "two words"), nil, `MCP_AUTH_TOKEN must be one word without spaces or line breaks`},
		{with(valid, "YANDEX_MARKET_BASE_URL", "ftp://user:secret-key@example.com"), nil, `YANDEX_MARKET_BASE_URL must be an absolute http or https URL, got "ftp://user:xxxxx@example.com"`},
		{with(valid, "MCP_ADDR", "0.0.0.0:8080"), []string{"--transport", "http"}, `MCP_ADDR 0.0.0.0:8080 is reachable from other machines, so MCP_AUTH_TOKEN must be set`},
		{with(valid, "MCP_TRANSPORT", "http"), []string{"--addr", ":8080"}, `MCP_AUTH_TOKEN must be set`},
		{with(valid, "YANDEX_MARKET_MAX_WAIT", "soon"), nil, `YANDEX_MARKET_MAX_WAIT must be a duration such as 30s or 2m, got "soon"`},
		{with(valid, "YANDEX_MARKET_MAX_PARALLEL", "8"), nil, `YANDEX_MARKET_MAX_PARALLEL must be a whole number from 1 to 4`},
		{with(valid, "MCP_LOG_LEVEL", "loud"), nil, `MCP_LOG_LEVEL must be debug, info, warn or error, got "loud"`},
		{with(valid, "MCP_TRANSPORT", "http", "YANDEX_MARKET_NOTIFY_PATH", "/notify"), nil, `YANDEX_MARKET_NOTIFY_PATH must be / and then 32 or more letters`},
		{with(valid, "YANDEX_MARKET_NOTIFY_PATH", "/"+strings.Repeat("a", 40)), nil, `YANDEX_MARKET_NOTIFY_PATH needs the HTTP transport`},
		{with(valid, "YANDEX_MARKET_POLL_SHARE", "0"), nil, `YANDEX_MARKET_POLL_SHARE must be a number above 0 and at most 1, such as 0.1, got "0"`},
		{with(valid, "YANDEX_MARKET_POLL_SHARE", "10%"), nil, `YANDEX_MARKET_POLL_SHARE must be a number above 0 and at most 1`},
		{with(valid, "YANDEX_MARKET_NOTIFY_FROM", "yandex.ru"), nil, `YANDEX_MARKET_NOTIFY_FROM must be yandex, any, or a list of addresses and CIDR ranges`},
		{with(valid, "MCP_TRUSTED_PROXIES", "10.0.0.0/33"), nil, `MCP_TRUSTED_PROXIES must list addresses or CIDR ranges such as 10.0.0.0/8, got "10.0.0.0/33"`},
		{with(valid, "MCP_CONFIRM_SENDS", "maybe"), nil, `MCP_CONFIRM_SENDS must be auto, always or never, got "maybe"`},
		{with(valid, "MCP_CONFIRM_TIMEOUT", "0"), nil, `MCP_CONFIRM_TIMEOUT must be above 0`},
		{with(valid, "MCP_CONFIRM_TIMEOUT", "a while"), nil, `MCP_CONFIRM_TIMEOUT must be a duration such as 30s or 2m, got "a while"`},
		{with(valid), []string{"--bogus"}, `flag provided but not defined: -bogus`},
		{with(valid), []string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		_, err := Load(context.Background(), tt.args, tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) error = %v, want it to contain %q", tt.args, err, tt.want)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("the error takes more than a line: %q", err)
		}
		if err != nil && strings.Contains(err.Error(), "secret-key") {
			t.Errorf("error shows the key: %v", err)
		}
	}
}

func TestHelp(t *testing.T) {
	_, err := Load(context.Background(), []string{"--help"}, with(valid))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	var b bytes.Buffer
	Usage(&b)
	for _, v := range []string{"YANDEX_MARKET_API_KEY", "YANDEX_MARKET_OAUTH_TOKEN", "YANDEX_MARKET_BUSINESS_ID",
		"YANDEX_MARKET_BASE_URL", "MCP_TRANSPORT", "MCP_ADDR", "MCP_AUTH_TOKEN", "MCP_READ_ONLY", "MCP_FILE_ROOTS",
		"--transport", "--addr", "--read-only", "--sandbox", "--version", "demo"} {
		if !strings.Contains(b.String(), v) {
			t.Errorf("help does not mention %s", v)
		}
	}
}

// TestReadOnlyCannotBeLifted: the operator's MCP_READ_ONLY=true stays whatever flags a
// client's launch arguments add; either source switches it on.
func TestReadOnlyCannotBeLifted(t *testing.T) {
	for _, tt := range []struct {
		env  string
		args []string
		want bool
	}{
		{"true", []string{"--read-only=false"}, true},
		{"true", nil, true},
		{"", []string{"--read-only"}, true},
		{"false", []string{"--read-only=true"}, true},
		{"false", nil, false},
		{"", []string{"--read-only=false"}, false},
	} {
		c, err := Load(context.Background(), tt.args, with(valid, "MCP_READ_ONLY", tt.env))
		if err != nil || bool(c.ReadOnly) != tt.want {
			t.Errorf("MCP_READ_ONLY=%q %v: read-only %v, %v; want %v", tt.env, tt.args, c.ReadOnly, err, tt.want)
		}
	}
}

// TestSecretsAreTrimmed: a secret mounted from a file ends with a line break; it is taken
// without it.
func TestSecretsAreTrimmed(t *testing.T) {
	c, err := Load(context.Background(), nil, with(valid, "YANDEX_MARKET_API_KEY", "ACMA:secret-key:1234\n", "MCP_AUTH_TOKEN", " t0ken\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.APIKey.Reveal() != "ACMA:secret-key:1234" || c.AuthToken.Reveal() != "t0ken" {
		t.Errorf("key %q, token %q", c.APIKey.Reveal(), c.AuthToken.Reveal())
	}
}

func TestStringHidesSecrets(t *testing.T) {
	c, err := Load(context.Background(), nil, with(valid, "MCP_AUTH_TOKEN", "bearer-secret", "YANDEX_MARKET_BASE_URL", "https://proxy:secret-key@proxy.example/market"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, *c, *c)} {
		if strings.Contains(s, "secret-key") || strings.Contains(s, "bearer-secret") {
			t.Errorf("secret shown: %s", s)
		}
	}
	if !strings.Contains(c.String(), "APIKey=[set]") || !strings.Contains(c.String(), "OAuthToken=[unset]") ||
		!strings.Contains(c.String(), "BaseURL=https://proxy:xxxxx@proxy.example/market") {
		t.Errorf("String() = %s", c)
	}
}

func cabinetsFile(t *testing.T, mode os.FileMode, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cabinets.json")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCabinetsFile(t *testing.T) {
	p := cabinetsFile(t, 0o600, `{"cabinets": [
		{"name": "Бренд А", "business_id": 111, "api_key": "ACMA:keyA:1"},
		{"name": "Бренд Б", "business_id": 222, "api_key_env": "BRAND_B_KEY", "read_only": true},
		{"business_id": 333, "oauth_token": "y0_token"}
	]}`)
	env := with(nil, "YANDEX_MARKET_CABINETS_FILE", p, "BRAND_B_KEY", "ACMA:keyB:2\n")
	c, err := Load(context.Background(), nil, env)
	if err != nil {
		t.Fatal(err)
	}
	cabs, err := c.ListCabinets(env)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%+v", cabs)
	want := "[{Name:Бренд А BusinessID:111 APIKey:[set] OAuthToken:[unset] ReadOnly:false} {Name:Бренд Б BusinessID:222 APIKey:[set] OAuthToken:[unset] ReadOnly:true} {Name: BusinessID:333 APIKey:[unset] OAuthToken:[set] ReadOnly:false}]"
	if got != want || cabs[1].APIKey.Reveal() != "ACMA:keyB:2" {
		t.Errorf("cabinets %s", got)
	}
	single, _ := Load(context.Background(), nil, with(valid))
	if cabs, err := single.ListCabinets(nil); err != nil || len(cabs) != 1 || cabs[0].BusinessID != 7654321 {
		t.Errorf("the single cabinet: %+v, %v", cabs, err)
	}
}

func TestBadCabinetsFiles(t *testing.T) {
	for _, tt := range []struct {
		mode os.FileMode
		body string
		want string
	}{
		{0o644, `{"cabinets":[{"business_id":1,"api_key":"k"}]}`, "others can read it (mode -rw-r--r--), and it holds keys: chmod 600"},
		{0o600, `{"cabinets":[`, "not the expected JSON"},
		{0o600, `{"cabinets":[{"business_id":1,"api_kye":"k"}]}`, `unknown field "api_kye"`},
		{0o600, `{"cabinets":[]}`, "lists no cabinet"},
		{0o600, `{"cabinets":[{"name":"А","business_id":1,"api_key":"k1"},{"name":"Б","business_id":1,"api_key":"k2"}]}`, `cabinet 2 ("Б"): business_id 1 is also that of cabinet 1`},
		{0o600, `{"cabinets":[{"name":"А","business_id":1}]}`, `cabinet 1 ("А"): has no key`},
		{0o600, `{"cabinets":[{"business_id":1,"api_key_env":"NOT_SET"}]}`, "cabinet 1: api_key: the variable NOT_SET is not set"},
		{0o600, `{"cabinets":[{"business_id":0,"api_key":"k"}]}`, "business_id must be a positive integer"},
	} {
		p := cabinetsFile(t, tt.mode, tt.body)
		env := with(nil, "YANDEX_MARKET_CABINETS_FILE", p)
		c, err := Load(context.Background(), nil, env)
		if err == nil {
			_, err = c.ListCabinets(env)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line naming the file and %q", tt.body, err, tt.want)
		}
	}
	if _, err := Load(context.Background(), nil, with(valid, "YANDEX_MARKET_CABINETS_FILE", "/x")); err == nil || !strings.Contains(err.Error(), "must be unset") {
		t.Errorf("both a file and a key: %v", err)
	}
}
