package netmux

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/pki"
)

// cluster is a test CA that issues node TLS configurations.
type cluster struct {
	caCert, caKey []byte
}

func newCluster(t *testing.T, name string) *cluster {
	t.Helper()
	c, k, err := pki.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{caCert: c, caKey: k}
}

// node returns the server and client TLS configurations of a node.
func (c *cluster) node(t *testing.T, name string) (server, client *tls.Config) {
	t.Helper()
	keyPEM, pubPEM, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := pki.IssueNodeCert(c.caCert, c.caKey, name, pubPEM, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	server, err = pki.ServerTLS(certPEM, keyPEM, c.caCert)
	if err != nil {
		t.Fatal(err)
	}
	client, err = pki.ClientTLS(certPEM, keyPEM, c.caCert)
	if err != nil {
		t.Fatal(err)
	}
	return server, client
}

// listen opens a Mux on loopback, closed at the end of the test.
func listen(t *testing.T, cfg *tls.Config) *Mux {
	t.Helper()
	m, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

func dialer(cfg *tls.Config) Dialer {
	return Dialer{TLS: func() *tls.Config { return cfg }}
}

// acceptor collects the connections a listener accepts, so a test can wait
// for the next one without leaving a stray Accept behind.
type acceptor struct {
	ch chan net.Conn
}

// accepting starts accepting on l until it is closed; accepted connections
// are closed at the end of the test.
func accepting(t *testing.T, l net.Listener) *acceptor {
	t.Helper()
	a := &acceptor{ch: make(chan net.Conn, 16)}
	go func() {
		defer close(a.ch)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			a.ch <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range a.ch {
			c.Close()
		}
	})
	return a
}

// next returns the next accepted connection, or nil if none comes within d.
func (a *acceptor) next(d time.Duration) net.Conn {
	select {
	case c := <-a.ch:
		return c
	case <-time.After(d):
		return nil
	}
}

// closedWithin reports whether the server closes c within d: a read returns
// an error (EOF, reset or TLS alert) rather than timing out.
func closedWithin(c net.Conn, d time.Duration) (bool, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	_, err := c.Read(b[:])
	if err == nil {
		return false, errors.New("server sent data")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, err
	}
	return true, err
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestTwoServicesOnePort(t *testing.T) {
	cl := newCluster(t, "prod")
	srvCfg, _ := cl.node(t, "pve1")
	_, cliCfg := cl.node(t, "pve2")
	m := listen(t, srvCfg)
	raftL := m.Listener(KindRaft)
	if m.Listener(KindRaft) != raftL {
		t.Error("Listener(KindRaft) twice gave two listeners")
	}
	services := map[byte]*acceptor{KindRaft: accepting(t, raftL), KindRPC: accepting(t, m.Listener(KindRPC))}
	d := dialer(cliCfg)

	tests := []struct {
		name  string
		kind  byte
		other byte
		msg   string
	}{
		{"raft", KindRaft, KindRPC, "raft hello"},
		{"rpc", KindRPC, KindRaft, "rpc hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := d.Dial(ctxTimeout(t, 5*time.Second), m.Addr().String(), tt.kind)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tt.msg+"\n"); err != nil {
				t.Fatal(err)
			}
			sc := services[tt.kind].next(5 * time.Second)
			if sc == nil {
				t.Fatal("service did not get the connection")
			}
			line, err := bufio.NewReader(sc).ReadString('\n')
			if err != nil || line != tt.msg+"\n" {
				t.Fatalf("service read %q, %v; want %q", line, err, tt.msg)
			}
			tc, ok := sc.(*tls.Conn)
			if !ok {
				t.Fatalf("service conn is %T, want *tls.Conn", sc)
			}
			if peers := tc.ConnectionState().PeerCertificates; len(peers) == 0 || peers[0].Subject.CommonName != "pve2" {
				t.Errorf("peer certificate not pve2's")
			}
			if _, err := io.WriteString(sc, "ok\n"); err != nil {
				t.Fatal(err)
			}
			reply, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || reply != "ok\n" {
				t.Fatalf("client read %q, %v", reply, err)
			}
			if stray := services[tt.other].next(100 * time.Millisecond); stray != nil {
				t.Errorf("service %d also got a connection", tt.other)
			}
		})
	}
}

func TestRefusedConnections(t *testing.T) {
	cl := newCluster(t, "prod")
	evil := newCluster(t, "evil")
	srvCfg, _ := cl.node(t, "pve1")
	_, goodCli := cl.node(t, "pve2")
	_, evilCli := evil.node(t, "pve2")
	noCert := goodCli.Clone()
	noCert.Certificates = nil
	certPEM, keyPEM, err := pki.SelfSigned("pve2", nil)
	if err != nil {
		t.Fatal(err)
	}
	selfPair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	selfSigned := goodCli.Clone()
	selfSigned.Certificates = []tls.Certificate{selfPair}

	m := listen(t, srvCfg)
	raft := accepting(t, m.Listener(KindRaft))
	addr := m.Addr().String()

	tests := []struct {
		name string
		// connect opens the client side; a nil conn with nil error means the
		// dial itself was refused, which counts as refused too.
		connect func(t *testing.T) (net.Conn, error)
	}{
		{"plain TCP", func(t *testing.T) (net.Conn, error) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			_, err = c.Write([]byte("\x01GET / HTTP/1.0\r\n\r\n"))
			return c, err
		}},
		{"client cert of another CA", func(t *testing.T) (net.Conn, error) {
			return dialer(evilCli).Dial(ctxTimeout(t, 5*time.Second), addr, KindRaft)
		}},
		{"no client cert", func(t *testing.T) (net.Conn, error) {
			return dialer(noCert).Dial(ctxTimeout(t, 5*time.Second), addr, KindRaft)
		}},
		{"self-signed client cert", func(t *testing.T) (net.Conn, error) {
			return dialer(selfSigned).Dial(ctxTimeout(t, 5*time.Second), addr, KindRaft)
		}},
		{"unknown service byte", func(t *testing.T) (net.Conn, error) {
			return dialer(goodCli).Dial(ctxTimeout(t, 5*time.Second), addr, 0x7f)
		}},
		{"service without listener", func(t *testing.T) (net.Conn, error) {
			return dialer(goodCli).Dial(ctxTimeout(t, 5*time.Second), addr, KindRPC)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.connect(t)
			if err == nil {
				defer c.Close()
				closed, rerr := closedWithin(c, 3*time.Second)
				if !closed {
					t.Fatalf("connection not closed by the server: %v", rerr)
				}
			}
			// Whatever the client saw, Raft must not have got a connection:
			// the next one Raft accepts is a good client's.
			good, err := dialer(goodCli).Dial(ctxTimeout(t, 5*time.Second), addr, KindRaft)
			if err != nil {
				t.Fatalf("good client: %v", err)
			}
			defer good.Close()
			if _, err := io.WriteString(good, "good\n"); err != nil {
				t.Fatal(err)
			}
			sc := raft.next(5 * time.Second)
			if sc == nil {
				t.Fatal("good client not accepted")
			}
			_ = sc.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(sc).ReadString('\n')
			if err != nil || line != "good\n" {
				t.Fatalf("Raft accepted a connection reading %q, %v; want the good client's", line, err)
			}
		})
	}
}

func TestServerOfAnotherCARefused(t *testing.T) {
	evilSrv, _ := newCluster(t, "evil").node(t, "pve1")
	_, cli := newCluster(t, "prod").node(t, "pve2")
	m := listen(t, evilSrv)
	l := accepting(t, m.Listener(KindRaft))
	_, err := dialer(cli).Dial(ctxTimeout(t, 5*time.Second), m.Addr().String(), KindRaft)
	if err == nil || !strings.Contains(err.Error(), "not valid for the cluster CA") {
		t.Fatalf("Dial to a server of another CA: err = %v", err)
	}
	if c := l.next(200 * time.Millisecond); c != nil {
		t.Error("server of another CA got a connection")
	}
}

func TestHeaderTimeout(t *testing.T) {
	cl := newCluster(t, "prod")
	srvCfg, cliCfg := cl.node(t, "pve1")
	m := listen(t, srvCfg)
	const timeout = 300 * time.Millisecond
	m.SetHeaderTimeout(timeout)
	raftL := accepting(t, m.Listener(KindRaft))
	addr := m.Addr().String()

	tests := []struct {
		name    string
		connect func(t *testing.T) net.Conn
	}{
		{"silent TCP", func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"half a TLS record", func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x02}); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"TLS but no service byte", func(t *testing.T) net.Conn {
			c, err := tls.Dial("tcp", addr, cliCfg)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			stalled := tt.connect(t)
			defer stalled.Close()

			// The accept loop is not held up by the stalled client.
			good, err := dialer(cliCfg).Dial(ctxTimeout(t, 5*time.Second), addr, KindRaft)
			if err != nil {
				t.Fatalf("good client: %v", err)
			}
			defer good.Close()
			if sc := raftL.next(5 * time.Second); sc == nil {
				t.Fatal("good client not accepted while another stalls")
			}

			closed, rerr := closedWithin(stalled, 5*time.Second)
			elapsed := time.Since(start)
			if !closed {
				t.Fatalf("stalled connection not closed: %v", rerr)
			}
			if elapsed < timeout-50*time.Millisecond {
				t.Errorf("closed after %v, before the %v header timeout", elapsed, timeout)
			}
		})
	}
}

func TestSetTLS(t *testing.T) {
	clA, clB := newCluster(t, "a"), newCluster(t, "b")
	srvA, cliA := clA.node(t, "pve1")
	srvB, cliB := clB.node(t, "pve1")
	m := listen(t, srvA)
	l := accepting(t, m.Listener(KindRPC))
	addr := m.Addr().String()

	exchange := func(t *testing.T, cli *tls.Config) error {
		c, err := dialer(cli).Dial(ctxTimeout(t, 5*time.Second), addr, KindRPC)
		if err != nil {
			return err
		}
		defer c.Close()
		sc := l.next(time.Second)
		if sc == nil {
			return errors.New("not accepted")
		}
		return nil
	}
	if err := exchange(t, cliA); err != nil {
		t.Fatalf("before SetTLS, cluster A: %v", err)
	}
	if err := m.SetTLS(nil); err == nil {
		t.Error("SetTLS(nil) accepted")
	}
	if err := m.SetTLS(srvB); err != nil {
		t.Fatal(err)
	}
	if err := exchange(t, cliA); err == nil {
		t.Error("after SetTLS, cluster A still accepted")
	}
	if err := exchange(t, cliB); err != nil {
		t.Fatalf("after SetTLS, cluster B: %v", err)
	}
}

func TestListenerCloseAndReopen(t *testing.T) {
	cl := newCluster(t, "prod")
	srvCfg, cliCfg := cl.node(t, "pve1")
	m := listen(t, srvCfg)
	addr := m.Addr().String()
	first := m.Listener(KindRaft)
	rpc := m.Listener(KindRPC)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: %v, want net.ErrClosed", err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	second := m.Listener(KindRaft)
	if second == first {
		t.Fatal("Listener after Close returned the closed listener")
	}
	for kind, a := range map[byte]*acceptor{KindRaft: accepting(t, second), KindRPC: accepting(t, rpc)} {
		c, err := dialer(cliCfg).Dial(ctxTimeout(t, 5*time.Second), addr, kind)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if a.next(5*time.Second) == nil {
			t.Errorf("kind %d: not accepted", kind)
		}
	}
	if first.Addr().String() != addr {
		t.Errorf("listener Addr %v, want %v", first.Addr(), addr)
	}
}

func TestMuxClose(t *testing.T) {
	cl := newCluster(t, "prod")
	srvCfg, cliCfg := cl.node(t, "pve1")
	m, err := Listen("127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := m.Addr().String()
	l := m.Listener(KindRaft)
	acceptErr := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		acceptErr <- err
	}()
	// A client stalled in the header phase (default 5 s timeout) must not
	// delay Close.
	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	select {
	case err := <-acceptErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	if closed, err := closedWithin(stalled, 2*time.Second); !closed {
		t.Errorf("stalled connection not closed by Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	late := m.Listener(KindRPC)
	if _, err := late.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Listener after Close: Accept = %v, want net.ErrClosed", err)
	}
	if err := late.Close(); err != nil {
		t.Errorf("Close of a listener made after Close: %v", err)
	}
	if _, err := dialer(cliCfg).Dial(ctxTimeout(t, 2*time.Second), addr, KindRaft); err == nil {
		t.Error("Dial to a closed Mux succeeded")
	}
}

func TestListenErrors(t *testing.T) {
	srvCfg, _ := newCluster(t, "prod").node(t, "pve1")
	tests := []struct {
		name string
		addr string
		cfg  *tls.Config
	}{
		{"no TLS", "127.0.0.1:0", nil},
		{"bad address", "127.0.0.1:99999", srvCfg},
		{"not an address", "nonsense", srvCfg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Listen(tt.addr, tt.cfg)
			if err == nil {
				m.Close()
				t.Fatal("Listen succeeded")
			}
			if !strings.HasPrefix(err.Error(), "netmux: listen") {
				t.Errorf("err = %q, want netmux context", err)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	cl := newCluster(t, "prod")
	srvCfg, cliCfg := cl.node(t, "pve1")
	m := listen(t, srvCfg)
	addr := m.Addr().String()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		d    Dialer
		ctx  context.Context
		addr string
	}{
		{"no TLS func", Dialer{}, context.Background(), addr},
		{"TLS func returns nil", Dialer{TLS: func() *tls.Config { return nil }}, context.Background(), addr},
		{"canceled context", dialer(cliCfg), canceled, addr},
		{"bad address", dialer(cliCfg), context.Background(), "127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.d.Dial(tt.ctx, tt.addr, KindRaft)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.HasPrefix(err.Error(), "netmux: dial ") {
				t.Errorf("err = %q, want netmux context", err)
			}
		})
	}
}
