package cluster

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pvecfs/pvecfs/cfs"
)

// Internal RPC between nodes: one request and one response at a time per
// connection, each a 4-byte big-endian length and a JSON body. Connections
// are mutual TLS (netmux kind KindRPC) and pooled per peer.

const maxFrame = 8 << 20

type rpcRequest struct {
	Type string `json:"type"`
	Data []byte `json:"data,omitempty"` // an encoded command (log entry)
	ID   string `json:"id,omitempty"`
	Addr string `json:"addr,omitempty"`
}

type rpcResponse struct {
	Result *cfs.Result `json:"result,omitempty"`
	Index  uint64      `json:"index,omitempty"`
	Info   *NodeInfo   `json:"info,omitempty"`
	Error  string      `json:"error,omitempty"`
	Code   string      `json:"code,omitempty"`
}

// NodeInfo is what a node tells about itself to a probe.
type NodeInfo struct {
	Name     string `json:"name"`
	APIAddr  string `json:"api_addr"`
	RaftAddr string `json:"raft_addr"`
	State    string `json:"state"`
	Applied  uint64 `json:"applied"`
	Term     uint64 `json:"term"`
}

// rpc error codes carried in rpcResponse.Code
const (
	codeNotLeader = "not-leader"
	codeNoQuorum  = "no-quorum"
)

func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(b)))
	if _, err := w.Write(append(hdr[:], b...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return fmt.Errorf("rpc frame of %d bytes too large", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// serveRPC accepts internal RPC connections until ln is closed.
func (n *Node) serveRPC(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go n.serveConn(c)
	}
}

func (n *Node) serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
		var req rpcRequest
		if err := readFrame(br, &req); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		resp := n.handleRPC(ctx, &req)
		cancel()
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := writeFrame(c, resp); err != nil {
			return
		}
	}
}

func errResponse(err error) *rpcResponse {
	switch {
	case errors.Is(err, ErrNotLeader):
		return &rpcResponse{Error: err.Error(), Code: codeNotLeader}
	case errors.Is(err, ErrNoQuorum):
		return &rpcResponse{Error: err.Error(), Code: codeNoQuorum}
	}
	return &rpcResponse{Error: err.Error()}
}

func (n *Node) handleRPC(ctx context.Context, req *rpcRequest) *rpcResponse {
	switch req.Type {
	case "apply":
		res, err := n.applyLeader(ctx, req.Data)
		if err != nil {
			return errResponse(err)
		}
		n.metrics.forwardedIn.Add(1)
		return &rpcResponse{Result: res}
	case "read-index":
		idx, err := n.readIndexLeader(ctx)
		if err != nil {
			return errResponse(err)
		}
		return &rpcResponse{Index: idx}
	case "add-voter":
		if err := n.AddVoter(ctx, req.ID, req.Addr); err != nil {
			return errResponse(err)
		}
		return &rpcResponse{}
	case "remove-server":
		if err := n.removeServerLeader(ctx, req.ID); err != nil {
			return errResponse(err)
		}
		return &rpcResponse{}
	case "probe":
		info := n.Info()
		return &rpcResponse{Info: &info}
	}
	return &rpcResponse{Error: fmt.Sprintf("unknown rpc %q", req.Type)}
}

// rpcClient keeps idle connections per peer address.
type rpcClient struct {
	dial func(ctx context.Context, addr string) (net.Conn, error)
	mu   sync.Mutex
	idle map[string][]*rpcConn
}

type rpcConn struct {
	c  net.Conn
	br *bufio.Reader
}

func newRPCClient(dial func(ctx context.Context, addr string) (net.Conn, error)) *rpcClient {
	return &rpcClient{dial: dial, idle: make(map[string][]*rpcConn)}
}

func (p *rpcClient) get(ctx context.Context, addr string, fresh bool) (*rpcConn, bool, error) {
	if !fresh {
		p.mu.Lock()
		if l := p.idle[addr]; len(l) > 0 {
			c := l[len(l)-1]
			p.idle[addr] = l[:len(l)-1]
			p.mu.Unlock()
			return c, true, nil
		}
		p.mu.Unlock()
	}
	c, err := p.dial(ctx, addr)
	if err != nil {
		return nil, false, err
	}
	return &rpcConn{c: c, br: bufio.NewReader(c)}, false, nil
}

func (p *rpcClient) put(addr string, c *rpcConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[addr]) >= 64 {
		c.c.Close()
		return
	}
	p.idle[addr] = append(p.idle[addr], c)
}

// closeAll drops every pooled connection.
func (p *rpcClient) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, l := range p.idle {
		for _, c := range l {
			c.c.Close()
		}
		delete(p.idle, a)
	}
}

// call sends one request. A pooled connection that turns out dead is
// retried once on a fresh connection, but only when the request cannot have
// been delivered (the write failed) or the request is idempotent.
func (p *rpcClient) call(ctx context.Context, addr string, req *rpcRequest, idempotent bool) (*rpcResponse, error) {
	for attempt := 0; ; attempt++ {
		c, pooled, err := p.get(ctx, addr, attempt > 0)
		if err != nil {
			return nil, &notSentError{fmt.Errorf("dial %s: %w", addr, err)}
		}
		dl, ok := ctx.Deadline()
		if !ok {
			dl = time.Now().Add(30 * time.Second)
		}
		_ = c.c.SetDeadline(dl)
		werr := writeFrame(c.c, req)
		var resp rpcResponse
		var rerr error
		if werr == nil {
			rerr = readFrame(c.br, &resp)
		}
		if werr == nil && rerr == nil {
			_ = c.c.SetDeadline(time.Time{})
			p.put(addr, c)
			return &resp, nil
		}
		c.c.Close()
		if pooled && attempt == 0 && (werr != nil || idempotent || errors.Is(rerr, io.EOF)) && ctx.Err() == nil {
			continue
		}
		if werr != nil {
			return nil, &notSentError{fmt.Errorf("rpc %s to %s: %w", req.Type, addr, werr)}
		}
		return nil, fmt.Errorf("rpc %s to %s: %w", req.Type, addr, rerr)
	}
}

// notSentError marks an RPC that certainly did not reach the peer, so a
// non-idempotent request may be sent again elsewhere.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }
