// Package cluster runs the Raft node that replicates the cfs tree: the FSM,
// snapshots, bootstrap, join and leave, forwarding writes to the leader and
// linearizable reads. It knows commands only as opaque cfs handlers.
package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cluster/netmux"
	"go.etcd.io/bbolt"
)

// Errors returned by the node. ErrNoQuorum carries Proxmox's message.
var (
	ErrNoQuorum  = errors.New("cluster not ready - no quorum?")
	ErrNotLeader = errors.New("not the cluster leader")
	ErrShutdown  = errors.New("node is shutting down")
)

// Timing holds the Raft timeouts.
type Timing struct {
	Heartbeat   time.Duration
	Election    time.Duration
	LeaderLease time.Duration
	Commit      time.Duration
}

// DefaultTiming is hashicorp/raft's default (failover in 1–2 s), robust on
// loaded machines. On a quiet LAN (Proxmox requires < 5 ms latency) the
// serve flags can tune it down, e.g. 200 ms heartbeat/election and 100 ms
// lease for failover in about a third of a second (docs/benchmarks.md).
var DefaultTiming = Timing{Heartbeat: time.Second, Election: time.Second,
	LeaderLease: 500 * time.Millisecond, Commit: 5 * time.Millisecond}

// TLSMaterial is a node's certificate, key and the cluster CA, in PEM.
type TLSMaterial struct {
	Server *tls.Config
	Client *tls.Config
}

// Config configures a Node.
type Config struct {
	Name      string
	DataDir   string // Raft state goes to DataDir/raft
	Bind      string // cluster listen address (Raft + RPC)
	Advertise string // address other nodes dial; defaults to Bind
	APIAddr   string // the node's REST address, reported to probes
	TLS       TLSMaterial
	Tree      *cfs.Tree
	Bootstrap bool // bootstrap a one-voter cluster when there is no Raft state
	Timing    Timing
	Logger    *slog.Logger
	LogJSON   bool
}

// Node is one member of the Raft cluster.
type Node struct {
	cfg     Config
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	mux     *netmux.Mux
	server  atomic.Pointer[tls.Config]
	client  atomic.Pointer[tls.Config]
	rpc     *rpcClient
	fsm     *FSM
	metrics nodeMetrics

	mu        sync.RWMutex // guards raft and stores across restart (join)
	raft      *raft.Raft
	logStore  *raftboltdb.BoltStore
	trans     *raft.NetworkTransport
	readyTerm atomic.Uint64 // term in which this leader has applied a barrier
}

type nodeMetrics struct {
	forwardedOut atomic.Uint64
	forwardedIn  atomic.Uint64
}

// New prepares a node; Start opens the port and starts Raft.
func New(cfg Config) (*Node, error) {
	if cfg.Name == "" || cfg.DataDir == "" || cfg.Bind == "" || cfg.Tree == nil {
		return nil, errors.New("cluster: name, data dir, bind address and tree are required")
	}
	if cfg.Advertise == "" {
		cfg.Advertise = cfg.Bind
	}
	if cfg.Timing == (Timing{}) {
		cfg.Timing = DefaultTiming
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("component", "cluster"), fsm: NewFSM(cfg.Tree)}
	n.server.Store(cfg.TLS.Server)
	n.client.Store(cfg.TLS.Client)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.rpc = newRPCClient(func(ctx context.Context, addr string) (net.Conn, error) {
		return n.dialer().Dial(ctx, addr, netmux.KindRPC)
	})
	return n, nil
}

func (n *Node) dialer() *netmux.Dialer {
	return &netmux.Dialer{TLS: func() *tls.Config { return n.client.Load() }}
}

// FSM returns the node's state machine.
func (n *Node) FSM() *FSM { return n.fsm }

// Tree returns the replicated tree.
func (n *Node) Tree() *cfs.Tree { return n.cfg.Tree }

// Name returns the node name (its Raft server ID).
func (n *Node) Name() string { return n.cfg.Name }

// RaftAddr returns the advertised cluster address.
func (n *Node) RaftAddr() string { return n.cfg.Advertise }

// Start opens the cluster port and starts Raft.
func (n *Node) Start(ctx context.Context) error {
	mux, err := netmux.Listen(n.cfg.Bind, n.cfg.TLS.Server)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", n.cfg.Bind, err)
	}
	n.mux = mux
	go n.serveRPC(mux.Listener(netmux.KindRPC))
	if err := n.startRaft(n.cfg.Bootstrap); err != nil {
		mux.Close()
		return err
	}
	return nil
}

func (n *Node) raftDir() string { return filepath.Join(n.cfg.DataDir, "raft") }

func (n *Node) startRaft(bootstrap bool) error {
	dir := n.raftDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true},
	})
	if err != nil {
		return fmt.Errorf("open raft log %s: %w", filepath.Join(dir, "raft.db"), err)
	}
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: os.Stderr, JSONFormat: n.cfg.LogJSON})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hl)
	if err != nil {
		store.Close()
		return fmt.Errorf("open snapshot store: %w", err)
	}
	layer, err := netmux.NewRaftLayer(n.mux, *n.dialer(), n.cfg.Advertise)
	if err != nil {
		store.Close()
		return fmt.Errorf("raft transport: %w", err)
	}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 8, Timeout: 5 * time.Second, Logger: hl,
	})
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.Name)
	rc.Logger = hl
	rc.HeartbeatTimeout = n.cfg.Timing.Heartbeat
	rc.ElectionTimeout = n.cfg.Timing.Election
	rc.LeaderLeaseTimeout = n.cfg.Timing.LeaderLease
	rc.CommitTimeout = n.cfg.Timing.Commit
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 64
	rc.SnapshotThreshold = 4096
	rc.TrailingLogs = 4096
	rc.ShutdownOnRemove = false
	hasState, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		store.Close()
		return fmt.Errorf("inspect raft state: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, trans)
	if err != nil {
		store.Close()
		return fmt.Errorf("start raft: %w", err)
	}
	if bootstrap && !hasState {
		f := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.Name), Address: raft.ServerAddress(n.cfg.Advertise)}}})
		if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			r.Shutdown()
			store.Close()
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	n.mu.Lock()
	n.raft, n.logStore, n.trans = r, store, trans
	n.mu.Unlock()
	return nil
}

func (n *Node) stopRaft() error {
	n.mu.Lock()
	r, store := n.raft, n.logStore
	n.raft, n.logStore = nil, nil
	n.mu.Unlock()
	if r == nil {
		return nil
	}
	err := r.Shutdown().Error()
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	return err
}

// Shutdown stops Raft and closes the port.
func (n *Node) Shutdown() error {
	n.cancel()
	err := n.stopRaft()
	n.rpc.closeAll()
	if n.mux != nil {
		n.mux.Close()
	}
	return err
}

func (n *Node) r() *raft.Raft {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.raft
}

// HasState reports whether Raft has a log, snapshot or term on disk.
func HasState(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "raft", "raft.db"))
	return err == nil
}

// IsLeader reports whether this node is the Raft leader.
func (n *Node) IsLeader() bool {
	r := n.r()
	return r != nil && r.State() == raft.Leader
}

// Leader returns the leader's ID and address, empty if unknown.
func (n *Node) Leader() (id, addr string) {
	r := n.r()
	if r == nil {
		return "", ""
	}
	a, i := r.LeaderWithID()
	return string(i), string(a)
}

// Quorate reports whether this node currently sees a working majority:
// it is the leader, or it follows a leader it heard from recently.
func (n *Node) Quorate() bool {
	r := n.r()
	if r == nil {
		return false
	}
	if r.State() == raft.Leader {
		return true
	}
	if _, id := r.LeaderWithID(); id == "" {
		return false
	}
	return time.Since(r.LastContact()) < 3*n.cfg.Timing.Heartbeat+time.Second
}

// AppliedIndex returns the index of the last entry applied locally.
func (n *Node) AppliedIndex() uint64 { return n.fsm.applied.get() }

// WaitApplied blocks until the local tree has applied index i.
//
// Entries that never reach the FSM (no-ops, barriers, configuration
// changes) are seen through Raft's applied index, but that index counts
// entries handed to the FSM goroutine, not applied ones (hashicorp/raft:
// "the application's state may lag behind this index"). Once it reaches i,
// the wait goes on for the last command at or below i.
func (n *Node) WaitApplied(ctx context.Context, i uint64) error {
	if err := n.fsm.applied.wait(ctx, i, func() uint64 {
		if r := n.r(); r != nil {
			return r.AppliedIndex()
		}
		return 0
	}); err != nil {
		return err
	}
	return n.fsm.applied.wait(ctx, n.lastCommand(i), nil)
}

// lastCommand returns the index of the last command entry at or below i
// that the FSM may not have applied yet (0 if there is none). A log entry
// no longer stored was compacted into a snapshot, so it and every entry
// before it are applied.
func (n *Node) lastCommand(i uint64) uint64 {
	n.mu.RLock()
	store := n.logStore
	n.mu.RUnlock()
	if store == nil {
		return 0
	}
	for j := i; j > n.fsm.applied.get(); j-- {
		var l raft.Log
		if err := store.GetLog(j, &l); err != nil {
			return 0
		}
		if l.Type == raft.LogCommand {
			return j
		}
	}
	return 0
}

// Apply stamps cmd with this node's name and clock, sends it through the
// log (forwarding to the leader if needed) and returns once this node has
// applied it. A command failure is in the Result; err is a cluster failure.
func (n *Node) Apply(ctx context.Context, cmd *cfs.Command) (*cfs.Result, error) {
	if cmd.V == 0 {
		cmd.V = cfs.CommandVersion
	}
	if cmd.Time == 0 {
		cmd.Time = time.Now().Unix()
	}
	if cmd.Node == "" {
		cmd.Node = n.cfg.Name
	}
	data, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	return n.ApplyRaw(ctx, data)
}

// ApplyRaw is Apply for an encoded command. While no leader is known (an
// election is running) or the known leader cannot be reached (it just
// died), the write waits up to about two election timeouts for a leader
// and is sent there: it was never delivered, so this is safe. After that it
// fails with ErrNoQuorum.
func (n *Node) ApplyRaw(ctx context.Context, data []byte) (*cfs.Result, error) {
	var failed string
	deadline := time.Now().Add(2*n.cfg.Timing.Election + 500*time.Millisecond)
	wait := func() bool {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
			return true
		}
	}
	for {
		r := n.r()
		if r == nil {
			return nil, ErrNoQuorum
		}
		if r.State() == raft.Leader {
			res, err := n.applyLeader(ctx, data)
			if errors.Is(err, ErrNotLeader) && wait() {
				continue // lost leadership before the entry was enqueued
			}
			return res, err
		}
		leaderAddr, leaderID := r.LeaderWithID()
		if leaderID == "" || string(leaderID) == failed {
			if !wait() {
				return nil, ErrNoQuorum
			}
			continue
		}
		n.metrics.forwardedOut.Add(1)
		resp, err := n.rpc.call(ctx, string(leaderAddr), &rpcRequest{Type: "apply", Data: data}, false)
		if err != nil {
			var ns *notSentError
			if errors.As(err, &ns) {
				n.log.Debug("leader unreachable, waiting for a new one", "leader", leaderID, "err", err)
				failed = string(leaderID)
				continue
			}
			n.log.Debug("forward to leader failed", "leader", leaderID, "err", err)
			return nil, ErrNoQuorum
		}
		if resp.Error != "" {
			if resp.Code == codeNotLeader && wait() {
				continue // the leader stepped down before enqueuing: not applied
			}
			if resp.Code == codeNoQuorum || resp.Code == codeNotLeader {
				return nil, ErrNoQuorum
			}
			return nil, errors.New(resp.Error)
		}
		// a command's index always reaches the FSM: no polling needed
		if err := n.fsm.applied.wait(ctx, resp.Result.Index, nil); err != nil {
			return nil, err
		}
		return resp.Result, nil
	}
}

// applyLeader appends data to the log on this (leader) node and waits for
// it to be applied here.
func (n *Node) applyLeader(ctx context.Context, data []byte) (*cfs.Result, error) {
	r := n.r()
	if r == nil || r.State() != raft.Leader {
		return nil, ErrNotLeader
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := r.Apply(data, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrEnqueueTimeout) || errors.Is(err, raft.ErrRaftShutdown) {
				return nil, ErrNoQuorum
			}
			return nil, fmt.Errorf("apply: %w", err)
		}
	case <-ctx.Done():
		return nil, ErrNoQuorum
	}
	res, ok := f.Response().(*cfs.Result)
	if !ok {
		return nil, fmt.Errorf("apply: unexpected response %T", f.Response())
	}
	return res, nil
}

// readIndexLeader returns an index such that every write acknowledged
// before the call is at or below it, after confirming leadership.
func (n *Node) readIndexLeader(ctx context.Context) (uint64, error) {
	r := n.r()
	if r == nil || r.State() != raft.Leader {
		return 0, ErrNotLeader
	}
	term := r.CurrentTerm()
	if n.readyTerm.Load() != term {
		// a new leader must commit an entry of its own term first
		if err := r.Barrier(5 * time.Second).Error(); err != nil {
			return 0, ErrNoQuorum
		}
		n.readyTerm.Store(term)
	}
	idx := r.CommitIndex()
	if err := r.VerifyLeader().Error(); err != nil {
		return 0, ErrNoQuorum
	}
	if r.CurrentTerm() != term {
		return 0, ErrNoQuorum
	}
	return idx, nil
}

// LinearizableRead returns once the local tree reflects every write
// acknowledged before the call anywhere in the cluster (read index).
func (n *Node) LinearizableRead(ctx context.Context) error {
	r := n.r()
	if r == nil {
		return ErrNoQuorum
	}
	var idx uint64
	if r.State() == raft.Leader {
		i, err := n.readIndexLeader(ctx)
		if err != nil {
			return err
		}
		idx = i
	} else {
		addr, id := r.LeaderWithID()
		if id == "" {
			return ErrNoQuorum
		}
		resp, err := n.rpc.call(ctx, string(addr), &rpcRequest{Type: "read-index"}, true)
		if err != nil || resp.Error != "" {
			return ErrNoQuorum
		}
		idx = resp.Index
	}
	return n.WaitApplied(ctx, idx)
}

func (n *Node) leaderCall(ctx context.Context, req *rpcRequest, local func() error) error {
	r := n.r()
	if r == nil {
		return ErrNoQuorum
	}
	if r.State() == raft.Leader {
		return local()
	}
	addr, id := r.LeaderWithID()
	if id == "" {
		return ErrNoQuorum
	}
	resp, err := n.rpc.call(ctx, string(addr), req, false)
	if err != nil {
		return ErrNoQuorum
	}
	if resp.Error != "" {
		if resp.Code == codeNoQuorum || resp.Code == codeNotLeader {
			return ErrNoQuorum
		}
		return errors.New(resp.Error)
	}
	return nil
}

// AddVoter adds a server to the Raft configuration (through the leader).
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.leaderCall(ctx, &rpcRequest{Type: "add-voter", ID: id, Addr: addr}, func() error { return n.addVoterLeader(ctx, id, addr) })
}

// AddVoterVia asks the node at addr (a cluster member, which forwards to
// its leader) to add this server; used by a joining node that does not
// know the leader yet.
func (n *Node) AddVoterVia(ctx context.Context, addr, id, raftAddr string) error {
	resp, err := n.rpc.call(ctx, addr, &rpcRequest{Type: "add-voter", ID: id, Addr: raftAddr}, true)
	if err != nil {
		return err
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}

func (n *Node) addVoterLeader(ctx context.Context, id, addr string) error {
	r := n.r()
	if r == nil || r.State() != raft.Leader {
		return ErrNotLeader
	}
	cf := r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return fmt.Errorf("get configuration: %w", err)
	}
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == id && string(s.Address) == addr && s.Suffrage == raft.Voter {
			return nil // already a voter: joining again changes nothing
		}
		if string(s.ID) == id || string(s.Address) == addr {
			if err := r.RemoveServer(s.ID, 0, 10*time.Second).Error(); err != nil {
				return fmt.Errorf("remove stale server %s: %w", s.ID, err)
			}
		}
	}
	if err := r.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 10*time.Second).Error(); err != nil {
		return fmt.Errorf("add voter %s: %w", id, err)
	}
	return nil
}

// RemoveServer removes a server from the Raft configuration (through the leader).
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	return n.leaderCall(ctx, &rpcRequest{Type: "remove-server", ID: id}, func() error { return n.removeServerLeader(ctx, id) })
}

func (n *Node) removeServerLeader(ctx context.Context, id string) error {
	r := n.r()
	if r == nil || r.State() != raft.Leader {
		return ErrNotLeader
	}
	if err := r.RemoveServer(raft.ServerID(id), 0, 10*time.Second).Error(); err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	return nil
}

// Servers returns the current Raft configuration.
func (n *Node) Servers() ([]raft.Server, error) {
	r := n.r()
	if r == nil {
		return nil, ErrShutdown
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// Info describes this node.
func (n *Node) Info() NodeInfo {
	info := NodeInfo{Name: n.cfg.Name, APIAddr: n.cfg.APIAddr, RaftAddr: n.cfg.Advertise, Applied: n.AppliedIndex()}
	if r := n.r(); r != nil {
		info.State = r.State().String()
		info.Term = r.CurrentTerm()
	}
	return info
}

// Probe asks the node at addr about itself (short timeout).
func (n *Node) Probe(ctx context.Context, addr string) (NodeInfo, error) {
	if addr == n.cfg.Advertise {
		return n.Info(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	resp, err := n.rpc.call(ctx, addr, &rpcRequest{Type: "probe"}, true)
	if err != nil {
		return NodeInfo{}, err
	}
	if resp.Info == nil {
		return NodeInfo{}, errors.New(resp.Error)
	}
	return *resp.Info, nil
}

// Stats returns Raft's statistics.
func (n *Node) Stats() map[string]string {
	r := n.r()
	if r == nil {
		return map[string]string{"state": "Shutdown"}
	}
	return r.Stats()
}

// Forwarded returns how many writes this node forwarded to the leader and
// how many it received from followers.
func (n *Node) Forwarded() (out, in uint64) {
	return n.metrics.forwardedOut.Load(), n.metrics.forwardedIn.Load()
}

// SetApplyObserver installs a callback that sees each apply's duration.
func (n *Node) SetApplyObserver(fn func(time.Duration)) { n.fsm.onApply.Store(&fn) }

// Rejoin throws away this node's Raft state, switches to the cluster's TLS
// material and restarts Raft without bootstrapping, so that the cluster's
// leader replicates its log (and tree) to it. The tree is emptied.
func (n *Node) Rejoin(tlsm TLSMaterial) error {
	if err := n.stopRaft(); err != nil {
		n.log.Warn("stop raft before join", "err", err)
	}
	if err := os.RemoveAll(n.raftDir()); err != nil {
		return fmt.Errorf("remove %s: %w", n.raftDir(), err)
	}
	if err := n.cfg.Tree.Restore(emptySnapshot()); err != nil {
		return fmt.Errorf("reset tree: %w", err)
	}
	n.fsm.applied = newIndexWaiter()
	n.server.Store(tlsm.Server)
	n.client.Store(tlsm.Client)
	if err := n.mux.SetTLS(tlsm.Server); err != nil {
		return fmt.Errorf("switch cluster TLS: %w", err)
	}
	n.rpc.closeAll()
	return n.startRaft(false)
}
