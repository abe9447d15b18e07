package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/yandex-market-mcp/market-chat-mcp/internal/serverproc"
)

// server is a program under measurement, started the way an MCP client starts it.
type server struct {
	name string
	// stdio is the command line of the server over stdio.
	stdio []string
	// http is the command line of the same server over Streamable HTTP on a free loopback port,
	// which it names on stderr; nil if it has no HTTP transport.
	http []string
	// env is the environment of both.
	env []string
}

// command returns the stdio server's command, ready to start.
func (s *server) command() *exec.Cmd {
	cmd := exec.Command(s.stdio[0], s.stdio[1:]...)
	cmd.Env = s.env
	return cmd
}

// startStdio starts the stdio server and returns a client of it.
func (s *server) startStdio() (*stdioClient, error) {
	c, err := startStdio(s.command())
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.name, err)
	}
	return c, nil
}

// startHTTP starts the HTTP server and waits until it names its address.
func (s *server) startHTTP(ctx context.Context) (*serverproc.HTTP, error) {
	cmd := exec.Command(s.http[0], s.http[1:]...)
	cmd.Env = s.env
	h, err := serverproc.StartHTTP(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("starting %s over HTTP: %w", s.name, err)
	}
	return h, nil
}

// memory is a process's resident memory in MiB, from /proc: all of it (VmRSS), and the part that
// is its own rather than pages of files such as its executable (RssAnon: heap, stacks).
func memory(pid int) (resident, anonymous float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for line := range strings.Lines(string(raw)) {
		for _, f := range []struct {
			name string
			v    *float64
		}{{"VmRSS:", &resident}, {"RssAnon:", &anonymous}} {
			if v, ok := strings.CutPrefix(line, f.name); ok {
				var kb float64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err != nil {
					return 0, 0, fmt.Errorf("%s %q: %w", f.name, v, err)
				}
				*f.v = kb / 1024
				found++
			}
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("no VmRSS or RssAnon in /proc/%d/status", pid)
	}
	return resident, anonymous, nil
}
