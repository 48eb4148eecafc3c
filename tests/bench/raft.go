package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/pvecfs/pvecfs/cluster"
	"go.etcd.io/bbolt"
)

// Part (a): bare hashicorp/raft with a no-op FSM, on the log store, snapshot
// store and Raft configuration pvecfs uses (cluster/node.go), but over plain
// TCP on 127.0.0.1 and with all three nodes in this process.

type noopFSM struct{}

func (noopFSM) Apply(*raft.Log) any                 { return nil }
func (noopFSM) Snapshot() (raft.FSMSnapshot, error) { return noopSnapshot{}, nil }
func (noopFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type noopSnapshot struct{}

func (noopSnapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (noopSnapshot) Release()                             {}

type raftNode struct {
	id    raft.ServerID
	r     *raft.Raft
	store *raftboltdb.BoltStore
	trans *raft.NetworkTransport
}

type raftCluster struct {
	nodes  []*raftNode
	leader atomic.Pointer[raftNode]
}

// benchTiming is the Raft timing of both the bare-Raft nodes and the
// pvecfs processes (flags -heartbeat, -election, -lease).
var benchTiming = cluster.DefaultTiming

// raftConfig mirrors cluster/node.go startRaft.
func raftConfig(id string, logger hclog.Logger) *raft.Config {
	t := benchTiming
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	rc.Logger = logger
	rc.HeartbeatTimeout = t.Heartbeat
	rc.ElectionTimeout = t.Election
	rc.LeaderLeaseTimeout = t.LeaderLease
	rc.CommitTimeout = t.Commit
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 64
	rc.SnapshotThreshold = 4096
	rc.TrailingLogs = 4096
	rc.ShutdownOnRemove = false
	return rc
}

func startRaftNode(dir, id string, logger hclog.Logger) (*raftNode, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("raft node %s: create %s: %w", id, dir, err)
	}
	path := filepath.Join(dir, "raft.db")
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        path,
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true},
	})
	if err != nil {
		return nil, fmt.Errorf("raft node %s: open log %s: %w", id, path, err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft node %s: snapshot store: %w", id, err)
	}
	trans, err := raft.NewTCPTransportWithLogger("127.0.0.1:0", nil, 8, 5*time.Second, logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft node %s: tcp transport: %w", id, err)
	}
	r, err := raft.NewRaft(raftConfig(id, logger), noopFSM{}, store, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raft node %s: start: %w", id, err)
	}
	return &raftNode{id: raft.ServerID(id), r: r, store: store, trans: trans}, nil
}

// startRaftCluster starts n nodes under dir, bootstraps them as one cluster
// and waits for a leader.
func startRaftCluster(ctx context.Context, dir string, n int, logw io.Writer) (*raftCluster, error) {
	logger := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: logw})
	c := &raftCluster{}
	var conf raft.Configuration
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("raft%d", i)
		rn, err := startRaftNode(filepath.Join(dir, id), id, logger.Named(id))
		if err != nil {
			c.shutdown()
			return nil, err
		}
		c.nodes = append(c.nodes, rn)
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: rn.id, Address: rn.trans.LocalAddr()})
	}
	if err := c.nodes[0].r.BootstrapCluster(conf).Error(); err != nil {
		c.shutdown()
		return nil, fmt.Errorf("bootstrap raft cluster: %w", err)
	}
	if _, err := c.waitLeader(ctx, 15*time.Second); err != nil {
		c.shutdown()
		return nil, err
	}
	return c, nil
}

// waitLeader polls until one node is leader and every node knows it.
func (c *raftCluster) waitLeader(ctx context.Context, timeout time.Duration) (*raftNode, error) {
	deadline := time.Now().Add(timeout)
	for {
		var leader *raftNode
		for _, n := range c.nodes {
			if n.r.State() == raft.Leader {
				leader = n
			}
		}
		if leader != nil {
			agreed := true
			for _, n := range c.nodes {
				if _, id := n.r.LeaderWithID(); id != leader.id {
					agreed = false
				}
			}
			if agreed {
				c.leader.Store(leader)
				return leader, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("raft cluster: no agreed leader after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("raft cluster: wait for leader: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// apply applies payload on the current leader; after a leadership change it
// finds the new leader for the next call (the failed call counts as an error).
func (c *raftCluster) apply(ctx context.Context, payload []byte) error {
	l := c.leader.Load()
	err := l.r.Apply(payload, 10*time.Second).Error()
	if err == nil {
		return nil
	}
	if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
		if _, werr := c.waitLeader(ctx, 10*time.Second); werr != nil {
			return fmt.Errorf("apply on %s: %w (then %v)", l.id, err, werr)
		}
	}
	return fmt.Errorf("apply on %s: %w", l.id, err)
}

func (c *raftCluster) shutdown() {
	for _, n := range c.nodes {
		_ = n.r.Shutdown().Error()
		_ = n.trans.Close()
		_ = n.store.Close()
	}
}

// raftBench is part (a): a running in-process cluster.
type raftBench struct {
	c       *raftCluster
	dir     string
	logf    *os.File
	payload []byte
}

func newRaftBench(ctx context.Context, o *options, payload []byte) (*raftBench, error) {
	dir, err := os.MkdirTemp(o.work, "raft-")
	if err != nil {
		return nil, fmt.Errorf("raft bench: temp dir: %w", err)
	}
	logf, err := os.Create(filepath.Join(o.work, "raft.log"))
	if err != nil {
		return nil, fmt.Errorf("raft bench: log file: %w", err)
	}
	c, err := startRaftCluster(ctx, dir, 3, logf)
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("raft bench: %w (log %s)", err, logf.Name())
	}
	return &raftBench{c: c, dir: dir, logf: logf, payload: payload}, nil
}

// measure runs one row with n clients, each calling Apply on the leader.
func (b *raftBench) measure(ctx context.Context, o *options, n int) (loadResult, error) {
	r, err := runLoad(ctx, "(a) bare raft, no-op FSM", n, o.warmup, o.duration, func() cpuSample {
		self, ok := selfCPU()
		return cpuSample{self: self, ok: ok}
	}, func(ctx context.Context, _, _ int) error {
		return b.c.apply(ctx, b.payload)
	})
	if err != nil {
		return r, fmt.Errorf("raft bench: %w (log %s)", err, b.logf.Name())
	}
	return r, nil
}

func (b *raftBench) close() {
	b.c.shutdown()
	b.logf.Close()
}
