// Package interop proves that MCP clients other than the project's own Go client work with the
// built server: the official conformance suite over Streamable HTTP, and the TypeScript SDK's
// Client over stdio, Streamable HTTP and HTTP+SSE.
//
// Both need Node 22 and npm packages. The tests install them themselves, once per version of
// package-lock.json, into the user's cache folder, so plain `go test ./...` works on a machine
// that has Go and npm (Node 20 is enough to run the install).
package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Set up once by TestMain: the server built with -race, and the Node tools.
var (
	binary   string
	buildErr error
	tools    *nodeTools
	toolsErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "market-chat-mcp-interop")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "market-chat-mcp")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	// Building and installing take the longest on a fresh machine, and neither waits for the other.
	var wg sync.WaitGroup
	wg.Go(func() {
		build := exec.Command("go", "build", "-race", "-o", binary, ".")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the server: %v\n%s", err, out)
		}
	})
	wg.Go(func() { tools, toolsErr = installNodeTools() })
	wg.Wait()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need fails the test when the setup failed, and otherwise returns the Node tools.
func need(t *testing.T) *nodeTools {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	trackInputs(t)
	return tools
}

var trackOnce sync.Once

// trackInputs stats every file the server binary is built from, and the npm manifests. The go
// command keys its test cache on the files that tests touch once they run, and TestMain's reads
// come before that; this package imports none of the server's code either. Without this a changed
// server or lock would still get the cached result of the old one.
func trackInputs(t *testing.T) {
	trackOnce.Do(func() {
		for _, name := range []string{"package.json", "package-lock.json"} {
			if _, err := os.Stat(name); err != nil {
				t.Logf("tracking %s: %v", name, err)
			}
		}
		err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if path != ".." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "interop") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(name, "_test.go") {
				return nil
			}
			_, err = os.Stat(path)
			return err
		})
		if err != nil {
			t.Logf("listing the server's sources: %v", err)
		}
	})
}

// nodeTools is a folder whose node_modules holds Node 22 and the packages of package.json.
type nodeTools struct{ dir string }

// node is the Node 22 binary that the npm package "node" ships.
func (n *nodeTools) node() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(n.dir, "node_modules", "node", "bin", "node.exe")
	}
	return filepath.Join(n.dir, "node_modules", "node", "bin", "node")
}

// packageDir is where the npm package name is installed.
func (n *nodeTools) packageDir(name string) string {
	return filepath.Join(n.dir, "node_modules", filepath.FromSlash(name))
}

// conformanceCLI is the conformance suite's command, found the way npm finds it.
func (n *nodeTools) conformanceCLI() (string, error) {
	dir := n.packageDir("@modelcontextprotocol/conformance")
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	var manifest struct {
		Bin json.RawMessage `json:"bin"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return "", err
	}
	// "bin" is either one path or a map from command names to paths.
	var one string
	if json.Unmarshal(manifest.Bin, &one) == nil {
		return filepath.Join(dir, filepath.FromSlash(one)), nil
	}
	var many map[string]string
	if err := json.Unmarshal(manifest.Bin, &many); err != nil || many["conformance"] == "" {
		return "", fmt.Errorf("no conformance command in %s (bin: %s)", dir, manifest.Bin)
	}
	return filepath.Join(dir, filepath.FromSlash(many["conformance"])), nil
}

// check makes sure the folder holds a Node 22 that runs.
func (n *nodeTools) check() error {
	out, err := exec.Command(n.node(), "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("running %s: %v\n%s", n.node(), err, out)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "v22.") {
		return fmt.Errorf("%s is %s, not Node 22", n.node(), v)
	}
	return nil
}

// installNodeTools installs package-lock.json into the user's cache folder unless an earlier run
// has. Test processes may start together (go test runs packages in parallel, and so do CI jobs
// sharing a cache), so each installs into a folder of its own and renames it into place: the one
// that comes second drops its copy and uses the first.
func installNodeTools() (*nodeTools, error) {
	manifest, err := os.ReadFile("package.json")
	if err != nil {
		return nil, err
	}
	lock, err := os.ReadFile("package-lock.json")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d\n%s%d\n%s", len(manifest), manifest, len(lock), lock)
	root, err := os.UserCacheDir()
	if err != nil {
		root = os.TempDir()
	}
	parent := filepath.Join(root, "market-chat-mcp")
	final := &nodeTools{dir: filepath.Join(parent, "interop-"+hex.EncodeToString(h.Sum(nil))[:16])}
	if _, err := os.Stat(final.dir); err == nil {
		if err := final.check(); err != nil {
			return nil, fmt.Errorf("%v\nthe cached install looks broken: delete %s and run the tests again", err, final.dir)
		}
		return final, nil
	}

	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, errors.New("npm is not on PATH: these tests install Node 22 and the MCP test tools with it; " +
			"install Node.js 20 or newer with npm (on Debian: apt-get install nodejs npm)")
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	removeAbandoned(parent)
	tmp, err := os.MkdirTemp(parent, ".installing-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // nothing is left there after a successful rename
	for name, data := range map[string][]byte{"package.json": manifest, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// The package "node" fetches its platform's binary in a preinstall script, so scripts must run
	// even where a user's npm config turns them off.
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts=false")
	cmd.Dir = tmp
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("npm ci of interop/package-lock.json: %v\n%s", err, out)
	}
	if err := (&nodeTools{dir: tmp}).check(); err != nil {
		return nil, fmt.Errorf("%v\nnpm ci said:\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "interop: installed Node 22 and the MCP test tools into %s in %s\n", final.dir, time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, final.dir); err != nil {
		if _, statErr := os.Stat(final.dir); statErr != nil {
			return nil, err
		}
	}
	return final, final.check()
}

// removeAbandoned deletes installs that a killed test process left half done.
func removeAbandoned(parent string) {
	old, _ := filepath.Glob(filepath.Join(parent, ".installing-*"))
	for _, dir := range old {
		if info, err := os.Stat(dir); err == nil && time.Since(info.ModTime()) > time.Hour {
			os.RemoveAll(dir)
		}
	}
}

// serverEnv is this process's environment without the server's settings, so that a developer's
// own MCP_* or YANDEX_MARKET_* variables cannot change what is tested.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MCP_") && !strings.HasPrefix(kv, "YANDEX_MARKET_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startHTTP runs the sandboxed server over HTTP on a free port until the test ends and returns its
// base URL. The server's log is shown when the test fails.
func startHTTP(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(binary, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0")
	cmd.Env = serverEnv(env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr)
		}
	})
	found := make(chan string, 1)
	go func() {
		addr := regexp.MustCompile(`streamable=(http://\S+)/mcp`)
		sc := bufio.NewScanner(pipe)
		for sent := false; sc.Scan(); {
			fmt.Fprintln(stderr, sc.Text())
			if m := addr.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		close(found)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("the server stopped before listening:\n%s", stderr)
		}
		return base
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not start listening:\n%s", stderr)
	}
	return ""
}

// pinned is the exact version package.json asks for of the npm package name.
func pinned(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	return manifest.Dependencies[name]
}
