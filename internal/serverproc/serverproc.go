// Package serverproc runs server programs the way MCP clients run them, for the end-to-end
// tests, the interop tests and the benchmark: built from source, with an environment free of the
// developer's own settings, and over HTTP on a free loopback port that the server names on stderr.
package serverproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Build builds the package pkg of the module in dir into out, with go build's extra flags.
func Build(dir, pkg, out string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, pkg)...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}

// RunWithServer is a TestMain's body: it builds the server of the module at root with -race
// into a temporary folder, sets *binary to it, runs the tests and removes the folder, and
// returns the code to exit with.
func RunWithServer(m *testing.M, root string, binary *string) int {
	dir, err := os.MkdirTemp("", "market-chat-mcp-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	*binary = filepath.Join(dir, "market-chat-mcp")
	if err := Build(root, ".", *binary, "-race"); err != nil {
		panic(err)
	}
	return m.Run()
}

// Env returns this process's environment without the server's settings (MCP_* and
// YANDEX_MARKET_*), so that a developer's own cannot change what runs, plus extra.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MCP_") && !strings.HasPrefix(kv, "YANDEX_MARKET_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// Output collects what a process writes while it runs. It is safe for concurrent use.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns what has been written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// HTTP is a server that listens over HTTP.
type HTTP struct {
	Cmd *exec.Cmd
	// URL is its MCP endpoint, e.g. http://127.0.0.1:41234/mcp; Base is the URL without the path.
	URL, Base string
	// Stderr is what it has written on stderr.
	Stderr *Output

	wait    sync.Once
	waitErr error
}

// endpoint is how a server names its MCP endpoint on stderr.
var endpoint = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/mcp\b`)

// startTimeout bounds how long a server may take to name its endpoint.
const startTimeout = 30 * time.Second

// StartHTTP starts cmd, a server told to listen on a free loopback port, and waits until it
// names its MCP endpoint on stderr. Stop ends it.
func StartHTTP(ctx context.Context, cmd *exec.Cmd) (*HTTP, error) {
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &HTTP{Cmd: cmd, Stderr: &Output{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sent := false; sc.Scan(); {
			fmt.Fprintln(h.Stderr, sc.Text())
			if url := endpoint.FindString(sc.Text()); url != "" && !sent {
				found <- url
				sent = true
			}
		}
		close(found)
	}()
	var fail error
	select {
	case url, ok := <-found:
		if ok {
			h.URL, h.Base = url, strings.TrimSuffix(url, "/mcp")
			return h, nil
		}
		fail = errors.New("it stopped before it listened")
	case <-time.After(startTimeout):
		fail = errors.New("it did not name its endpoint")
	case <-ctx.Done():
		fail = ctx.Err()
	}
	h.Stop()
	return nil, fmt.Errorf("%s: %w:\n%s", cmd.Path, fail, h.Stderr)
}

// StartHTTPForTest starts cmd as StartHTTP does, for a test: the server stops when the test
// ends, and what it said is logged if the test failed.
func StartHTTPForTest(t testing.TB, cmd *exec.Cmd) *HTTP {
	t.Helper()
	h, err := StartHTTP(t.Context(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Stop()
		if t.Failed() {
			t.Logf("the server's log:\n%s", h.Stderr)
		}
	})
	return h
}

// Wait waits for the server to exit and returns how it did; it may be called more than once,
// from any goroutine.
func (h *HTTP) Wait() error {
	h.wait.Do(func() { h.waitErr = h.Cmd.Wait() })
	return h.waitErr
}

// Stop ends the server at once and waits for it.
func (h *HTTP) Stop() {
	_ = h.Cmd.Process.Kill()
	_ = h.Wait()
}
