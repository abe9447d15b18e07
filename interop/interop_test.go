//go:build interop

package interop

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/nodetools"
	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
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
		buildErr = serverproc.Build("..", ".", binary, "-race")
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

// startHTTP runs the sandboxed server over HTTP on a free port until the test ends and returns its
// base URL. The server's log is shown when the test fails.
func startHTTP(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(binary, "--sandbox", "--transport", "http", "--addr", "127.0.0.1:0")
	cmd.Env = serverproc.Env(env...)
	return serverproc.StartHTTPForTest(t, cmd).Base
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
