package api

import (
	"context"
	"regexp"
)

// ClusterOps is what the cluster endpoints need of the node; the daemon
// implements it over the Raft node.
type ClusterOps interface {
	// Status is GET /cluster/status.
	Status(ctx context.Context) ([]map[string]any, error)
	// ConfigNodes is GET /cluster/config/nodes.
	ConfigNodes(ctx context.Context) ([]map[string]any, error)
	// JoinInfo is GET /cluster/config/join.
	JoinInfo(ctx context.Context, node string) (map[string]any, error)
	// Create is POST /cluster/config (pvecm create).
	Create(ctx context.Context, name string) error
	// AddNode is POST /cluster/config/nodes/{node} (called by a joining node).
	AddNode(ctx context.Context, p Params) (map[string]any, error)
	// DelNode is DELETE /cluster/config/nodes/{node}.
	DelNode(ctx context.Context, node string) error
	// Join is POST /cluster/config/join: this node joins the cluster of hostname.
	Join(ctx context.Context, hostname, fingerprint, password string, force bool) error
	// Nodes is GET /nodes.
	Nodes(ctx context.Context) ([]map[string]any, error)
}

var (
	nodeRE        = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)$`)
	fingerprintRE = regexp.MustCompile(`^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$`)
	hostPortRE    = regexp.MustCompile(`^\S+$`)
)

// ClusterEndpoints returns /cluster/* and /nodes. audit is the Sys.Audit
// check on "/"; the rest is root@pam only, as in Proxmox.
func ClusterEndpoints(ops ClusterOps, audit func(*Request) error) []Endpoint {
	nodeParam := Param{Name: "node", Pattern: nodeRE, MaxLength: 63}
	return []Endpoint{
		{Method: "GET", Path: "/cluster", Description: "Cluster index.",
			Handler: func(r *Request) (any, error) {
				return []map[string]string{{"name": "status"}, {"name": "config"}}, nil
			}},
		{Method: "GET", Path: "/cluster/status", Check: audit, Description: "Cluster membership and quorum (Sys.Audit on /).",
			Handler: func(r *Request) (any, error) { return ops.Status(r.Ctx) }},
		{Method: "GET", Path: "/cluster/config", Check: audit, Description: "Cluster configuration index (Sys.Audit on /).",
			Handler: func(r *Request) (any, error) {
				return []map[string]string{{"name": "nodes"}, {"name": "totem"}, {"name": "join"}, {"name": "qdevice"}, {"name": "apiversion"}}, nil
			}},
		{Method: "GET", Path: "/cluster/config/apiversion", Check: audit, Description: "Join API version (Sys.Audit on /).",
			Handler: func(r *Request) (any, error) { return 1, nil }},
		{Method: "POST", Path: "/cluster/config", Check: rootOnly, Description: "Create a cluster on a standalone node (root only).",
			Params: []Param{{Name: "clustername", Pattern: nodeRE, MaxLength: 15},
				{Name: "nodeid", Type: TInteger, Optional: true, Min: Int64(1)}, {Name: "votes", Type: TInteger, Optional: true, Min: Int64(1)},
				{Name: "link0", Optional: true}},
			Handler: func(r *Request) (any, error) {
				if err := ops.Create(r.Ctx, r.Params.Get("clustername")); err != nil {
					return nil, err
				}
				return upid("clustercreate"), nil
			}},
		{Method: "GET", Path: "/cluster/config/nodes", Check: audit, Description: "Configured cluster nodes (Sys.Audit on /).",
			Handler: func(r *Request) (any, error) { return ops.ConfigNodes(r.Ctx) }},
		{Method: "POST", Path: "/cluster/config/nodes/{node}", Check: rootOnly,
			Description: "Add a node to the cluster configuration; used by a joining node (root only).",
			Params: []Param{nodeParam, {Name: "nodeid", Type: TInteger, Optional: true, Min: Int64(1)},
				{Name: "votes", Type: TInteger, Optional: true, Min: Int64(0)}, {Name: "force", Type: TBoolean, Optional: true},
				{Name: "new_node_ip", Optional: true}, {Name: "apiversion", Type: TInteger, Optional: true}, {Name: "link0", Optional: true},
				{Name: "raft_addr", Pattern: hostPortRE}, {Name: "api_addr", Pattern: hostPortRE},
				{Name: "pubkey", MaxLength: 8192}, {Name: "fingerprint", Pattern: fingerprintRE}},
			Handler: func(r *Request) (any, error) { return ops.AddNode(r.Ctx, r.Params) }},
		{Method: "DELETE", Path: "/cluster/config/nodes/{node}", Check: rootOnly, Params: []Param{nodeParam},
			Description: "Remove a node from the cluster (root only).",
			Handler:     func(r *Request) (any, error) { return nil, ops.DelNode(r.Ctx, r.Params.Get("node")) }},
		{Method: "GET", Path: "/cluster/config/join", Check: audit, Params: []Param{{Name: "node", Optional: true, Pattern: nodeRE}},
			Description: "Information needed to join this cluster (Sys.Audit on /).",
			Handler:     func(r *Request) (any, error) { return ops.JoinInfo(r.Ctx, r.Params.Get("node")) }},
		{Method: "POST", Path: "/cluster/config/join", Check: rootOnly,
			Params: []Param{{Name: "hostname", Pattern: hostPortRE, MaxLength: 256}, {Name: "fingerprint", Pattern: fingerprintRE},
				{Name: "password", MaxLength: 128}, {Name: "force", Type: TBoolean, Optional: true},
				{Name: "nodeid", Type: TInteger, Optional: true, Min: Int64(1)}, {Name: "votes", Type: TInteger, Optional: true, Min: Int64(0)},
				{Name: "link0", Optional: true}},
			Description: "Join this node to the cluster of hostname (root only).",
			Handler: func(r *Request) (any, error) {
				if err := ops.Join(r.Ctx, r.Params.Get("hostname"), r.Params.Get("fingerprint"), r.Params.Get("password"), r.Params.Bool("force", false)); err != nil {
					return nil, err
				}
				return upid("clusterjoin"), nil
			}},
		{Method: "GET", Path: "/nodes", Description: "Cluster nodes with their status.",
			Handler: func(r *Request) (any, error) { return ops.Nodes(r.Ctx) }},
	}
}

// upid returns a finished-task id string where Proxmox would start a task.
func upid(kind string) string {
	return "UPID:pvecfs:00000000:00000000:00000000:" + kind + "::root@pam:"
}
