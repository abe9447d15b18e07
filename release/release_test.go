package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/yandex-market-mcp/market-chat-mcp/config"
	"github.com/yandex-market-mcp/market-chat-mcp/tools"
)

var update = flag.Bool("update", false, "rewrite mcpb/manifest.json from the declarations")

// committedVersion is the version of the committed manifest; the release step sets the real one.
const committedVersion = "0.0.0"

func TestManifestIsCurrent(t *testing.T) {
	m, err := manifest(committedVersion)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	path := filepath.FromSlash(strings.TrimPrefix(manifestFile, "release/"))
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("mcpb/manifest.json is out of date with the tools or settings: run go test ./release -update")
	}
}

func TestManifestSettings(t *testing.T) {
	m, err := manifest(committedVersion)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range tools.All {
		names = append(names, d.Definition().Name)
	}
	if !slices.Equal(m.toolNames(), names) {
		t.Errorf("tools %v, want the declared %v", m.toolNames(), names)
	}
	key := m.UserConfig["api_key"]
	if !key.Sensitive || !key.Required {
		t.Errorf("api_key is %+v: the key must be required and stored as a secret", key)
	}
	for k, u := range m.UserConfig {
		if !u.Required && u.Default == nil {
			t.Errorf("%s has no default: the host would pass its placeholder", k)
		}
		if u.Description == "" {
			t.Errorf("%s has no description", k)
		}
	}
	if got := m.UserConfig["confirm_sends"].Default; got != "auto" {
		t.Errorf("confirm_sends defaults to %v, the server's own default is auto", got)
	}
	// Every variable the host sets is one the server reads, and read as set: unset optional
	// settings arrive as "" (a directory the seller did not choose) or false.
	t.Setenv("YANDEX_MARKET_API_KEY", "k")
	t.Setenv("YANDEX_MARKET_BUSINESS_ID", "12345")
	for env, value := range m.Server.MCPConfig.Env {
		key := strings.TrimSuffix(strings.TrimPrefix(value, "${user_config."), "}")
		u, ok := m.UserConfig[key]
		if !ok {
			t.Fatalf("%s is set from %s, which is not a user option", env, value)
		}
		if !u.Required {
			t.Setenv(env, strings.ToLower(strings.TrimSpace(jsonString(u.Default))))
		}
	}
	cfg, err := config.Load(t.Context(), nil, nil)
	if err != nil {
		t.Fatalf("the defaults the host passes do not load: %v", err)
	}
	if cfg.ReadOnly || len(cfg.FileRoots) != 0 || cfg.Confirm != "auto" {
		t.Errorf("with the defaults: read-only %v, file roots %q, confirm %q", cfg.ReadOnly, cfg.FileRoots, cfg.Confirm)
	}
}

// jsonString is a default as the host substitutes it: booleans as true or false.
func jsonString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

func TestBundleFiles(t *testing.T) {
	bin := func(goos, goarch string) artifact {
		return artifact{Type: "Binary", Goos: goos, Goarch: goarch, Path: "dist/" + goos + "_" + goarch + "/" + project}
	}
	d := &dist{Version: "1.2.3", artifacts: []artifact{bin("linux", "amd64"), bin("linux", "arm64"), bin("darwin", "amd64"),
		bin("darwin", "arm64"), bin("darwin", "all"), {Type: "Archive", Goos: "windows", Goarch: "amd64", Path: "x.zip"}}}
	linux, err := d.bundleFiles("linux")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{entry: launcherFile, "server/linux-amd64/" + project: "dist/linux_amd64/" + project,
		"server/linux-arm64/" + project: "dist/linux_arm64/" + project}
	if !mapsEqual(linux, want) {
		t.Errorf("linux bundle %v, want %v", linux, want)
	}
	if mac, err := d.bundleFiles("darwin"); err != nil || !mapsEqual(mac, map[string]string{entry: "dist/darwin_all/" + project}) {
		t.Errorf("macOS bundle %v, %v: want the universal binary alone", mac, err)
	}
	if win, err := d.bundleFiles("windows"); err != nil || win != nil {
		t.Errorf("windows bundle %v, %v: an archive is no binary, so none", win, err)
	}
	d.artifacts = d.artifacts[1:]
	if _, err := d.bundleFiles("linux"); err == nil || !strings.Contains(err.Error(), "linux") {
		t.Errorf("a Linux bundle without its arm64 build: %v, want an error", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// registrySchema compiles the MCP Registry's server.json schema from path.
func registrySchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkServerJSON validates raw against the schema at schemaPath and the rules the registry
// adds to it, with the bundles it must name.
func checkServerJSON(t *testing.T, raw []byte, schemaPath string, bundles []bundle) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := registrySchema(t, schemaPath).Validate(doc); err != nil {
		t.Fatalf("server.json does not follow the registry's schema: %v", err)
	}
	var s ServerJSON
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != schemaURL || s.Name != registryName || len(s.Description) > 100 {
		t.Errorf("$schema %s, name %s, description of %d characters", s.Schema, s.Name, len(s.Description))
	}
	if want := "io.github." + strings.TrimPrefix(modulePath(t), "github.com/"); s.Name != want {
		t.Errorf("name %s does not follow the module path %s", s.Name, modulePath(t))
	}
	var mcpbs int
	for _, p := range s.Packages {
		switch p.RegistryType {
		case "mcpb":
			b := bundles[mcpbs]
			mcpbs++
			sum, err := sha256File(b.path)
			if err != nil {
				t.Fatal(err)
			}
			if p.FileSHA256 != sum || !strings.HasSuffix(p.Identifier, "/v"+s.Version+"/"+filepath.Base(b.path)) {
				t.Errorf("package %s (sha256 %s) does not name %s (sha256 %s)", p.Identifier, p.FileSHA256, b.path, sum)
			}
		case "oci":
			if p.Identifier != image+":"+s.Version {
				t.Errorf("image %s, want %s:%s", p.Identifier, image, s.Version)
			}
			secrets := map[string]bool{}
			for _, v := range p.EnvironmentVariables {
				secrets[v.Name] = v.IsSecret
			}
			for _, v := range config.Variables() {
				if secret, ok := secrets[v.Name]; !ok || secret != v.Secret {
					t.Errorf("image variable %s: listed %v, secret %v; the server's is secret %v", v.Name, ok, secret, v.Secret)
				}
			}
		default:
			t.Errorf("unexpected package %+v", p)
		}
	}
	if mcpbs != len(bundles) {
		t.Errorf("%d bundles named, want %d", mcpbs, len(bundles))
	}
}

// modulePath is the module's path, from go.mod.
func modulePath(t *testing.T) string {
	raw, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	return strings.TrimPrefix(first, "module ")
}

func TestServerJSON(t *testing.T) {
	dir := t.TempDir()
	var bundles []bundle
	for _, p := range platforms {
		b := bundle{goos: p.goos, path: filepath.Join(dir, bundleName("1.2.3", p.goos))}
		if err := os.WriteFile(b.path, []byte("bundle for "+p.goos), 0o644); err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, b)
	}
	s, err := serverJSON("1.2.3", bundles)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	checkServerJSON(t, raw, "testdata/server.schema.json", bundles)
	// The registry's schema is what refuses a bad one.
	s.Packages[0].FileSHA256 = "not a hash"
	bad, _ := json.Marshal(s)
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if registrySchema(t, "testdata/server.schema.json").Validate(doc) == nil {
		t.Error("a package whose fileSha256 is no hash passed the schema")
	}
}

// TestReadmeInstall holds README's Install block to the names a release really has.
func TestReadmeInstall(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, install, _ := strings.Cut(string(raw), "## Install\n")
	install, _, _ = strings.Cut(install, "\n## ")
	want := []string{image + ":latest", registryName, "MCP_AUTH_TOKEN", "/healthz", "MCP_TRANSPORT=stdio", "darwin_universal", "checksums.txt"}
	for _, p := range platforms {
		want = append(want, bundleName("<version>", p.goos))
	}
	for _, o := range options {
		want = append(want, map[string]string{"api_key": "Api-Key", "business_id": "business id", "read_only": "read-only",
			"file_folder": "send_file", "confirm_sends": "ask before"}[o.Key])
	}
	for _, w := range want {
		if !strings.Contains(install, w) {
			t.Errorf("README's Install block does not mention %q", w)
		}
	}
}
