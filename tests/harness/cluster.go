package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultRootPassword is the root@pam password of harness nodes unless
// WithRootPassword says otherwise.
const DefaultRootPassword = "harness-root-secret"

// DefaultClusterName is the name Form gives the cluster unless
// WithClusterName says otherwise.
const DefaultClusterName = "test"

// DefaultTimeout bounds NewCluster's start-up (and forming) unless
// WithTimeout says otherwise.
const DefaultTimeout = 3 * time.Minute

// pollRequestTimeout bounds one node's answer inside a polling loop, so a
// node that hangs cannot stall the poll of the others.
const pollRequestTimeout = 15 * time.Second

// LogTailLines is how many lines of each node's log are dumped when a test fails.
const LogTailLines = 60

// Option configures NewCluster.
type Option func(*clusterConfig)

// clusterConfig collects the options of NewCluster.
type clusterConfig struct {
	rootPassword  string
	clusterName   string
	logFormat     string
	env           []string
	args          []string
	form          bool
	timeout       time.Duration
	binDir        string
	killOnCleanup bool
}

// WithRootPassword sets the root@pam password of every node.
func WithRootPassword(pw string) Option { return func(c *clusterConfig) { c.rootPassword = pw } }

// WithClusterName sets the name Form passes to `pvecm create`.
func WithClusterName(name string) Option { return func(c *clusterConfig) { c.clusterName = name } }

// WithLogFormat passes --log-format (text or json) to every node.
func WithLogFormat(f string) Option { return func(c *clusterConfig) { c.logFormat = f } }

// WithEnv adds KEY=VALUE entries to every node's environment.
func WithEnv(kv ...string) Option {
	return func(c *clusterConfig) { c.env = append(c.env, kv...) }
}

// WithArgs appends extra arguments to every node's serve command line.
func WithArgs(args ...string) Option {
	return func(c *clusterConfig) { c.args = append(c.args, args...) }
}

// WithForm makes NewCluster also form the cluster (see Form).
func WithForm() Option { return func(c *clusterConfig) { c.form = true } }

// WithTimeout bounds NewCluster's start-up and forming.
func WithTimeout(d time.Duration) Option { return func(c *clusterConfig) { c.timeout = d } }

// WithBinDir uses the programs in dir instead of building them (Binaries).
func WithBinDir(dir string) Option { return func(c *clusterConfig) { c.binDir = dir } }

// WithKillOnCleanup makes the end-of-test cleanup SIGKILL the nodes instead
// of stopping them with SIGTERM and checking that they exit cleanly.
func WithKillOnCleanup() Option { return func(c *clusterConfig) { c.killOnCleanup = true } }

// Cluster is a set of nodes started by NewCluster. Its fields may be read
// freely; AddNode is the only method that changes Nodes and must not run
// concurrently with other use of Nodes.
type Cluster struct {
	// Nodes are the nodes, node1 first (the node Form creates the cluster on).
	Nodes []*Node
	// RootPassword is the root@pam password of every node (and, after Form,
	// of the cluster).
	RootPassword string
	// Name is the cluster name Form uses.
	Name string

	t       testing.TB
	cfg     clusterConfig
	binDir  string
	baseDir string
	nextID  int

	mu          sync.Mutex
	clients     map[*Node]*Client // logged-in root clients, by node
	cleanupOnce sync.Once
}

// NewCluster starts n standalone nodes (node1..nodeN) on free 127.0.0.1
// ports, each with its own data dir under t.TempDir(), and waits until all
// are ready; with WithForm it then forms the cluster. Every process is
// stopped at the end of the test; if the test failed, the tail of each node's
// log is logged. A panic, fatal error or data race report in any node's log
// fails the test. Failures to start fail t (Fatal).
func NewCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	cfg := clusterConfig{
		rootPassword: DefaultRootPassword,
		clusterName:  DefaultClusterName,
		timeout:      DefaultTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if n < 1 {
		t.Fatalf("harness: NewCluster: need at least one node, got %d", n)
	}
	binDir := cfg.binDir
	if binDir == "" {
		binDir = Binaries(t)
	}
	c := &Cluster{
		RootPassword: cfg.rootPassword,
		Name:         cfg.clusterName,
		t:            t,
		cfg:          cfg,
		binDir:       binDir,
		baseDir:      t.TempDir(), // registered before c.cleanup, so removed after it
		clients:      make(map[*Node]*Client),
	}
	t.Cleanup(c.cleanup)
	for range n {
		if _, err := c.newNode(); err != nil {
			t.Fatalf("harness: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := c.startAll(ctx, c.Nodes); err != nil {
		t.Fatalf("harness: %v", err)
	}
	if cfg.form {
		if err := c.Form(ctx); err != nil {
			t.Fatalf("harness: %v", err)
		}
	}
	return c
}

// newNode creates the next node (not started) and appends it to Nodes.
func (c *Cluster) newNode() (*Node, error) {
	c.nextID++
	name := "node" + strconv.Itoa(c.nextID)
	n, err := NewNode(NodeConfig{
		Name:         name,
		Dir:          filepath.Join(c.baseDir, name),
		BinDir:       c.binDir,
		RootPassword: c.RootPassword,
		LogFormat:    c.cfg.logFormat,
		Env:          c.cfg.env,
		Args:         c.cfg.args,
	})
	if err != nil {
		return nil, err
	}
	c.Nodes = append(c.Nodes, n)
	return n, nil
}

// startAll starts nodes and waits until all are ready.
func (c *Cluster) startAll(ctx context.Context, nodes []*Node) error {
	for _, n := range nodes {
		if err := n.Start(ctx); err != nil {
			return err
		}
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = n.WaitReady(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// AddNode creates, starts and waits for one more standalone node (not joined;
// see Join) and appends it to Nodes.
func (c *Cluster) AddNode(ctx context.Context) (*Node, error) {
	n, err := c.newNode()
	if err != nil {
		return nil, err
	}
	if err := c.startAll(ctx, []*Node{n}); err != nil {
		return n, err
	}
	return n, nil
}

// Form runs `pvecm create NAME` on Nodes[0], then `pvecm add` on every other
// node in turn, each joining through Nodes[0]'s API with its fingerprint and
// the root password, waiting after each join until the joined node and
// Nodes[0] list all members so far; finally it waits until every node lists
// all nodes (WaitMembers).
func (c *Cluster) Form(ctx context.Context) error {
	if len(c.Nodes) == 0 {
		return errors.New("form: cluster has no nodes")
	}
	first := c.Nodes[0]
	if err := runOK(ctx, first, nil, "pvecm", "create", c.Name); err != nil {
		return fmt.Errorf("form: %w", err)
	}
	if err := c.WaitMembers(ctx, c.Nodes[:1]); err != nil {
		return fmt.Errorf("form: after create: %w", err)
	}
	for i, n := range c.Nodes[1:] {
		if err := c.Join(ctx, n, first); err != nil {
			return fmt.Errorf("form: %w", err)
		}
		members := c.Nodes[:i+2]
		if err := c.waitMembersOn(ctx, []*Node{first, n}, members); err != nil {
			return fmt.Errorf("form: after joining %s: %w", n.Name, err)
		}
	}
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		return fmt.Errorf("form: %w", err)
	}
	return nil
}

// Join runs `pvecm add VIA_API_ADDR --fingerprint FP` on n, with the cluster
// root password in PVECFS_JOIN_PASSWORD. It does not wait for the membership
// to settle (see WaitMembers).
func (c *Cluster) Join(ctx context.Context, n, via *Node) error {
	fp, err := via.Fingerprint(ctx)
	if err != nil {
		return fmt.Errorf("join %s via %s: %w", n.Name, via.Name, err)
	}
	env := []string{"PVECFS_JOIN_PASSWORD=" + c.RootPassword}
	if err := runOK(ctx, n, env, "pvecm", "add", via.APIAddr, "--fingerprint", fp); err != nil {
		return fmt.Errorf("join %s via %s: %w", n.Name, via.Name, err)
	}
	// The joined node may now serve a certificate issued by the cluster,
	// and its root login belongs to the cluster.
	n.mu.Lock()
	n.fp = ""
	n.mu.Unlock()
	c.forgetClient(n)
	return nil
}

// DelNode runs `pvecm delnode VICTIM` on via. It does not wait for the
// membership to settle (see WaitMembers).
func (c *Cluster) DelNode(ctx context.Context, via, victim *Node) error {
	if err := runOK(ctx, via, nil, "pvecm", "delnode", victim.Name); err != nil {
		return fmt.Errorf("delnode %s via %s: %w", victim.Name, via.Name, err)
	}
	return nil
}

// runOK runs a CLI on n and turns a non-zero exit into an error carrying its
// output.
func runOK(ctx context.Context, n *Node, env []string, prog string, args ...string) error {
	out, errOut, code, err := n.CLI(ctx, env, prog, args...)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s %s on %s: exit status %d: %s%s", prog, strings.Join(args, " "), n.Name, code,
			strings.TrimSpace(errOut), outNote(out))
	}
	return nil
}

// outNote formats non-empty stdout for an error message.
func outNote(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	return " (stdout: " + out + ")"
}

// rootClient returns a cached client logged in as root@pam on n.
func (c *Cluster) rootClient(ctx context.Context, n *Node) (*Client, error) {
	c.mu.Lock()
	cl := c.clients[n]
	c.mu.Unlock()
	if cl != nil {
		return cl, nil
	}
	cl, err := n.RootClient(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.clients[n] = cl
	c.mu.Unlock()
	return cl, nil
}

// forgetClient drops n's cached root client.
func (c *Cluster) forgetClient(n *Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[n]; cl != nil {
		cl.HTTP.CloseIdleConnections()
	}
	delete(c.clients, n)
}

// Status reads GET /cluster/status on n as root@pam (logging in again if the
// cached ticket is refused, e.g. after n joined a cluster).
func (c *Cluster) Status(ctx context.Context, n *Node) (*ClusterStatus, error) {
	cl, err := c.rootClient(ctx, n)
	if err != nil {
		return nil, err
	}
	st, err := GetClusterStatus(ctx, cl)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		c.forgetClient(n)
		if cl, err = c.rootClient(ctx, n); err != nil {
			return nil, err
		}
		st, err = GetClusterStatus(ctx, cl)
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return st, nil
}

// WaitMembers waits until every node in members reports (GET /cluster/status)
// a quorate cluster whose members are exactly members, all online.
func (c *Cluster) WaitMembers(ctx context.Context, members []*Node) error {
	return c.waitMembersOn(ctx, members, members)
}

// waitMembersOn waits until every node in on reports exactly members.
func (c *Cluster) waitMembersOn(ctx context.Context, on, members []*Node) error {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name
	}
	last := map[string]string{}
	err := WaitFor(ctx, func() bool {
		all := true
		for _, n := range on {
			pctx, cancel := context.WithTimeout(ctx, pollRequestTimeout)
			st, err := c.Status(pctx, n)
			cancel()
			switch {
			case err != nil:
				last[n.Name] = err.Error()
				all = false
			case !st.HasAll(names):
				last[n.Name] = string(st.Raw)
				all = false
			default:
				delete(last, n.Name)
			}
		}
		return all
	})
	if err != nil {
		return fmt.Errorf("waiting for members %v: %w; last answers: %v", names, err, last)
	}
	return nil
}

// Running returns the nodes whose process is running.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the node with the given name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// nodeByRef maps a leader reference (node name, node/<name>, or the node's
// API or Raft address) to a node.
func (c *Cluster) nodeByRef(ref string) *Node {
	ref = strings.TrimPrefix(ref, "node/")
	for _, n := range c.Nodes {
		if ref == n.Name || ref == n.APIAddr || ref == n.RaftAddr {
			return n
		}
	}
	return nil
}

// leaderSeenBy asks n who leads: first GET /cluster/status, then `pvecm
// status --output-format json` (see LeaderName for the assumed shapes).
func (c *Cluster) leaderSeenBy(ctx context.Context, n *Node) (*Node, error) {
	var errs []error
	if st, err := c.Status(ctx, n); err != nil {
		errs = append(errs, err)
	} else if l, err := c.leaderIn(st.Raw); err != nil {
		errs = append(errs, fmt.Errorf("node %s: cluster/status: %w", n.Name, err))
	} else {
		return l, nil
	}
	out, errOut, code, err := n.CLI(ctx, nil, "pvecm", "status", "--output-format", "json")
	switch {
	case err != nil:
		errs = append(errs, err)
	case code != 0:
		errs = append(errs, fmt.Errorf("pvecm status on %s: exit status %d: %s", n.Name, code, strings.TrimSpace(errOut)))
	default:
		l, err := c.leaderIn([]byte(out))
		if err == nil {
			return l, nil
		}
		errs = append(errs, fmt.Errorf("node %s: pvecm status: %w", n.Name, err))
	}
	return nil, errors.Join(errs...)
}

// leaderIn returns the node a status document names as leader.
func (c *Cluster) leaderIn(doc []byte) (*Node, error) {
	refs := leaderCandidates(doc)
	if len(refs) == 0 {
		return nil, errors.New("no leader named")
	}
	var leader *Node
	for _, ref := range refs {
		m := c.nodeByRef(ref)
		if m == nil {
			return nil, fmt.Errorf("leader %q is not a known node", ref)
		}
		if leader != nil && m != leader {
			return nil, fmt.Errorf("several leaders named: %v", refs)
		}
		leader = m
	}
	return leader, nil
}

// Leader waits until a running node names a running node as the Raft leader
// and returns it. Nodes are asked in order; the first usable answer wins.
func (c *Cluster) Leader(ctx context.Context) (*Node, error) {
	return c.waitLeader(ctx, nil)
}

// WaitForNewLeader waits until a running node other than old is reported as
// leader and returns it.
func (c *Cluster) WaitForNewLeader(ctx context.Context, old *Node) (*Node, error) {
	return c.waitLeader(ctx, old)
}

// waitLeader polls for a running leader different from not.
func (c *Cluster) waitLeader(ctx context.Context, not *Node) (*Node, error) {
	var leader *Node
	var last error
	err := WaitFor(ctx, func() bool {
		for _, n := range c.Running() {
			pctx, cancel := context.WithTimeout(ctx, pollRequestTimeout)
			l, err := c.leaderSeenBy(pctx, n)
			cancel()
			if err != nil {
				last = err
				continue
			}
			if l != not && l.Running() {
				leader = l
				return true
			}
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for leader: %w (last: %v)", err, last)
	}
	return leader, nil
}

// WaitFor polls cond every 50 ms until it returns true (nil) or ctx ends
// (an error wrapping ctx.Err()). cond should itself respect ctx.
func (c *Cluster) WaitFor(ctx context.Context, cond func() bool) error {
	return WaitFor(ctx, cond)
}

// WaitFor polls cond every 50 ms until it returns true (nil) or ctx ends
// (an error wrapping ctx.Err()). cond is called at least once.
func WaitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("condition not met: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Cleanup stops every running node (SIGTERM, or SIGKILL with
// WithKillOnCleanup), checks the logs for panics and race reports and, if the
// test failed, logs the tail of every node's log. NewCluster registers it
// with t.Cleanup; it runs once, later calls do nothing.
func (c *Cluster) Cleanup() { c.cleanup() }

// cleanup implements Cleanup.
func (c *Cluster) cleanup() { c.cleanupOnce.Do(c.doCleanup) }

// doCleanup does the work of Cleanup.
func (c *Cluster) doCleanup() {
	t := c.t
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		wg.Go(func() {
			if c.cfg.killOnCleanup {
				if err := n.Kill(); err != nil && !errors.Is(err, ErrNotRunning) {
					t.Errorf("harness cleanup: %v", err)
				}
				return
			}
			if err := n.Stop(); err != nil && !errors.Is(err, ErrNotRunning) {
				t.Errorf("harness cleanup: %v", err)
			}
		})
	}
	wg.Wait()
	c.mu.Lock()
	for n, cl := range c.clients {
		cl.HTTP.CloseIdleConnections()
		delete(c.clients, n)
	}
	c.mu.Unlock()
	for _, n := range c.Nodes {
		for _, p := range scanLog(n.LogPath) {
			t.Errorf("harness: node %s log: %s", n.Name, p)
		}
	}
	for _, n := range c.Nodes {
		if n.Starts() > 0 && !n.Running() && !n.exitRequested() {
			t.Logf("harness: node %s exited on its own: %s", n.Name, exitText(n.ExitErr()))
		}
	}
	if t.Failed() {
		for _, n := range c.Nodes {
			t.Logf("===== %s: last %d lines of %s =====\n%s", n.Name, LogTailLines, n.LogPath, n.LogTail(LogTailLines))
		}
	}
}

// logProblems are line prefixes that mean a node crashed or raced.
var logProblems = []string{"panic: ", "fatal error: ", "WARNING: DATA RACE"}

// scanLog returns the lines of the log at path that report a panic, a fatal
// runtime error or a data race (at most 10).
func scanLog(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() && len(out) < 10 {
		line := sc.Text()
		for _, p := range logProblems {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}
