// Package cluster_test runs real pvecfs processes (3 per test) on
// 127.0.0.1, forms clusters with pvecm, kills nodes with SIGKILL and
// checks replication, failover, quorum, locks and bad input.
package cluster_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
}

func root(ctx context.Context, t *testing.T, n *harness.Node) *harness.Client {
	t.Helper()
	c, err := n.RootClient(ctx)
	if err != nil {
		t.Fatalf("root login on %s: %v", n.Name, err)
	}
	return c
}

func put(ctx context.Context, c *harness.Client, path, content string) (*harness.Response, error) {
	return c.Do(ctx, "PUT", "/pvecfs/files", url.Values{"path": {path}, "content": {content}})
}

func cat(ctx context.Context, t *testing.T, c *harness.Client, path string) (string, int) {
	t.Helper()
	r, err := c.Do(ctx, "GET", "/pvecfs/files", url.Values{"path": {path}})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var fi struct{ Content string }
	_ = r.Decode(&fi)
	return fi.Content, r.Status
}

type checksum struct {
	Checksum string `json:"checksum"`
	Version  uint64 `json:"version"`
}

// linearizableChecksum asks a node for its whole-tree checksum after a read index.
func linearizableChecksum(ctx context.Context, c *harness.Client) (checksum, error) {
	c.SetHeader("X-Pvecfs-Consistency", "linearizable")
	defer c.SetHeader("X-Pvecfs-Consistency", "")
	r, err := c.Do(ctx, "GET", "/pvecfs/checksum", nil)
	if err != nil {
		return checksum{}, err
	}
	if r.Status != 200 {
		return checksum{}, fmt.Errorf("checksum: %d %s", r.Status, r.Message)
	}
	var cs checksum
	err = r.Decode(&cs)
	return cs, err
}

// sameTrees waits until every given node reports the same whole-tree checksum.
func sameTrees(ctx context.Context, t *testing.T, c *harness.Cluster, nodes []*harness.Node) string {
	t.Helper()
	var last []string
	err := c.WaitFor(ctx, func() bool {
		last = last[:0]
		for _, n := range nodes {
			cs, err := linearizableChecksum(ctx, root(ctx, t, n))
			if err != nil {
				last = append(last, n.Name+": "+err.Error())
				return false
			}
			last = append(last, n.Name+": "+cs.Checksum)
		}
		for _, s := range last[1:] {
			if s[strings.Index(s, ":"):] != last[0][strings.Index(last[0], ":"):] {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("trees differ: %v (%v)", last, err)
	}
	return last[0]
}

func followers(ctx context.Context, t *testing.T, c *harness.Cluster) (*harness.Node, []*harness.Node) {
	t.Helper()
	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatalf("leader: %v", err)
	}
	var fs []*harness.Node
	for _, n := range c.Running() {
		if n != leader {
			fs = append(fs, n)
		}
	}
	return leader, fs
}

func TestReplicationFailoverAndDelnode(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 3, harness.WithForm())
	leader, fs := followers(ctx, t, c)

	// write through a follower, read the same bytes on all three
	content := "hello from a follower\n"
	if r, err := put(ctx, root(ctx, t, fs[0]), "test/replicated.txt", content); err != nil || r.Status != 200 {
		t.Fatalf("put via follower: %v %+v", err, r)
	}
	for _, n := range c.Nodes {
		// the writing node reads its own write at once; others after replication
		err := c.WaitFor(ctx, func() bool {
			got, st := cat(ctx, t, root(ctx, t, n), "test/replicated.txt")
			return st == 200 && got == content
		})
		if err != nil {
			t.Fatalf("%s does not have the write: %v", n.Name, err)
		}
	}
	got, _ := cat(ctx, t, root(ctx, t, fs[0]), "test/replicated.txt")
	if got != content {
		t.Fatalf("read-your-write on the writing follower: %q", got)
	}
	sameTrees(ctx, t, c, c.Nodes)

	// SIGKILL the leader: a new one is elected and writes continue
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	newLeader, err := c.WaitForNewLeader(ctx, leader)
	if err != nil {
		t.Fatalf("no new leader: %v", err)
	}
	for i := 0; i < 20; i++ {
		n := c.Running()[i%2]
		if r, err := put(ctx, root(ctx, t, n), fmt.Sprintf("test/after-failover-%d", i), "x"); err != nil || r.Status != 200 {
			t.Fatalf("write %d after failover via %s (leader %s): %v %+v", i, n.Name, newLeader.Name, err, r)
		}
	}
	// the old leader comes back and catches up
	if err := leader.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		t.Fatal(err)
	}
	sameTrees(ctx, t, c, c.Nodes)
	if got, st := cat(ctx, t, root(ctx, t, leader), "test/after-failover-19"); st != 200 || got != "x" {
		t.Fatalf("restarted node missing writes: %d %q", st, got)
	}

	// delnode: refuses the local node, removes another
	victim := fs[1]
	via := fs[0]
	r, err := root(ctx, t, via).Do(ctx, "DELETE", "/cluster/config/nodes/"+via.Name, nil)
	if err != nil || r.Status == 200 || !strings.Contains(r.Message, "Cannot delete myself from cluster!") {
		t.Fatalf("delnode of the local node: %v %+v", err, r)
	}
	if err := victim.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.DelNode(ctx, via, victim); err != nil {
		t.Fatalf("delnode: %v", err)
	}
	st, err := c.Status(ctx, via)
	if err != nil {
		t.Fatal(err)
	}
	if names := st.NodeNames(); len(names) != 2 {
		t.Fatalf("members after delnode: %v", names)
	}
	// the two remaining nodes still have a quorum (2 of 2) and accept writes
	if r, err := put(ctx, root(ctx, t, via), "test/after-delnode", "y"); err != nil || r.Status != 200 {
		t.Fatalf("write after delnode: %v %+v", err, r)
	}
}

func TestQuorumLoss(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 3, harness.WithForm())
	survivor := c.Nodes[0]
	sc := root(ctx, t, survivor)
	for i := 0; i < 5; i++ {
		if r, err := put(ctx, sc, fmt.Sprintf("keep/%d", i), fmt.Sprint(i)); err != nil || r.Status != 200 {
			t.Fatalf("write: %v %+v", err, r)
		}
	}
	sameTrees(ctx, t, c, c.Nodes)
	for _, n := range c.Nodes[1:] {
		if err := n.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	// writes fail with Proxmox's message within a few seconds
	var last *harness.Response
	err := c.WaitFor(ctx, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		r, err := put(wctx, sc, "lost/write", "z")
		if err != nil {
			return false
		}
		last = r
		return r.Status == 500 && strings.Contains(r.Message, "cluster not ready - no quorum?")
	})
	if err != nil {
		t.Fatalf("write without quorum did not fail as expected: last %+v", last)
	}
	start := time.Now()
	if r, err := put(ctx, sc, "lost/write2", "z"); err != nil || r.Status != 500 || !strings.Contains(r.Message, "no quorum") {
		t.Fatalf("second write without quorum: %v %+v", err, r)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("write without quorum took %v to fail", d)
	}
	// reads still work
	if got, st := cat(ctx, t, sc, "keep/3"); st != 200 || got != "3" {
		t.Fatalf("read without quorum: %d %q", st, got)
	}
	// restart: writes work again, nothing lost
	for _, n := range c.Nodes[1:] {
		if err := n.Restart(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitFor(ctx, func() bool {
		r, err := put(ctx, sc, "after/quorum", "back")
		return err == nil && r.Status == 200
	}); err != nil {
		t.Fatalf("writes did not come back: %v", err)
	}
	for _, n := range c.Nodes {
		for i := 0; i < 5; i++ {
			if got, st := cat(ctx, t, root(ctx, t, n), fmt.Sprintf("keep/%d", i)); st != 200 || got != fmt.Sprint(i) {
				t.Fatalf("%s lost keep/%d: %d %q", n.Name, i, st, got)
			}
		}
	}
	sameTrees(ctx, t, c, c.Nodes)
}

type grant struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Fence   uint64 `json:"fence"`
	Expires int64  `json:"expires"`
}

func TestLocksAcrossNodes(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 3, harness.WithForm())
	a, b := c.Nodes[1], c.Nodes[2]
	ca, cb := root(ctx, t, a), root(ctx, t, b)

	// two nodes race for file-user_cfg: exactly one wins
	var wg sync.WaitGroup
	res := make([]*harness.Response, 2)
	for i, cl := range []*harness.Client{ca, cb} {
		wg.Add(1)
		go func(i int, cl *harness.Client) {
			defer wg.Done()
			r, err := cl.Do(ctx, "POST", "/pvecfs/locks/file-user_cfg", url.Values{"owner": {fmt.Sprint("racer-", i)}, "lease": {"4"}, "timeout": {"0"}})
			if err != nil {
				t.Errorf("acquire %d: %v", i, err)
				return
			}
			res[i] = r
		}(i, cl)
	}
	wg.Wait()
	if res[0] == nil || res[1] == nil {
		t.FailNow()
	}
	wins := 0
	var g grant
	var holder *harness.Node
	for i, r := range res {
		switch {
		case r.Status == 200:
			wins++
			_ = r.Decode(&g)
			holder = []*harness.Node{a, b}[i]
		case r.Status == 500 && r.Message == "cfs-lock 'file-user_cfg' error: got lock request timeout":
		default:
			t.Fatalf("unexpected answer %d %q", r.Status, r.Message)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners", wins)
	}
	// the holder is killed: after the lease the lock can be taken again
	if err := holder.Kill(); err != nil {
		t.Fatal(err)
	}
	other := c.Nodes[0]
	co := root(ctx, t, other)
	r, err := co.Do(ctx, "POST", "/pvecfs/locks/file-user_cfg", url.Values{"owner": {"next"}, "timeout": {"30"}})
	if err != nil || r.Status != 200 {
		t.Fatalf("acquire after the holder died: %v %+v", err, r)
	}
	var g2 grant
	_ = r.Decode(&g2)
	if g2.Fence <= g.Fence {
		t.Fatalf("fencing token did not increase: %d then %d", g.Fence, g2.Fence)
	}
	// a write with the dead holder's (stale) token is refused, the new one passes
	r, err = co.Do(ctx, "PUT", "/pvecfs/files", url.Values{"path": {"fenced"}, "content": {"stale"}, "lock": {"file-user_cfg"}, "fence": {fmt.Sprint(g.Fence)}})
	if err != nil || r.Status != 500 || !strings.Contains(r.Message, "stale") {
		t.Fatalf("stale fence accepted: %v %+v", err, r)
	}
	r, err = co.Do(ctx, "PUT", "/pvecfs/files", url.Values{"path": {"fenced"}, "content": {"fresh"}, "lock": {"file-user_cfg"}, "fence": {fmt.Sprint(g2.Fence)}})
	if err != nil || r.Status != 200 {
		t.Fatalf("fenced write: %v %+v", err, r)
	}
}

func TestBadInput(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 2)
	n0, n1 := c.Nodes[0], c.Nodes[1]
	if _, stderr, code, err := n0.CLI(ctx, nil, "pvecm", "create", "bad"); err != nil || code != 0 {
		t.Fatalf("pvecm create: %v %d %s", err, code, stderr)
	}
	c0 := root(ctx, t, n0)
	before, err := linearizableChecksum(ctx, c0)
	if err != nil {
		t.Fatal(err)
	}
	c1 := root(ctx, t, n1)
	before1, err := linearizableChecksum(ctx, c1)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := n0.Fingerprint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wrongFP := "00" + fp[2:]
	if fp[:2] == "00" {
		wrongFP = "11" + fp[2:]
	}
	cases := []struct {
		name, password, fp, want string
	}{
		{"wrong password", "not-the-password", fp, "authentication failure"},
		{"wrong fingerprint", c.RootPassword, wrongFP, "not verified"},
		{"malformed fingerprint", c.RootPassword, "AB:CD", "fingerprint"},
	}
	for _, tc := range cases {
		_, stderr, code, err := n1.CLI(ctx, []string{"PVECFS_JOIN_PASSWORD=" + tc.password}, "pvecm", "add", n0.APIAddr, "--fingerprint", tc.fp)
		if err != nil || code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, err %v, stderr %q (want %q)", tc.name, code, err, stderr, tc.want)
		}
	}
	// invalid names and oversized files
	for _, p := range []string{"a/../b", "./x", "a//b/."} {
		if r, err := put(ctx, c0, p, "x"); err != nil || r.Status != 400 {
			t.Errorf("path %q: %v %+v", p, err, r)
		}
	}
	if r, err := put(ctx, c0, "big", strings.Repeat("a", 1024*1024+1)); err != nil || r.Status != 400 || r.Errors["content"] == "" {
		t.Errorf("oversized file: %v %+v", err, r)
	}
	after, err := linearizableChecksum(ctx, c0)
	if err != nil {
		t.Fatal(err)
	}
	after1, err := linearizableChecksum(ctx, c1)
	if err != nil {
		t.Fatal(err)
	}
	if before != after || before1 != after1 {
		t.Fatalf("bad input changed state: %v -> %v, %v -> %v", before, after, before1, after1)
	}
	// a corrupt data dir: the node refuses to start with a clear error
	if err := n1.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n1.DataDir, "node.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	defer scancel()
	err = n1.Start(sctx)
	if err == nil {
		err = n1.WaitReady(sctx)
	}
	if err == nil {
		t.Fatal("node with a corrupt node.json started")
	}
	if !strings.Contains(n1.LogTail(20), "corrupt node.json") {
		t.Fatalf("no clear error in the log: %s", n1.LogTail(20))
	}
}

func TestJoinRules(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 2)
	n0, n1 := c.Nodes[0], c.Nodes[1]
	if _, stderr, code, err := n0.CLI(ctx, nil, "pvecm", "create", "rules"); err != nil || code != 0 {
		t.Fatalf("pvecm create: %v %d %s", err, code, stderr)
	}
	fp, err := n0.Fingerprint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	join := func() (string, int) {
		_, stderr, code, err := n1.CLI(ctx, []string{"PVECFS_JOIN_PASSWORD=" + c.RootPassword}, "pvecm", "add", n0.APIAddr, "--fingerprint", fp)
		if err != nil {
			t.Fatal(err)
		}
		return stderr, code
	}
	// a joining node that holds configuration is refused, with the list
	if _, stderr, code, err := n1.CLI(ctx, nil, "pveum", "user", "add", "keep@pve"); err != nil || code != 0 {
		t.Fatalf("pveum user add: %v %d %s", err, code, stderr)
	}
	stderr, code := join()
	if code == 0 || !strings.Contains(stderr, "keep@pve") {
		t.Fatalf("join of a node holding config: exit %d, %q", code, stderr)
	}
	if st, err := c.Status(ctx, n0); err != nil || len(st.NodeNames()) != 1 {
		t.Fatalf("refused join changed the cluster: %v %v", st, err)
	}
	if _, stderr, code, err := n1.CLI(ctx, nil, "pveum", "user", "delete", "keep@pve"); err != nil || code != 0 {
		t.Fatalf("pveum user delete: %v %d %s", err, code, stderr)
	}
	if stderr, code := join(); code != 0 {
		t.Fatalf("join: exit %d: %s", code, stderr)
	}
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		t.Fatal(err)
	}
	// the joined node's tree is the cluster's
	sum := sameTrees(ctx, t, c, c.Nodes)
	// joining again with the same name and address changes nothing
	if stderr, code := join(); code != 0 {
		t.Fatalf("second join: exit %d: %s", code, stderr)
	}
	if again := sameTrees(ctx, t, c, c.Nodes); again != sum {
		t.Fatalf("second join changed the tree: %s -> %s", sum, again)
	}
	if st, err := c.Status(ctx, n0); err != nil || len(st.NodeNames()) != 2 {
		t.Fatalf("members after the second join: %v %v", st, err)
	}
}
