package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pvecfs/pvecfs/api"
	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cluster"
	"github.com/pvecfs/pvecfs/pki"
)

// clusterOps implements api.ClusterOps over the daemon.
type clusterOps struct{ d *Daemon }

// conf returns the cluster configuration, or nil for a standalone node.
func (d *Daemon) conf() *cluster.Conf {
	if _, ok := d.tree.Get(cluster.ConfPath); !ok {
		return nil
	}
	m, _, err := d.tree.Model(cluster.ConfPath)
	if err != nil {
		return nil
	}
	c, _ := m.(*cluster.Conf)
	return c
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// memberStatus is one node as pvecm status shows it.
type memberStatus struct {
	Name     string `json:"name"`
	NodeID   int    `json:"nodeid"`
	Votes    int    `json:"votes"`
	Online   int    `json:"online"`
	Leader   int    `json:"leader"`
	Local    int    `json:"local"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
	IP       string `json:"ip"`
}

// clusterStatus is the answer of GET /pvecfs/cluster/status (pvecm status).
type clusterStatus struct {
	Name          string         `json:"name"`
	ConfigVersion int            `json:"config_version"`
	Quorate       int            `json:"quorate"`
	Leader        string         `json:"leader"`
	Local         string         `json:"local"`
	ExpectedVotes int            `json:"expected_votes"`
	TotalVotes    int            `json:"total_votes"`
	Quorum        int            `json:"quorum"`
	Nodes         []memberStatus `json:"nodes"`
}

// probeMembers asks every member whether it is up (concurrently, short timeout).
func (d *Daemon) probeMembers(ctx context.Context, c *cluster.Conf) map[string]bool {
	online := make(map[string]bool)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range c.Nodes {
		if m.Name == d.cfg.Node {
			continue
		}
		wg.Add(1)
		go func(m cluster.Member) {
			defer wg.Done()
			_, err := d.node.Probe(ctx, m.RaftAddr)
			mu.Lock()
			online[m.Name] = err == nil
			mu.Unlock()
		}(m)
	}
	wg.Wait()
	online[d.cfg.Node] = true
	return online
}

func (d *Daemon) pvecmStatus(ctx context.Context) (*clusterStatus, error) {
	c := d.conf()
	if c == nil {
		return nil, errors.New("Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n")
	}
	leader, _ := d.node.Leader()
	st := &clusterStatus{Name: c.Name, ConfigVersion: c.ConfigVersion, Leader: leader, Local: d.cfg.Node}
	if d.node.Quorate() {
		st.Quorate = 1
	}
	online := d.probeMembers(ctx, c)
	for _, m := range c.Nodes {
		ms := memberStatus{Name: m.Name, NodeID: m.NodeID, Votes: m.Votes, RaftAddr: m.RaftAddr, APIAddr: m.APIAddr, IP: m.Ring0Addr}
		if online[m.Name] {
			ms.Online = 1
			st.TotalVotes += m.Votes
		}
		if m.Name == leader {
			ms.Leader = 1
		}
		if m.Name == d.cfg.Node {
			ms.Local = 1
		}
		st.ExpectedVotes += m.Votes
		st.Nodes = append(st.Nodes, ms)
	}
	st.Quorum = st.ExpectedVotes/2 + 1
	return st, nil
}

func (o clusterOps) Status(ctx context.Context) ([]map[string]any, error) {
	d := o.d
	c := d.conf()
	if c == nil {
		return []map[string]any{{"type": "node", "id": "node/" + d.cfg.Node, "name": d.cfg.Node, "ip": hostOf(d.cfg.RaftAdvertise),
			"local": 1, "nodeid": 0, "online": 1, "level": ""}}, nil
	}
	online := d.probeMembers(ctx, c)
	q := 0
	if d.node.Quorate() {
		q = 1
	}
	out := []map[string]any{{"type": "cluster", "id": "cluster", "name": c.Name, "nodes": len(c.Nodes), "version": c.ConfigVersion, "quorate": q}}
	for _, m := range c.Nodes {
		on, local := 0, 0
		if online[m.Name] {
			on = 1
		}
		if m.Name == d.cfg.Node {
			local = 1
		}
		out = append(out, map[string]any{"type": "node", "id": "node/" + m.Name, "name": m.Name, "nodeid": m.NodeID,
			"ip": m.Ring0Addr, "local": local, "online": on, "level": ""})
	}
	return out, nil
}

func (o clusterOps) ConfigNodes(ctx context.Context) ([]map[string]any, error) {
	c := o.d.conf()
	out := []map[string]any{}
	if c == nil {
		return out, nil
	}
	for _, m := range c.Nodes {
		out = append(out, map[string]any{"node": m.Name, "name": m.Name, "nodeid": fmt.Sprint(m.NodeID),
			"quorum_votes": fmt.Sprint(m.Votes), "ring0_addr": m.Ring0Addr, "pvecfs_api_addr": m.APIAddr, "pvecfs_raft_addr": m.RaftAddr})
	}
	return out, nil
}

func (o clusterOps) Nodes(ctx context.Context) ([]map[string]any, error) {
	d := o.d
	c := d.conf()
	if c == nil {
		return []map[string]any{{"node": d.cfg.Node, "status": "online", "type": "node", "id": "node/" + d.cfg.Node, "ssl_fingerprint": d.apiFP, "level": ""}}, nil
	}
	online := d.probeMembers(ctx, c)
	out := []map[string]any{}
	for _, m := range c.Nodes {
		st := "offline"
		if online[m.Name] {
			st = "online"
		}
		out = append(out, map[string]any{"node": m.Name, "status": st, "type": "node", "id": "node/" + m.Name, "ssl_fingerprint": m.Fingerprint, "level": ""})
	}
	return out, nil
}

func (o clusterOps) JoinInfo(ctx context.Context, node string) (map[string]any, error) {
	d := o.d
	c := d.conf()
	if c == nil {
		return nil, api.Errorf(424, "node is not in a cluster, no join info available!")
	}
	if node == "" {
		node = d.cfg.Node
	}
	if _, ok := c.Member(node); !ok {
		return nil, api.Errorf(500, "unknown node '%s'", node)
	}
	var list []map[string]any
	for _, m := range c.Nodes {
		list = append(list, map[string]any{"name": m.Name, "nodeid": fmt.Sprint(m.NodeID), "quorum_votes": fmt.Sprint(m.Votes),
			"ring0_addr": m.Ring0Addr, "pve_addr": hostOf(m.APIAddr), "pve_fp": m.Fingerprint, "pvecfs_api_addr": m.APIAddr})
	}
	e, _ := d.tree.Get(cluster.ConfPath)
	return map[string]any{"nodelist": list, "preferred_node": node,
		"totem":         map[string]any{"cluster_name": c.Name, "config_version": fmt.Sprint(c.ConfigVersion), "version": "2", "secauth": "on"},
		"config_digest": e.Digest()}, nil
}

func (d *Daemon) selfMember() cluster.Member {
	return cluster.Member{Name: d.cfg.Node, Votes: 1, Ring0Addr: hostOf(d.cfg.RaftAdvertise), RaftAddr: d.cfg.RaftAdvertise,
		APIAddr: d.apiAdvertise(), Fingerprint: d.apiFP}
}

// apiAdvertise is the API address other nodes reach this node at.
func (d *Daemon) apiAdvertise() string {
	h, p, err := net.SplitHostPort(d.cfg.APIAddr)
	if err != nil {
		return d.cfg.APIAddr
	}
	if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort(hostOf(d.cfg.RaftAdvertise), p)
	}
	return d.cfg.APIAddr
}

func (d *Daemon) applyCmd(ctx context.Context, op string, body any) (*cfs.Result, error) {
	cmd, err := cfs.NewCommand(op, body)
	if err != nil {
		return nil, err
	}
	res, err := d.node.Apply(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return nil, res.Err
	}
	return res, nil
}

func (o clusterOps) Create(ctx context.Context, name string) error {
	d := o.d
	if c := d.conf(); c != nil {
		return fmt.Errorf("cluster config '/etc/pve/corosync.conf' already exists\n")
	}
	if !d.node.Quorate() {
		return cluster.ErrNoQuorum
	}
	_, err := d.applyCmd(ctx, cluster.OpCreate, cluster.CreateRequest{Name: name, Self: d.selfMember()})
	return err
}

// AddNode runs on a cluster member when a node joins: it records the node
// in corosync.conf and issues its cluster certificate. The new node
// becomes a Raft voter in a second step, over the cluster channel, once it
// listens with that certificate.
func (o clusterOps) AddNode(ctx context.Context, p api.Params) (map[string]any, error) {
	d := o.d
	if !d.node.Quorate() {
		return nil, cluster.ErrNoQuorum
	}
	c := d.conf()
	if c == nil {
		return nil, fmt.Errorf("unable to add node: this node is not part of a cluster (run 'pvecm create' first)")
	}
	name := p.Get("node")
	raftAddr := p.Get("raft_addr")
	if _, _, err := net.SplitHostPort(raftAddr); err != nil {
		return nil, api.ParamErr("raft_addr", "invalid address - "+err.Error())
	}
	if _, _, err := net.SplitHostPort(p.Get("api_addr")); err != nil {
		return nil, api.ParamErr("api_addr", "invalid address - "+err.Error())
	}
	if _, err := pki.ParsePublicKey([]byte(p.Get("pubkey"))); err != nil {
		return nil, api.ParamErr("pubkey", "invalid public key - "+err.Error())
	}
	fp, _ := pki.NormalizeFingerprint(p.Get("fingerprint"))
	m := cluster.Member{Name: name, Votes: 1, Ring0Addr: hostOf(raftAddr), RaftAddr: raftAddr, APIAddr: p.Get("api_addr"), Fingerprint: fp}
	if p.Has("nodeid") {
		m.NodeID = int(p.Int("nodeid", 0))
	}
	res, err := d.applyCmd(ctx, cluster.OpAddNode, cluster.AddNodeRequest{Node: m, Force: p.Bool("force", false)})
	if err != nil {
		return nil, err
	}
	var added cluster.AddNodeResult
	if err := res.Decode(&added); err != nil {
		return nil, err
	}
	caEntry, ok1 := d.tree.Get("pve-root-ca.pem")
	keyEntry, ok2 := d.tree.Get("priv/pve-root-ca.key")
	if !ok1 || !ok2 {
		return nil, errors.New("cluster CA missing from the tree")
	}
	cert, err := pki.IssueNodeCert(caEntry.Bytes(), keyEntry.Bytes(), name, []byte(p.Get("pubkey")), hostsOf(raftAddr))
	if err != nil {
		return nil, fmt.Errorf("issue node certificate: %w", err)
	}
	leaderID, leaderAddr := d.node.Leader()
	conf, _ := d.tree.Get(cluster.ConfPath)
	return map[string]any{"ca": string(caEntry.Bytes()), "cert": string(cert), "leader": leaderID, "leader_raft_addr": leaderAddr,
		"raft_addr": d.cfg.RaftAdvertise, "nodeid": added.Member.NodeID, "existed": added.Existed,
		"corosync_conf": string(conf.Bytes()), "warnings": []string{}}, nil
}

func (o clusterOps) DelNode(ctx context.Context, node string) error {
	d := o.d
	if node == d.cfg.Node {
		return errors.New("Cannot delete myself from cluster!\n")
	}
	if !d.node.Quorate() {
		return cluster.ErrNoQuorum
	}
	res, err := d.applyCmd(ctx, cluster.OpDelNode, cluster.DelNodeRequest{Node: node})
	if err != nil {
		return err
	}
	var removed cluster.Member
	if err := res.Decode(&removed); err != nil {
		return err
	}
	if err := d.node.RemoveServer(ctx, removed.Name); err != nil {
		return fmt.Errorf("could not remove node '%s' from the Raft configuration: %w", removed.Name, err)
	}
	d.log.Info("deleted node from cluster", "node", removed.Name)
	return nil
}

// virtualFiles are pmxcfs's generated files.
func (d *Daemon) virtualFiles() map[string]api.VirtualFile {
	return map[string]api.VirtualFile{
		".members": func(ctx context.Context) ([]byte, error) { return d.membersFile(ctx), nil },
		".version": func(ctx context.Context) ([]byte, error) { return d.versionFile(), nil },
		".vmlist": func(ctx context.Context) ([]byte, error) {
			return []byte(fmt.Sprintf("{\n\"version\": %d,\n\"ids\": {\n}\n}\n", d.tree.Version())), nil
		},
	}
}

func (d *Daemon) membersFile(ctx context.Context) []byte {
	c := d.conf()
	var b strings.Builder
	if c == nil {
		fmt.Fprintf(&b, "{\n\"nodename\": %q,\n\"version\": 0\n}\n", d.cfg.Node)
		return []byte(b.String())
	}
	online := d.probeMembers(ctx, c)
	q := 0
	if d.node.Quorate() {
		q = 1
	}
	fmt.Fprintf(&b, "{\n\"nodename\": %q,\n\"version\": %d,\n", d.cfg.Node, d.tree.Version())
	fmt.Fprintf(&b, "\"cluster\": { \"name\": %q, \"version\": %d, \"nodes\": %d, \"quorate\": %d },\n", c.Name, c.ConfigVersion, len(c.Nodes), q)
	b.WriteString("\"nodelist\": {\n")
	for i, m := range c.Nodes {
		on := 0
		if online[m.Name] {
			on = 1
		}
		fmt.Fprintf(&b, "  %q: { \"id\": %d, \"online\": %d, \"ip\": %q}", m.Name, m.NodeID, on, m.Ring0Addr)
		if i < len(c.Nodes)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  }\n}\n")
	return []byte(b.String())
}

func (d *Daemon) versionFile() []byte {
	out := map[string]any{"starttime": d.started.Unix(), "clinfo": d.tree.Version(), "vmlist": d.tree.Version()}
	paths := d.tree.Registry().Paths()
	sort.Strings(paths)
	for _, p := range paths {
		if e, ok := d.tree.Get(p); ok {
			out[p] = e.Version
		}
	}
	b, _ := json.MarshalIndent(out, "", "")
	return append(b, '\n')
}

// registerEndpoints installs every REST endpoint of the node.
func (d *Daemon) registerEndpoints() {
	ops := clusterOps{d}
	auth := api.NewAuthService(d, d.log)
	auth.Quorate = d.node.Quorate
	auth.PamShadowPath = PamShadowPath
	d.api.SetAuthenticator(auth)
	audit := func(r *api.Request) error { return auth.Require(r, "/", "Sys.Audit") }
	d.api.Handle(api.AccessAuthEndpoints(auth, api.AccessAuthConfig{ClusterName: func() string {
		if c := d.conf(); c != nil {
			return c.Name
		}
		return ""
	}})...)
	access := api.NewAccessState(d)
	access.Shared = auth.UserAccess
	d.api.Handle(api.AccessEndpoints(access)...)
	d.api.Handle(api.ClusterEndpoints(ops, audit)...)
	d.api.Handle(api.FileEndpoints(d, d.virtualFiles())...)
	d.api.Handle(api.Endpoint{Method: "GET", Path: "/pvecfs/cluster/status", Description: "Membership, quorum and leader (pvecm status; Sys.Audit on /).",
		Check: audit, Handler: func(r *api.Request) (any, error) { return d.pvecmStatus(r.Ctx) }})
}

// Name implements api.Backend.
func (d *Daemon) Name() string { return d.cfg.Node }

// Tree implements api.Backend.
func (d *Daemon) Tree() *cfs.Tree { return d.tree }

// Apply implements api.Backend.
func (d *Daemon) Apply(ctx context.Context, cmd *cfs.Command) (*cfs.Result, error) {
	return d.node.Apply(ctx, cmd)
}

// LinearizableRead implements api.Backend.
func (d *Daemon) LinearizableRead(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.node.LinearizableRead(ctx)
}
