package harness

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClusterWithFakeDaemon drives a whole cluster life through the fake
// programs: start, form, leader, SIGKILL of the leader, new leader, restart,
// delnode, add and join a fresh node, clean shutdown.
func TestClusterWithFakeDaemon(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := NewCluster(t, 3, WithBinDir(fakeBinDir(t)), WithForm(), WithTimeout(60*time.Second),
		WithRootPassword("s3cret"), WithClusterName("prod"), WithLogFormat("json"))

	if len(c.Nodes) != 3 || c.Name != "prod" || c.RootPassword != "s3cret" {
		t.Fatalf("cluster %+v", c)
	}
	addrs := map[string]bool{}
	for i, n := range c.Nodes {
		if n.Name != fmt.Sprintf("node%d", i+1) || !n.Running() {
			t.Fatalf("node %d: %s running %v", i, n.Name, n.Running())
		}
		for _, a := range []string{n.APIAddr, n.RaftAddr} {
			if addrs[a] {
				t.Fatalf("address %s used twice", a)
			}
			addrs[a] = true
		}
		if !slices.Contains(n.ServeArgs(), "json") {
			t.Fatalf("serve args %v lack --log-format json", n.ServeArgs())
		}
		st, err := c.Status(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !st.HasAll([]string{"node1", "node2", "node3"}) {
			t.Fatalf("%s status after Form: %s", n.Name, st.Raw)
		}
		if cl, _ := st.Cluster(); cl.Name != "prod" {
			t.Fatalf("cluster name %q", cl.Name)
		}
	}

	leader, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if leader != c.Nodes[0] {
		t.Fatalf("leader %s, want node1", leader)
	}
	// The pvecm status fallback names the same leader.
	out, _, code, err := c.Nodes[2].CLI(ctx, nil, "pvecm", "status", "--output-format", "json")
	if err != nil || code != 0 || LeaderName([]byte(out)) != "node1" {
		t.Fatalf("pvecm status: %v %d %q", err, code, out)
	}

	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	next, err := c.WaitForNewLeader(ctx, leader)
	if err != nil {
		t.Fatal(err)
	}
	if next != c.Nodes[1] {
		t.Fatalf("new leader %s, want node2", next)
	}
	if got := c.Running(); len(got) != 2 || got[0] != c.Nodes[1] {
		t.Fatalf("running %v", got)
	}
	if err := leader.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		t.Fatal(err)
	}

	if err := c.DelNode(ctx, c.Nodes[0], c.Nodes[2]); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitMembers(ctx, c.Nodes[:2]); err != nil {
		t.Fatal(err)
	}
	n4, err := c.AddNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n4.Name != "node4" || c.Node("node4") != n4 || len(c.Nodes) != 4 {
		t.Fatalf("AddNode: %s, %d nodes", n4.Name, len(c.Nodes))
	}
	if err := c.Join(ctx, n4, c.Nodes[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitMembers(ctx, []*Node{c.Nodes[0], c.Nodes[1], n4}); err != nil {
		t.Fatal(err)
	}
	// A wrong join password is reported with the CLI's stderr.
	n5, err := c.AddNode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.RootPassword = "wrong"
	err = c.Join(ctx, n5, c.Nodes[0])
	c.RootPassword = "s3cret"
	if err == nil || !strings.Contains(err.Error(), "authentication failure") {
		t.Fatalf("join with wrong password: %v", err)
	}
}

func TestWaitFor(t *testing.T) {
	calls := 0
	if err := WaitFor(context.Background(), func() bool { calls++; return calls == 3 }); err != nil || calls != 3 {
		t.Fatalf("WaitFor: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := WaitFor(ctx, func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "deadline") || time.Since(start) > 5*time.Second {
		t.Fatalf("WaitFor never true: %v after %s", err, time.Since(start))
	}
}

// recordingTB is a testing.TB whose failures and cleanups are recorded rather
// than applied, to test what the cluster cleanup reports.
type recordingTB struct {
	*testing.T
	mu       sync.Mutex
	errors   []string
	logs     []string
	cleanups []func()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0
}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

func TestClusterCleanupReportsCrashAndDumpsLogs(t *testing.T) {
	rec := &recordingTB{T: t}
	c := NewCluster(rec, 2, WithBinDir(fakeBinDir(t)), WithTimeout(30*time.Second))
	defer rec.runCleanups() // in case of an early failure
	n1, n2 := c.Nodes[0], c.Nodes[1]
	pids := []int{n1.PID(), n2.PID()}
	// Simulate a crash report in node2's log.
	f, err := os.OpenFile(n2.LogPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "panic: runtime error: index out of range [3] with length 3")
	_ = f.Close()

	rec.runCleanups()
	for _, pid := range pids {
		if !processGone(pid) {
			t.Fatalf("pid %d survived cleanup", pid)
		}
	}
	if n1.ExitErr() != nil || n2.ExitErr() != nil {
		t.Fatalf("cleanup did not stop cleanly: %v %v", n1.ExitErr(), n2.ExitErr())
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "node2") || !strings.Contains(rec.errors[0], "index out of range") {
		t.Fatalf("errors %q", rec.errors)
	}
	dumped := strings.Join(rec.logs, "\n")
	for _, n := range c.Nodes {
		if !strings.Contains(dumped, "===== "+n.Name+": last") {
			t.Fatalf("no log tail of %s in %q", n.Name, dumped)
		}
	}
	if !strings.Contains(dumped, "fake pvecfs: SIGTERM") {
		t.Fatalf("log tail lacks the process output: %q", dumped)
	}
}

func TestClusterCleanupQuietOnSuccess(t *testing.T) {
	rec := &recordingTB{T: t}
	c := NewCluster(rec, 1, WithBinDir(fakeBinDir(t)), WithTimeout(30*time.Second), WithKillOnCleanup())
	defer rec.runCleanups()
	pid := c.Nodes[0].PID()
	rec.runCleanups()
	if !processGone(pid) || len(rec.errors) != 0 || len(rec.logs) != 0 {
		t.Fatalf("gone %v errors %q logs %q", processGone(pid), rec.errors, rec.logs)
	}
	if err := c.Nodes[0].ExitErr(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("WithKillOnCleanup: exit %v", err)
	}
}
