package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/pki"
)

type testCA struct{ cert, key []byte }

func newTestCA(t *testing.T) testCA {
	c, k, err := pki.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	return testCA{c, k}
}

func (ca testCA) material(t *testing.T, name string) TLSMaterial {
	key, pub, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.IssueNodeCert(ca.cert, ca.key, name, pub, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := pki.ServerTLS(cert, key, ca.cert)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := pki.ClientTLS(cert, key, ca.cert)
	if err != nil {
		t.Fatal(err)
	}
	return TLSMaterial{Server: srv, Client: cli}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var fastTiming = Timing{Heartbeat: 500 * time.Millisecond, Election: 500 * time.Millisecond, LeaderLease: 250 * time.Millisecond, Commit: 5 * time.Millisecond}

func startTestNode(t *testing.T, ca testCA, name, dir, addr string, bootstrap bool) *Node {
	t.Helper()
	reg, h := cfs.NewRegistry(), cfs.NewHandlers()
	if err := RegisterCommands(reg, h); err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Name: name, DataDir: dir, Bind: addr, TLS: ca.material(t, name), Tree: cfs.NewTree(reg, h),
		Bootstrap: bootstrap, Timing: fastTiming, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func write(ctx context.Context, n *Node, path, data string) (*cfs.Result, error) {
	cmd, _ := cfs.NewCommand(cfs.OpWrite, cfs.WriteRequest{Path: path, Data: []byte(data), Parents: true})
	return n.Apply(ctx, cmd)
}

// threeNodes starts a bootstrapped node and joins two more as voters.
func threeNodes(t *testing.T) []*Node {
	ca := newTestCA(t)
	var nodes []*Node
	for i := 0; i < 3; i++ {
		n := startTestNode(t, ca, fmt.Sprintf("n%d", i), t.TempDir(), freeAddr(t), i == 0)
		nodes = append(nodes, n)
		t.Cleanup(func() { n.Shutdown() })
	}
	waitFor(t, "n0 leader", nodes[0].IsLeader)
	ctx := context.Background()
	for _, n := range nodes[1:] {
		if err := nodes[0].AddVoter(ctx, n.Name(), n.RaftAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		waitFor(t, n.Name()+" knows the leader", func() bool { id, _ := n.Leader(); return id != "" })
		// every node must know the whole configuration before a test kills
		// the leader, or a lagging follower cannot vote for the other one
		waitFor(t, n.Name()+" knows all voters", func() bool { s, err := n.Servers(); return err == nil && len(s) == 3 })
	}
	return nodes
}

func TestForwardingReadYourWritesAndReadIndex(t *testing.T) {
	nodes := threeNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	follower := nodes[1]
	if follower.IsLeader() {
		follower = nodes[2]
	}
	res, err := write(ctx, follower, "a/b", "via follower")
	if err != nil || res.Err != nil {
		t.Fatalf("write via follower: %v %v", err, res)
	}
	// read-your-write on the receiving node, at once
	e, ok := follower.Tree().Get("a/b")
	if !ok || string(e.Bytes()) != "via follower" {
		t.Fatal("follower does not see its own acknowledged write")
	}
	out, _ := follower.Forwarded()
	if out == 0 {
		t.Fatal("write was not forwarded")
	}
	// a deterministic command failure travels back as a result, not an error
	res, err = write(ctx, follower, "a/b/c", "x")
	if err != nil || res.Err == nil {
		t.Fatalf("writing below a file: %v %+v", err, res)
	}
	// linearizable read on every node sees the write
	for _, n := range nodes {
		if err := n.LinearizableRead(ctx); err != nil {
			t.Fatalf("%s: %v", n.Name(), err)
		}
		if e, ok := n.Tree().Get("a/b"); !ok || string(e.Bytes()) != "via follower" {
			t.Fatalf("%s misses the write after a read index", n.Name())
		}
	}
	waitFor(t, "same trees", func() bool {
		return nodes[0].Tree().Checksum() == nodes[1].Tree().Checksum() && nodes[1].Tree().Checksum() == nodes[2].Tree().Checksum()
	})
}

func TestLeaderLossAndQuorum(t *testing.T) {
	nodes := threeNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var leader *Node
	var rest []*Node
	for _, n := range nodes {
		if n.IsLeader() {
			leader = n
		} else {
			rest = append(rest, n)
		}
	}
	if leader == nil {
		t.Fatal("no leader")
	}
	leader.Shutdown()
	waitFor(t, "new leader", func() bool { return rest[0].IsLeader() || rest[1].IsLeader() })
	if res, err := write(ctx, rest[0], "after", "1"); err != nil || res.Err != nil {
		t.Fatalf("write after leader loss: %v %v", err, res)
	}
	// lose quorum: the last node fails writes quickly with Proxmox's text
	rest[1].Shutdown()
	waitFor(t, "no quorum", func() bool { return !rest[0].Quorate() })
	start := time.Now()
	_, err := write(ctx, rest[0], "lost", "1")
	if !errors.Is(err, ErrNoQuorum) || err.Error() != "cluster not ready - no quorum?" {
		t.Fatalf("write without quorum: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("failing a write without quorum took %v", d)
	}
	if e, ok := rest[0].Tree().Get("after"); !ok || string(e.Bytes()) != "1" {
		t.Fatal("local reads lost data")
	}
}
