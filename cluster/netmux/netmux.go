// Package netmux carries several cluster services over one TCP port secured
// by mutual TLS, as rqlite's tcp/mux does. After the TLS handshake the client
// sends one byte that names the service (KindRaft, KindRPC); the Mux hands the
// connection to that service's net.Listener. RaftLayer adapts the Raft
// service to hashicorp/raft's StreamLayer.
package netmux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Service kinds: the first byte a client sends after the TLS handshake.
const (
	// KindRaft selects the Raft transport.
	KindRaft byte = 1
	// KindRPC selects the internal cluster RPC service.
	KindRPC byte = 2
)

const (
	// DefaultHeaderTimeout bounds the TLS handshake and the service byte of a
	// new connection; a client that is slower is disconnected.
	DefaultHeaderTimeout = 5 * time.Second
	// DefaultDispatchTimeout bounds how long a connection waits for its
	// service to Accept it before the Mux drops it.
	DefaultDispatchTimeout = 10 * time.Second
)

// Mux accepts TLS connections on one TCP port and routes each to the
// listener of the service its first byte names.
type Mux struct {
	ln            net.Listener
	tlsCfg        atomic.Pointer[tls.Config]
	headerTimeout atomic.Int64 // time.Duration
	logger        atomic.Pointer[slog.Logger]

	done chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	listeners map[byte]*listener
	pending   map[net.Conn]struct{} // raw conns still in handshake or header read
}

// Listen opens addr ("host:port") for TCP and serves TLS on it with tlsCfg,
// which should require and verify client certificates (pki.ServerTLS).
func Listen(addr string, tlsCfg *tls.Config) (*Mux, error) {
	if tlsCfg == nil {
		return nil, errors.New("netmux: listen: TLS configuration is required")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netmux: listen: %w", err)
	}
	m := &Mux{
		ln:        ln,
		done:      make(chan struct{}),
		listeners: make(map[byte]*listener),
		pending:   make(map[net.Conn]struct{}),
	}
	m.tlsCfg.Store(tlsCfg)
	m.headerTimeout.Store(int64(DefaultHeaderTimeout))
	m.wg.Add(1)
	go m.serve()
	return m, nil
}

// Addr returns the address the Mux listens on.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// SetTLS replaces the server TLS configuration for connections accepted from
// now on (e.g. the node certificate issued at join); established connections
// keep theirs. cfg must not be modified afterwards.
func (m *Mux) SetTLS(cfg *tls.Config) error {
	if cfg == nil {
		return errors.New("netmux: SetTLS: TLS configuration is required")
	}
	m.tlsCfg.Store(cfg)
	return nil
}

// SetHeaderTimeout changes how long a new connection may take for its TLS
// handshake and service byte (DefaultHeaderTimeout); d <= 0 restores the default.
func (m *Mux) SetHeaderTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultHeaderTimeout
	}
	m.headerTimeout.Store(int64(d))
}

// SetLogger sets where refused connections are reported (at debug level);
// nil, the default, reports nothing.
func (m *Mux) SetLogger(l *slog.Logger) { m.logger.Store(l) }

// Listener returns the listener of service kind. Connections for a kind with
// no open listener are closed. If the kind's listener was closed, a new one
// is made, so a service (e.g. Raft after a join) can start again on the same
// port. After Close it returns a closed listener.
func (m *Mux) Listener(kind byte) net.Listener {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.listeners[kind]; ok {
		return l
	}
	l := &listener{m: m, kind: kind, ch: make(chan net.Conn), done: make(chan struct{})}
	if m.closed {
		l.once.Do(func() { close(l.done) })
		return l
	}
	m.listeners[kind] = l
	return l
}

// Close stops accepting connections, closes every service listener and every
// connection not yet handed to a service, and waits for the Mux's goroutines.
// Connections already accepted by a service belong to it and stay open.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	pending := make([]net.Conn, 0, len(m.pending))
	for c := range m.pending {
		pending = append(pending, c)
	}
	listeners := make([]*listener, 0, len(m.listeners))
	for _, l := range m.listeners {
		listeners = append(listeners, l)
	}
	m.mu.Unlock()

	err := m.ln.Close()
	for _, c := range pending {
		_ = c.Close()
	}
	for _, l := range listeners {
		_ = l.Close()
	}
	m.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("netmux: close: %w", err)
	}
	return nil
}

// serve is the accept loop. It only accepts; handshakes run in their own
// goroutines so a slow client cannot hold it up.
func (m *Mux) serve() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if m.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary trouble such as too many open files: back off.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			m.debug("accept failed", "error", err, "retry_in", delay)
			select {
			case <-m.done:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if !m.track(conn) {
			_ = conn.Close()
			return
		}
		m.wg.Add(1)
		go m.handle(conn)
	}
}

// handle does the TLS handshake and reads the service byte of one
// connection, then hands it to the service.
func (m *Mux) handle(raw net.Conn) {
	defer m.wg.Done()
	conn := tls.Server(raw, m.tlsCfg.Load())
	kind, err := m.readHeader(raw, conn)
	m.untrack(raw)
	if err != nil {
		m.debug("connection refused", "remote", raw.RemoteAddr().String(), "error", err)
		_ = raw.Close()
		return
	}
	l := m.lookup(kind)
	if l == nil {
		m.debug("connection refused", "remote", raw.RemoteAddr().String(), "error", fmt.Sprintf("no service for kind %d", kind))
		_ = conn.Close()
		return
	}
	timer := time.NewTimer(DefaultDispatchTimeout)
	defer timer.Stop()
	select {
	case l.ch <- conn:
	case <-l.done:
		_ = conn.Close()
	case <-m.done:
		_ = conn.Close()
	case <-timer.C:
		m.debug("connection dropped: service did not accept it", "remote", raw.RemoteAddr().String(), "kind", kind)
		_ = conn.Close()
	}
}

// readHeader runs the handshake and reads the service byte within the header
// timeout.
func (m *Mux) readHeader(raw net.Conn, conn *tls.Conn) (byte, error) {
	if err := raw.SetDeadline(time.Now().Add(time.Duration(m.headerTimeout.Load()))); err != nil {
		return 0, fmt.Errorf("set deadline: %w", err)
	}
	if err := conn.Handshake(); err != nil {
		return 0, fmt.Errorf("TLS handshake: %w", err)
	}
	var hdr [1]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return 0, fmt.Errorf("read service byte: %w", err)
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return 0, fmt.Errorf("clear deadline: %w", err)
	}
	return hdr[0], nil
}

// track records a connection in handshake so Close can end it; it reports
// false if the Mux is closed.
func (m *Mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.pending[c] = struct{}{}
	return true
}

// untrack forgets a connection recorded by track.
func (m *Mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.pending, c)
	m.mu.Unlock()
}

// lookup returns the open listener of kind, or nil.
func (m *Mux) lookup(kind byte) *listener {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listeners[kind]
}

// isClosed reports whether Close has been called.
func (m *Mux) isClosed() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// debug logs at debug level if a logger is set.
func (m *Mux) debug(msg string, args ...any) {
	if l := m.logger.Load(); l != nil {
		l.Debug("netmux: "+msg, args...)
	}
}

// listener is the net.Listener of one service kind.
type listener struct {
	m    *Mux
	kind byte
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

// Accept waits for the next connection of this service. The net.Conn is a
// *tls.Conn whose ConnectionState names the verified peer.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
}

// Close stops this service's listener; the Mux and other services go on.
func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.m.mu.Lock()
		if l.m.listeners[l.kind] == l {
			delete(l.m.listeners, l.kind)
		}
		l.m.mu.Unlock()
	})
	return nil
}

// Addr returns the Mux's address.
func (l *listener) Addr() net.Addr { return l.m.Addr() }

// Dialer opens connections to a Mux.
type Dialer struct {
	// TLS returns the client configuration for each new connection
	// (pki.ClientTLS), so certificates can change at run time.
	TLS func() *tls.Config
}

// Dial connects to the Mux at addr, completes the TLS handshake and selects
// service kind. ctx bounds the whole exchange. With TLS 1.3 a server that
// refuses this node's client certificate is only noticed on the first read.
func (d Dialer) Dial(ctx context.Context, addr string, kind byte) (net.Conn, error) {
	if d.TLS == nil {
		return nil, fmt.Errorf("netmux: dial %s: no TLS configuration", addr)
	}
	cfg := d.TLS()
	if cfg == nil {
		return nil, fmt.Errorf("netmux: dial %s: no TLS configuration", addr)
	}
	td := tls.Dialer{Config: cfg}
	conn, err := td.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netmux: dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err = conn.Write([]byte{kind})
	canceled := !stop()
	if err == nil && !canceled {
		err = conn.SetWriteDeadline(time.Time{})
	}
	if err == nil && canceled {
		err = ctx.Err()
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("netmux: dial %s: send service byte: %w", addr, err)
	}
	return conn, nil
}
