// Package redistest runs a real Redis for tests: Debian's redis-server (or any on the PATH), on
// a free loopback port, without persistence, stopped when the test ends.
package redistest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	// URL is the server's redis:// URL.
	URL  string
	port int
	cmd  *exec.Cmd
	t    testing.TB
}

// Start runs redis-server until the test ends. It fails the test when there is none: CI installs
// it (see .ci/run), and apt-get install redis-server gives it on Debian.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), port: port, t: t}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Stop kills the server, as a crash would.
func (s *Server) Stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on its port, empty, and returns when it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		s.t.Fatal("redis-server is not installed (apt-get install redis-server): the tests of shared state need a real Redis")
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.port)); err == nil {
			c.Close()
			return
		}
	}
	s.t.Fatal("redis-server did not start listening")
}
