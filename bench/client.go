package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
)

// The clients below speak just enough MCP to measure a server: they send prepared requests and
// find the answer by its id without decoding it, so that as little of each figure as possible is
// the client's own work, and the same for every server.

// protocolVersion is the MCP revision the clients ask for; every server measured speaks it.
const protocolVersion = "2025-11-25"

// initializeParams are the params of every initialize request.
const initializeParams = `{"protocolVersion":"` + protocolVersion + `","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}`

// request returns a JSON-RPC request, or a notification when id is 0.
func request(id int, method, params string) []byte {
	if id == 0 {
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","method":%q}`, method)
	}
	if params == "" {
		params = "{}"
	}
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)
}

// answers reports whether msg is the answer to request id. Quotes inside JSON strings are
// escaped, so `"id":` occurs only as a key; the answers measured have no other key "id".
func answers(msg []byte, id int) bool {
	key := []byte(`"id":` + strconv.Itoa(id))
	i := bytes.Index(msg, key)
	return i >= 0 && (i+len(key) == len(msg) || msg[i+len(key)] < '0' || msg[i+len(key)] > '9')
}

// failed returns the error an answer carries: a JSON-RPC error or a tool result with isError.
func failed(msg []byte) error {
	if bytes.Contains(msg, []byte(`"isError":true`)) || bytes.Contains(msg, []byte(`"error":{`)) {
		return fmt.Errorf("the server answered with an error: %.300s", msg)
	}
	return nil
}

// stdioClient is a server process spoken to over its stdin and stdout.
type stdioClient struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	next int
}

// startStdio starts cmd and returns a client of it. Its stderr is dropped.
func startStdio(cmd *exec.Cmd) (*stdioClient, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &stdioClient{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}, nil
}

// call sends a request and waits for its answer, skipping what else the server writes.
func (c *stdioClient) call(method, params string) ([]byte, error) {
	c.next++
	if _, err := c.in.Write(append(request(c.next, method, params), '\n')); err != nil {
		return nil, err
	}
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: reading the answer: %w", method, err)
		}
		if answers(line, c.next) {
			return line, failed(line)
		}
	}
}

// notify sends a notification.
func (c *stdioClient) notify(method string) error {
	_, err := c.in.Write(append(request(0, method, ""), '\n'))
	return err
}

// initialize opens the MCP session.
func (c *stdioClient) initialize() error {
	if _, err := c.call("initialize", initializeParams); err != nil {
		return err
	}
	return c.notify("notifications/initialized")
}

// kill ends the server at once.
func (c *stdioClient) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// httpSession is one Streamable HTTP session with a server.
type httpSession struct {
	client *http.Client
	url    string
	id     string // Mcp-Session-Id
	next   int
}

// openSession initializes a session at url.
func openSession(ctx context.Context, client *http.Client, url string) (*httpSession, error) {
	s := &httpSession{client: client, url: url}
	resp, err := s.post(ctx, request(1, "initialize", initializeParams))
	if err != nil {
		return nil, err
	}
	s.id = resp.Header.Get("Mcp-Session-Id")
	if _, err := s.answer(resp, 1); err != nil {
		return nil, err
	}
	resp, err = s.post(ctx, request(0, "notifications/initialized", ""))
	if err != nil {
		return nil, err
	}
	drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("notifications/initialized: status %s", resp.Status)
	}
	s.next = 1
	return s, nil
}

// call sends a request and returns its answer.
func (s *httpSession) call(ctx context.Context, method, params string) ([]byte, error) {
	s.next++
	resp, err := s.post(ctx, request(s.next, method, params))
	if err != nil {
		return nil, err
	}
	return s.answer(resp, s.next)
}

func (s *httpSession) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	s.headers(req)
	return s.client.Do(req)
}

func (s *httpSession) headers(req *http.Request) {
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
		req.Header.Set("Mcp-Protocol-Version", protocolVersion)
	}
}

// answer reads the answer to request id from a POST's response: the JSON body, or the first
// event of an event stream that answers it.
func (s *httpSession) answer(resp *http.Response, id int) ([]byte, error) {
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("status %s: %s", resp.Status, body)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		msg, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		return msg, failed(msg)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok && answers(data, id) {
			msg := bytes.Clone(bytes.TrimSpace(data))
			return msg, failed(msg)
		}
	}
	return nil, errors.Join(errors.New("the event stream ended without the answer"), sc.Err())
}

// listen opens the session's GET stream, on which a server sends what is not an answer, and
// keeps it open until ctx ends.
func (s *httpSession) listen(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	s.headers(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		drain(resp)
		return fmt.Errorf("GET stream: status %s", resp.Status)
	}
	go func() {
		<-ctx.Done()
		resp.Body.Close()
	}()
	return nil
}

// drain reads what is left of a body, so that its connection can serve the next request.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
