package netmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// RaftLayer is a raft.StreamLayer over a Mux: it accepts the Mux's KindRaft
// connections and dials peers' Muxes with KindRaft.
type RaftLayer struct {
	net.Listener
	dialer    Dialer
	advertise net.Addr
}

var _ raft.StreamLayer = (*RaftLayer)(nil)

// NewRaftLayer returns the Raft stream layer of m. advertise is the address
// other nodes dial to reach this one ("host:port"); it becomes the
// transport's LocalAddr. Empty means m's own address, which must then not be
// a wildcard such as 0.0.0.0.
func NewRaftLayer(m *Mux, d Dialer, advertise string) (*RaftLayer, error) {
	if m == nil {
		return nil, errors.New("netmux: raft layer: no mux")
	}
	if d.TLS == nil {
		return nil, errors.New("netmux: raft layer: dialer has no TLS configuration")
	}
	if advertise == "" {
		advertise = m.Addr().String()
	}
	host, port, err := net.SplitHostPort(advertise)
	if err != nil {
		return nil, fmt.Errorf("netmux: raft layer: advertise address: %w", err)
	}
	if host == "" || port == "" || port == "0" {
		return nil, fmt.Errorf("netmux: raft layer: advertise address %q is not dialable", advertise)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("netmux: raft layer: advertise address %q is not dialable; give the node's address", advertise)
	}
	return &RaftLayer{
		Listener:  m.Listener(KindRaft),
		dialer:    d,
		advertise: advertiseAddr(advertise),
	}, nil
}

// Addr returns the advertised address, which Raft reports as its own.
func (r *RaftLayer) Addr() net.Addr { return r.advertise }

// Dial opens a Raft connection to the peer at address within timeout
// (no limit if timeout <= 0).
func (r *RaftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return r.dialer.Dial(ctx, string(address), KindRaft)
}

// advertiseAddr is a net.Addr given as a string.
type advertiseAddr string

// Network returns "tcp".
func (a advertiseAddr) Network() string { return "tcp" }

// String returns the address.
func (a advertiseAddr) String() string { return string(a) }
