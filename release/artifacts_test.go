//go:build release

// The tests of what a release build made in ../dist, run by CI after
//
//	RELEASE_GOOS=linux goreleaser release --snapshot --clean --skip=docker,publish
//	go run ./release dist
//	go test -tags release ./release
//
// They start the server as each kind of user would: from the archive, from the bundle as
// Claude Desktop does, and from the container image (which needs podman).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/nodetools"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

const distDir = "../dist"

// built reads ../dist, or fails with what to run first.
func built(t *testing.T) *dist {
	t.Helper()
	d, err := readDist(distDir)
	if err != nil {
		t.Fatalf("%v: run GoReleaser and go run ./release dist first (see .ci/run)", err)
	}
	for i := range d.artifacts {
		d.artifacts[i].Path = filepath.Join("..", d.artifacts[i].Path) // GoReleaser ran in the root
	}
	return d
}

// session initializes a client, lists the tools and returns their names.
func session(t *testing.T, c *client.Client) (*mcp.InitializeResult, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	t.Cleanup(func() { c.Close() })
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_PROTOCOL_VERSION,
		ClientInfo:      mcp.Implementation{Name: "release-test", Version: "1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return init, names
}

func declared(readOnly bool) []string {
	var names []string
	for _, d := range tools.All {
		if def := d.Definition(); !readOnly || def.Annotations.ReadOnlyHint != nil && *def.Annotations.ReadOnlyHint {
			names = append(names, def.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestArchive unpacks the host's archive and runs what a seller who downloads it runs.
func TestArchive(t *testing.T) {
	d := built(t)
	var archive string
	for _, a := range d.artifacts {
		if a.Type == "Archive" && a.Goos == runtime.GOOS && a.Goarch == runtime.GOARCH {
			archive = a.Path
		}
	}
	if archive == "" {
		t.Fatalf("no archive for %s/%s in %s", runtime.GOOS, runtime.GOARCH, distDir)
	}
	bin := filepath.Join(t.TempDir(), project)
	extract(t, archive, project, bin)

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := project + " " + d.Version + "\n"; err != nil || string(out) != want {
		t.Errorf("--version said %q (%v), want %q", out, err, want)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("built with CGO_ENABLED=%s -trimpath=%s, want a static build without local paths", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	if !slices.ContainsFunc(info.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Error("the binary lacks its own certificate authorities, which the image from scratch needs")
	}
	if f, err := elf.Open(bin); err == nil {
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary asks for a dynamic loader: it is not static")
			}
		}
	}

	c, err := client.NewStdioMCPClientWithOptions(bin, nil, []string{"--sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	init, names := session(t, c)
	if init.ServerInfo.Version != d.Version || !slices.Equal(names, declared(false)) {
		t.Errorf("server %s %s with tools %v", init.ServerInfo.Name, init.ServerInfo.Version, names)
	}
}

// extract copies the file name of a .tar.gz to dst.
func extract(t *testing.T, archive, name, dst string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", archive, name, err)
		}
		if h.Name == name {
			out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, tr); err != nil {
				t.Fatal(err)
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
}

// hostConfig is a script that asks mcpb's own code for the command Claude Desktop runs: the
// manifest's mcp_config with the platform's override and the user's settings substituted.
const hostConfig = `import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";
import { readFileSync } from "node:fs";
const [dir, userConfig] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(dir + "/manifest.json", "utf8"));
const config = await getMcpConfigForManifest({
  manifest, extensionPath: dir, userConfig: JSON.parse(userConfig), pathSeparator: "/",
  systemDirs: { HOME: process.env.HOME, DESKTOP: process.env.HOME, DOCUMENTS: process.env.HOME, DOWNLOADS: process.env.HOME },
});
if (!config) { console.error("the host would not start the extension"); process.exit(1); }
console.log(JSON.stringify(config));
`

// TestBundle unpacks the host system's bundle as Claude Desktop installs it and starts the
// server the way the host does, once with the defaults and once read-only.
func TestBundle(t *testing.T) {
	d := built(t)
	node, err := nodetools.Install("node")
	if err != nil {
		t.Fatal(err)
	}
	mcpb, err := node.Command("@anthropic-ai/mcpb", "mcpb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(node.Node(), mcpb, "unpack", filepath.Join(distDir, bundleName(d.Version, runtime.GOOS)), dir).CombinedOutput(); err != nil {
		t.Fatalf("mcpb unpack: %v\n%s", err, out)
	}
	var m Manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != d.Version || !slices.Equal(slices.Sorted(slices.Values(m.toolNames())), declared(false)) {
		t.Errorf("the bundle's manifest is version %s with tools %v", m.Version, m.toolNames())
	}
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "host.mjs"), []byte(hostConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := node.Link(scripts); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		t.Run("read_only="+strconv.FormatBool(readOnly), func(t *testing.T) {
			user, _ := json.Marshal(map[string]any{"api_key": "release-test-key", "business_id": "4242", "read_only": readOnly})
			out, err := exec.Command(node.Node(), filepath.Join(scripts, "host.mjs"), dir, string(user)).Output()
			if err != nil {
				t.Fatalf("the host's configuration: %v", err)
			}
			var cfg MCPConfig
			if err := json.Unmarshal(out, &cfg); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(cfg.Command, "${") || cfg.Env["YANDEX_MARKET_API_KEY"] != "release-test-key" || cfg.Env["MCP_FILE_ROOTS"] != "" {
				t.Fatalf("the host would run %s with %v", cfg.Command, cfg.Env)
			}
			var env []string
			for k, v := range cfg.Env {
				env = append(env, k+"="+v)
			}
			stderr := &bytes.Buffer{}
			c, err := client.NewStdioMCPClientWithOptions(cfg.Command, env, cfg.Args, transport.WithCommandStderrWriter(stderr))
			if err != nil {
				t.Fatal(err)
			}
			init, names := session(t, c)
			if init.ServerInfo.Name != project || !slices.Equal(names, declared(readOnly)) {
				t.Errorf("server %s with tools %v; its stderr:\n%s", init.ServerInfo.Name, names, stderr)
			}
		})
	}
}

// TestServerJSONOfRelease validates dist/server.json against the schema that the registry's
// own module ships, fetched by the Go toolchain, and makes sure the copy the plain tests use
// is that file.
func TestServerJSONOfRelease(t *testing.T) {
	d := built(t)
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/modelcontextprotocol/registry@v1.8.9").Output()
	if err != nil {
		t.Fatalf("go mod download: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(mod.Dir, "docs", "reference", "server-json", "draft", "server.schema.json")
	theirs, err := os.ReadFile(schema)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile("testdata/server.schema.json")
	if err != nil || !bytes.Equal(ours, theirs) {
		t.Errorf("testdata/server.schema.json is not the registry's %s (%v)", schema, err)
	}
	var bundles []bundle
	for _, p := range platforms {
		path := filepath.Join(distDir, bundleName(d.Version, p.goos))
		if _, err := os.Stat(path); err == nil {
			bundles = append(bundles, bundle{goos: p.goos, path: path})
		}
	}
	raw, err := os.ReadFile(filepath.Join(distDir, "server.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkServerJSON(t, raw, schema, bundles)
}

// TestImage builds the Containerfile from the host's Linux binary, as GoReleaser lays out its
// context, and runs it: healthy, serving MCP with the token, refusing to start without one.
func TestImage(t *testing.T) {
	d := built(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is needed to build and run the image (on Debian: apt-get install podman runc)")
	}
	bin := d.binary("linux", runtime.GOARCH)
	if bin == "" {
		t.Fatalf("no linux/%s binary in %s", runtime.GOARCH, distDir)
	}
	platform := "linux/" + runtime.GOARCH
	ctxDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ctxDir, platform), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(ctxDir, platform, project), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	tag := "localhost/" + project + ":release-test"
	podman(t, "build", "--quiet", "--format", "docker", "--platform", platform, "--build-arg", "TARGETPLATFORM="+platform,
		"-f", "../Containerfile", "-t", tag, ctxDir)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", tag).Run() })

	var inspected []struct {
		Config struct {
			User   string
			Labels map[string]string
			Env    []string
		}
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(podman(t, "image", "inspect", tag)), &inspected); err != nil || len(inspected) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	cfg, check := inspected[0].Config, inspected[0].Healthcheck
	if cfg.Labels["io.modelcontextprotocol.server.name"] != registryName || cfg.User == "" || strings.HasPrefix(cfg.User, "0") ||
		!slices.Contains(cfg.Env, "MCP_ADDR=0.0.0.0:8080") || !slices.Contains(check.Test, "health") {
		t.Errorf("image configuration %+v, health check %v", cfg, check.Test)
	}

	if out, err := exec.Command("podman", "run", "--rm", tag).CombinedOutput(); err == nil || !strings.Contains(string(out), "MCP_AUTH_TOKEN") {
		t.Errorf("without a token the container said %q (%v), want a refusal naming MCP_AUTH_TOKEN", out, err)
	}

	port := freePort(t)
	const token = "release-test-token-0123456789"
	id := strings.TrimSpace(podman(t, "run", "--detach", "--publish", "127.0.0.1:"+port+":8080", "--env", "MCP_AUTH_TOKEN="+token, tag, "--sandbox"))
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("podman", "logs", id).CombinedOutput()
			t.Logf("the container's log:\n%s", out)
		}
		exec.Command("podman", "rm", "-f", id).Run()
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered 200: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	podman(t, "healthcheck", "run", id) // exits 0 when the image's own check passes

	c, err := client.NewStreamableHttpClient(base+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	init, names := session(t, c)
	if init.ServerInfo.Version != d.Version || !slices.Equal(names, declared(false)) {
		t.Errorf("the image serves %s %s with tools %v", init.ServerInfo.Name, init.ServerInfo.Version, names)
	}
	res, err := c.CallTool(t.Context(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_chats", Arguments: map[string]any{}}})
	if err != nil || res.IsError {
		t.Errorf("list_chats in the container's sandbox: %v %+v", err, res)
	}

	// As README says, -i with MCP_TRANSPORT=stdio makes the image a stdio server, as registry
	// clients run it.
	stdio, err := client.NewStdioMCPClient("podman", nil, "run", "-i", "--rm", "-e", "MCP_TRANSPORT=stdio", tag, "--sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if init, names := session(t, stdio); init.ServerInfo.Version != d.Version || !slices.Equal(names, declared(false)) {
		t.Errorf("over stdio the image serves %s %s with tools %v", init.ServerInfo.Name, init.ServerInfo.Version, names)
	}
}

// podman runs a podman command and returns its output, failing the test on an error.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("podman", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
