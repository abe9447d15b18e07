package transport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// mcp-go decodes a JSON-RPC id into an interface, where a number becomes a float64: an id
// beyond 2^53, such as 9007199254740993, comes back as another number, and a client that
// matches answers by id waits forever. The transports carry such an id through mcp-go as a
// string that marks it, and put the number back into what goes out.

// bigIDMark starts the string that stands for an id a float64 cannot hold; the NUL keeps it from
// ever being an id a client chose.
const bigIDMark = "\x00big-id:"

// bigIDQuoted is the mark as it appears in JSON that mcp-go writes.
var bigIDQuoted = []byte(`"\u0000big-id:`)

// encodeIDs marks, in one message from a client, an id (or the requestId of a cancellation)
// whose number a float64 cannot hold exactly. Anything else comes back as it was.
func encodeIDs(msg []byte) []byte {
	if !bytes.Contains(msg, []byte(`"id"`)) && !bytes.Contains(msg, []byte(`"requestId"`)) {
		return msg
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(msg, &m) != nil {
		return msg // mcp-go answers what is not a JSON object
	}
	changed := markID(m, "id")
	if params, ok := m["params"]; ok && bytes.Contains(params, []byte(`"requestId"`)) {
		var p map[string]json.RawMessage
		if json.Unmarshal(params, &p) == nil && markID(p, "requestId") {
			m["params"], _ = json.Marshal(p)
			changed = true
		}
	}
	if !changed {
		return msg
	}
	out, err := json.Marshal(m)
	if err != nil {
		return msg
	}
	return out
}

// markID replaces m[key] by its mark when it is a number that a float64 changes.
func markID(m map[string]json.RawMessage, key string) bool {
	raw := bytes.TrimSpace(m[key])
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return false
	}
	if back, err := json.Marshal(f); err == nil && bytes.Equal(back, raw) {
		return false
	}
	m[key], _ = json.Marshal(bigIDMark + string(raw))
	return true
}

// decodeIDs puts back the numbers of marked ids in what the server writes.
func decodeIDs(out []byte) []byte {
	i := bytes.Index(out, bigIDQuoted)
	if i < 0 {
		return out
	}
	var b bytes.Buffer
	for i >= 0 {
		b.Write(out[:i])
		rest := out[i+len(bigIDQuoted):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			b.Write(out[i:])
			return b.Bytes()
		}
		b.Write(rest[:end]) // the number's literal, which needs no escaping
		out = rest[end+1:]
		i = bytes.Index(out, bigIDQuoted)
	}
	b.Write(out)
	return b.Bytes()
}

// idReader marks the big ids of the messages read line by line from r, as stdio carries them.
type idReader struct {
	r    *bufio.Reader
	line []byte
}

func newIDReader(r io.Reader) *idReader { return &idReader{r: bufio.NewReader(r)} }

func (r *idReader) Read(p []byte) (int, error) {
	if len(r.line) == 0 {
		line, err := r.r.ReadBytes('\n')
		if len(line) == 0 {
			return 0, err
		}
		body := bytes.TrimRight(line, "\r\n")
		r.line = append(encodeIDs(body), line[len(body):]...)
	}
	n := copy(p, r.line)
	r.line = r.line[n:]
	return n, nil
}

// idWriter puts back the numbers of marked ids in each write: the transports write a message,
// or an event of a stream, in one write.
type idWriter struct{ w io.Writer }

func (w idWriter) Write(p []byte) (int, error) {
	if _, err := w.w.Write(decodeIDs(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// idResponseWriter is an http.ResponseWriter whose writes go through an idWriter.
type idResponseWriter struct {
	http.ResponseWriter
}

func (w idResponseWriter) Write(p []byte) (int, error) {
	return idWriter{w.ResponseWriter}.Write(p)
}

// Flush lets the streams flush through the wrapper, which mcp-go asks for by type.
func (w idResponseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w idResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
