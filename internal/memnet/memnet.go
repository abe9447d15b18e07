// Package memnet is a network in memory: a listener whose connections are net.Pipe pairs. Tests
// that run in a testing/synctest bubble serve HTTP on it, since a real socket would keep the
// bubble's clock from moving; its pipes honour deadlines, on the bubble's clock.
package memnet

import (
	"context"
	"net"
	"sync"
	"syscall"
)

// Listener hands a server the far ends of the pipes that Dial makes.
type Listener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// Listen returns a listener.
func Listen() *Listener {
	return &Listener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; later dials are refused.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr names the listener.
func (l *Listener) Addr() net.Addr { return addr{} }

// Dial connects to the listener, whatever the address; it has the signature of
// http.Transport.DialContext. Once the listener is closed it fails as a refused connection.
func (l *Listener) Dial(ctx context.Context, network, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	client.Close()
	server.Close()
	return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
}

type addr struct{}

func (addr) Network() string { return "memnet" }
func (addr) String() string  { return "memnet" }
