package netmux

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// logFSM records the data of every applied entry.
type logFSM struct {
	mu      sync.Mutex
	applied []string
}

// Apply records the entry's data unless it is recorded already.
func (f *logFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.applied, string(l.Data)) {
		f.applied = append(f.applied, string(l.Data))
	}
	return len(f.applied)
}

func (f *logFSM) entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applied...)
}

func (f *logFSM) Snapshot() (raft.FSMSnapshot, error) {
	return fsmSnapshot(f.entries()), nil
}

func (f *logFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var entries []string
	if err := json.NewDecoder(rc).Decode(&entries); err != nil {
		return err
	}
	f.mu.Lock()
	f.applied = entries
	f.mu.Unlock()
	return nil
}

type fsmSnapshot []string

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode([]string(s)); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s fsmSnapshot) Release() {}

// raftNode is one in-process Raft server whose transport is a RaftLayer.
type raftNode struct {
	id    raft.ServerID
	mux   *Mux
	trans *raft.NetworkTransport
	raft  *raft.Raft
	fsm   *logFSM
}

func startRaftNode(t *testing.T, id string, srv, cli *tls.Config) *raftNode {
	t.Helper()
	m := listen(t, srv)
	layer, err := NewRaftLayer(m, dialer(cli), "")
	if err != nil {
		t.Fatal(err)
	}
	trans := raft.NewNetworkTransport(layer, 3, 2*time.Second, io.Discard)
	return &raftNode{id: raft.ServerID(id), mux: m, trans: trans, fsm: &logFSM{}}
}

// start runs the Raft server, bootstrapping it with servers unless nil. It
// keeps no trailing logs after a snapshot, so a server added later is
// brought up to date by an InstallSnapshot stream.
func (n *raftNode) start(t *testing.T, servers []raft.Server) {
	t.Helper()
	cfg := raft.DefaultConfig()
	cfg.LocalID = n.id
	cfg.LogOutput = io.Discard
	cfg.HeartbeatTimeout = 500 * time.Millisecond
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.CommitTimeout = 10 * time.Millisecond
	cfg.TrailingLogs = 0
	logs, stable, snaps := raft.NewInmemStore(), raft.NewInmemStore(), raft.NewInmemSnapshotStore()
	if servers != nil {
		if err := raft.BootstrapCluster(cfg, logs, stable, snaps, n.trans, raft.Configuration{Servers: servers}); err != nil {
			t.Fatalf("%s: bootstrap: %v", n.id, err)
		}
	}
	r, err := raft.NewRaft(cfg, n.fsm, logs, stable, snaps, n.trans)
	if err != nil {
		t.Fatalf("%s: NewRaft: %v", n.id, err)
	}
	n.raft = r
	t.Cleanup(func() {
		if err := r.Shutdown().Error(); err != nil {
			t.Errorf("%s: shutdown: %v", n.id, err)
		}
		_ = n.trans.Close()
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// onLeader runs op on the current leader, again on a new leader if
// leadership moves meanwhile (tight test timeouts on a loaded machine).
// A retried Apply may have been committed once already; logFSM ignores
// repeated data.
func onLeader(t *testing.T, nodes []*raftNode, op func(*raft.Raft) raft.Future) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := raft.ErrNotLeader
		for _, n := range nodes {
			if n.raft.State() == raft.Leader {
				err = op(n.raft).Error()
				break
			}
		}
		switch {
		case err == nil:
			return
		case !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, raft.ErrLeadershipLost):
			t.Fatalf("on leader: %v", err)
		case time.Now().After(deadline):
			t.Fatalf("on leader: gave up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRaftOverMux runs Raft servers whose only transport is the RaftLayer over
// mutual TLS: two elect a leader and replicate entries, then a third joins
// and catches up from a snapshot stream.
func TestRaftOverMux(t *testing.T) {
	cl := newCluster(t, "prod")
	var nodes []*raftNode
	for _, name := range []string{"pve1", "pve2"} {
		srv, cli := cl.node(t, name)
		nodes = append(nodes, startRaftNode(t, name, srv, cli))
	}
	var servers []raft.Server
	for _, n := range nodes {
		if got, want := string(n.trans.LocalAddr()), n.mux.Addr().String(); got != want {
			t.Fatalf("transport LocalAddr %q, want the mux address %q", got, want)
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: n.id, Address: n.trans.LocalAddr()})
	}
	for _, n := range nodes {
		n.start(t, servers)
	}

	var leader, follower *raftNode
	waitFor(t, 10*time.Second, "a leader", func() bool {
		for i, n := range nodes {
			if n.raft.State() == raft.Leader {
				leader, follower = n, nodes[1-i]
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "the follower to know the leader", func() bool {
		addr, id := follower.raft.LeaderWithID()
		return id == leader.id && addr == leader.trans.LocalAddr()
	})

	for i := 0; i < 3; i++ {
		onLeader(t, nodes, func(r *raft.Raft) raft.Future {
			return r.Apply([]byte(fmt.Sprintf("entry %d", i)), 5*time.Second)
		})
	}
	want := "entry 0|entry 1|entry 2"
	waitFor(t, 10*time.Second, "replication to both", func() bool {
		return strings.Join(nodes[0].fsm.entries(), "|") == want && strings.Join(nodes[1].fsm.entries(), "|") == want
	})

	// After a snapshot that compacts the whole log, a third server can only
	// catch up through an InstallSnapshot stream over the layer.
	for _, n := range nodes {
		if err := n.raft.Snapshot().Error(); err != nil {
			t.Fatalf("%s: Snapshot: %v", n.id, err)
		}
	}
	srv, cli := cl.node(t, "pve3")
	third := startRaftNode(t, "pve3", srv, cli)
	third.start(t, nil)
	onLeader(t, nodes, func(r *raft.Raft) raft.Future {
		return r.AddVoter(third.id, third.trans.LocalAddr(), 0, 5*time.Second)
	})
	waitFor(t, 10*time.Second, "the new server to restore the snapshot", func() bool {
		return strings.Join(third.fsm.entries(), "|") == want
	})
	all := append(nodes, third)
	onLeader(t, all, func(r *raft.Raft) raft.Future {
		return r.Apply([]byte("entry 3"), 5*time.Second)
	})
	waitFor(t, 10*time.Second, "replication to all three", func() bool {
		for _, n := range all {
			if strings.Join(n.fsm.entries(), "|") != want+"|entry 3" {
				return false
			}
		}
		return true
	})
	if last := third.raft.Stats()["last_snapshot_index"]; last == "" || last == "0" {
		t.Error("new server did not install a snapshot")
	}
}

func TestNewRaftLayer(t *testing.T) {
	cl := newCluster(t, "prod")
	srv, cli := cl.node(t, "pve1")
	m := listen(t, srv)
	wild, err := Listen("0.0.0.0:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	tests := []struct {
		name      string
		mux       *Mux
		d         Dialer
		advertise string
		want      string
		wantErr   bool
	}{
		{name: "default is the mux address", mux: m, d: dialer(cli), want: m.Addr().String()},
		{name: "explicit IP", mux: m, d: dialer(cli), advertise: "10.0.0.1:5405", want: "10.0.0.1:5405"},
		{name: "host name", mux: m, d: dialer(cli), advertise: "pve1.example.com:5405", want: "pve1.example.com:5405"},
		{name: "wildcard mux without advertise", mux: wild, d: dialer(cli), wantErr: true},
		{name: "wildcard mux with advertise", mux: wild, d: dialer(cli), advertise: "10.0.0.1:5405", want: "10.0.0.1:5405"},
		{name: "unspecified IPv4", mux: m, d: dialer(cli), advertise: "0.0.0.0:5405", wantErr: true},
		{name: "unspecified IPv6", mux: m, d: dialer(cli), advertise: "[::]:5405", wantErr: true},
		{name: "no port", mux: m, d: dialer(cli), advertise: "10.0.0.1", wantErr: true},
		{name: "no host", mux: m, d: dialer(cli), advertise: ":5405", wantErr: true},
		{name: "port zero", mux: m, d: dialer(cli), advertise: "10.0.0.1:0", wantErr: true},
		{name: "no mux", mux: nil, d: dialer(cli), wantErr: true},
		{name: "no TLS", mux: m, d: Dialer{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewRaftLayer(tt.mux, tt.d, tt.advertise)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := l.Addr().String(); got != tt.want || l.Addr().Network() != "tcp" {
				t.Errorf("Addr = %s/%s, want tcp/%s", l.Addr().Network(), got, tt.want)
			}
		})
	}
}

// TestRaftLayerDial checks that Dial reaches the peer's Raft listener and
// honours its timeout.
func TestRaftLayerDial(t *testing.T) {
	cl := newCluster(t, "prod")
	srv1, cli1 := cl.node(t, "pve1")
	srv2, _ := cl.node(t, "pve2")
	m1, m2 := listen(t, srv1), listen(t, srv2)
	l1, err := NewRaftLayer(m1, dialer(cli1), "")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := NewRaftLayer(m2, dialer(cli1), "")
	if err != nil {
		t.Fatal(err)
	}
	in := accepting(t, l2)
	rpc := accepting(t, m2.Listener(KindRPC))
	c, err := l1.Dial(raft.ServerAddress(l2.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	if in.next(5*time.Second) == nil {
		t.Fatal("peer's Raft listener got nothing")
	}
	if rpc.next(100*time.Millisecond) != nil {
		t.Error("Raft dial reached the RPC service")
	}
	// 192.0.2.0/24 (TEST-NET-1) is not routed: the dial must give up in time.
	start := time.Now()
	if c, err := l1.Dial("192.0.2.1:5405", 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatal("Dial to an unroutable address succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Dial with a 200ms timeout took %v", d)
	}
}
