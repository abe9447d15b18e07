// Package interop proves that MCP clients other than the project's own Go client work with the
// built server: the official conformance suite over Streamable HTTP, and the TypeScript SDK's
// Client over stdio, Streamable HTTP and HTTP+SSE.
//
// Both need Node 22 and npm packages. The tests install them themselves (see nodetools), once per
// version of package-lock.json, into the user's cache folder, so plain `go test ./...` works on a
// machine that has Go and npm (Node 20 is enough to run the install).
package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
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

	"github.com/yandex-market-mcp/market-chat-mcp/internal/nodetools"
)

// Set up once by TestMain: the server built with -race, and the Node tools.
var (
	binary   string
	buildErr error
	tools    *nodetools.Tools
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
	wg.Go(func() { tools, toolsErr = nodetools.Install(".") })
	wg.Wait()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need fails the test when the setup failed, and otherwise returns the Node tools.
func need(t *testing.T) *nodetools.Tools {
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
