package cluster

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/pvecfs/pvecfs/cfs"
)

// Cluster membership command names.
const (
	OpCreate  = "cluster.create"
	OpAddNode = "cluster.addnode"
	OpDelNode = "cluster.delnode"
)

// CreateRequest names a standalone node's cluster (pvecm create).
type CreateRequest struct {
	Name string `json:"name"`
	Self Member `json:"self"`
}

// AddNodeRequest adds a node to corosync.conf (pvecm addnode).
type AddNodeRequest struct {
	Node  Member `json:"node"`
	Force bool   `json:"force,omitempty"`
}

// AddNodeResult tells whether the node was new.
type AddNodeResult struct {
	Member  Member `json:"member"`
	Existed bool   `json:"existed"`
}

// DelNodeRequest removes a node by name or ring0 address.
type DelNodeRequest struct {
	Node string `json:"node"`
}

// nodeNameRE is Proxmox's pve-node format (DNS label, up to 63 chars here;
// cluster names are additionally limited to 15 by the API).
var nodeNameRE = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)$`)

// ValidNodeName reports whether s is a valid Proxmox node name.
func ValidNodeName(s string) bool { return len(s) <= 63 && nodeNameRE.MatchString(s) }

// RegisterCommands registers corosync.conf and the membership commands.
func RegisterCommands(reg *cfs.Registry, h *cfs.Handlers) error {
	if err := reg.Register(ConfFormat()); err != nil {
		return err
	}
	for op, fn := range map[string]cfs.Handler{OpCreate: opCreate, OpAddNode: opAddNode, OpDelNode: opDelNode} {
		if err := h.Register(op, fn); err != nil {
			return err
		}
	}
	return nil
}

func currentConf(tx *cfs.Txn) (*Conf, bool, error) {
	if _, ok := tx.Get(ConfPath); !ok {
		return nil, false, nil
	}
	m, err := tx.Model(ConfPath)
	if err != nil {
		return nil, false, err
	}
	c, ok := m.(*Conf)
	if !ok {
		return nil, false, fmt.Errorf("corosync.conf has unexpected model %T", m)
	}
	return c, true, nil
}

func opCreate(tx *cfs.Txn, body json.RawMessage) (any, error) {
	var r CreateRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, cfs.Errorf(400, cfs.CodeInvalid, "bad request: %v", err)
	}
	if !ValidNodeName(r.Name) || len(r.Name) > 15 {
		return nil, cfs.Errorf(400, cfs.CodeInvalid, "invalid cluster name '%s'", r.Name)
	}
	if _, exists, err := currentConf(tx); err != nil {
		return nil, err
	} else if exists {
		return nil, cfs.Errorf(500, cfs.CodeExists, "cluster config '/etc/pve/corosync.conf' already exists\n")
	}
	self := r.Self
	self.NodeID, self.Votes = 1, 1
	c := &Conf{Name: r.Name, ConfigVersion: 1, Nodes: []Member{self}}
	return c, tx.PutModel(ConfPath, c)
}

func opAddNode(tx *cfs.Txn, body json.RawMessage) (any, error) {
	var r AddNodeRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, cfs.Errorf(400, cfs.CodeInvalid, "bad request: %v", err)
	}
	c, exists, err := currentConf(tx)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, cfs.Errorf(500, cfs.CodeInvalid, "unable to add node: this node is not part of a cluster (run 'pvecm create' first)")
	}
	n := r.Node
	if !ValidNodeName(n.Name) {
		return nil, cfs.Errorf(400, cfs.CodeInvalid, "invalid node name '%s'", n.Name)
	}
	if old, ok := c.Member(n.Name); ok {
		if old.RaftAddr == n.RaftAddr && old.APIAddr == n.APIAddr && old.Ring0Addr == n.Ring0Addr {
			if old.Fingerprint == n.Fingerprint || n.Fingerprint == "" {
				return AddNodeResult{Member: old, Existed: true}, nil
			}
			// same node re-joining with a new API certificate: update it only
			nc := c.clone()
			for i := range nc.Nodes {
				if nc.Nodes[i].Name == n.Name {
					nc.Nodes[i].Fingerprint = n.Fingerprint
				}
			}
			nc.ConfigVersion++
			m, _ := nc.Member(n.Name)
			return AddNodeResult{Member: m, Existed: true}, tx.PutModel(ConfPath, nc)
		}
		if !r.Force {
			return nil, cfs.Errorf(500, cfs.CodeExists, "can't add existing node '%s'", n.Name)
		}
	}
	for _, m := range c.Nodes {
		if m.Name != n.Name && (m.RaftAddr == n.RaftAddr || m.APIAddr == n.APIAddr) {
			return nil, cfs.Errorf(500, cfs.CodeExists, "corosync: address '%s' already used on link ring0_addr by node '%s'", n.RaftAddr, m.Name)
		}
	}
	nc := c.clone()
	kept := nc.Nodes[:0]
	used := map[int]bool{}
	for _, m := range nc.Nodes {
		if m.Name != n.Name {
			kept = append(kept, m)
			used[m.NodeID] = true
		}
	}
	nc.Nodes = kept
	if n.NodeID == 0 || used[n.NodeID] {
		n.NodeID = 1
		for used[n.NodeID] {
			n.NodeID++
		}
	}
	if n.Votes == 0 {
		n.Votes = 1
	}
	nc.Nodes = append(nc.Nodes, n)
	sortMembers(nc.Nodes)
	nc.ConfigVersion++
	for _, dir := range []string{"", "/lxc", "/qemu-server", "/openvz", "/priv"} {
		if err := tx.MkdirAll("nodes/" + n.Name + dir); err != nil {
			return nil, err
		}
	}
	return AddNodeResult{Member: n}, tx.PutModel(ConfPath, nc)
}

func opDelNode(tx *cfs.Txn, body json.RawMessage) (any, error) {
	var r DelNodeRequest
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, cfs.Errorf(400, cfs.CodeInvalid, "bad request: %v", err)
	}
	c, exists, err := currentConf(tx)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, cfs.Errorf(500, cfs.CodeNotFound, "Node/IP: %s is not a known host of the cluster.\n", r.Node)
	}
	nc := c.clone()
	kept := nc.Nodes[:0]
	var removed *Member
	for _, m := range nc.Nodes {
		if removed == nil && (m.Name == r.Node || m.Ring0Addr == r.Node) {
			mm := m
			removed = &mm
			continue
		}
		kept = append(kept, m)
	}
	if removed == nil {
		return nil, cfs.Errorf(500, cfs.CodeNotFound, "Node/IP: %s is not a known host of the cluster.\n", r.Node)
	}
	nc.Nodes = kept
	nc.ConfigVersion++
	return removed, tx.PutModel(ConfPath, nc)
}

func sortMembers(ms []Member) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].NodeID < ms[j].NodeID })
}
