package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pvecfs/pvecfs/cli"
	"github.com/pvecfs/pvecfs/pki"
)

// now is the clock of the "Date:" line (tests replace it).
var now = time.Now

var joinOpts = []cli.Opt{{Name: "fingerprint", Type: cli.String, Help: "SHA-256 fingerprint of HOST's API certificate (pvecfs fingerprint)"},
	{Name: "force", Type: cli.Bool}, {Name: "nodeid", Type: cli.Int}, {Name: "votes", Type: cli.Int}, {Name: "link0", Type: cli.String}}

var createOpts = []cli.Opt{{Name: "nodeid", Type: cli.Int}, {Name: "votes", Type: cli.Int}, {Name: "link0", Type: cli.String}}

func commands() []*cli.Command {
	unsupported := func(name, help string) *cli.Command {
		return &cli.Command{Name: name, Help: help + " (not supported by pvecfs)", Raw: true, Run: func(c *cli.Ctx) error {
			return fmt.Errorf("'pvecm %s' is not supported by pvecfs", name)
		}}
	}
	return []*cli.Command{
		{Name: "create", Help: "Generate new cluster configuration.", Args: []string{"clustername"}, Opts: createOpts, Run: func(c *cli.Ctx) error {
			p := c.Opts.Form("nodeid", "votes", "link0")
			p.Set("clustername", c.Arg(0))
			_, err := c.Call(http.MethodPost, "/cluster/config", p)
			return err
		}},
		{Name: "add", Help: "Join this (standalone) node to the cluster HOST belongs to; the password comes from PVECFS_JOIN_PASSWORD or the terminal.",
			Args: []string{"hostname"}, Opts: joinOpts, Run: add},
		{Name: "delnode", Help: "Removes a node from the cluster configuration.", Args: []string{"node"}, Run: func(c *cli.Ctx) error {
			_, err := c.Call(http.MethodDelete, "/cluster/config/nodes/"+cli.PathEscape(c.Arg(0)), nil)
			return err
		}},
		{Name: "status", Help: "Displays the local view of the cluster status.", Output: true, Run: func(c *cli.Ctx) error {
			return status(c, false)
		}},
		{Name: "nodes", Help: "Displays the local view of the cluster nodes.", Output: true, Run: func(c *cli.Ctx) error {
			return status(c, true)
		}},
		{Name: "apiver", Help: "Return the version of the cluster join API available on this node.", NoConn: true, Run: func(c *cli.Ctx) error {
			_, err := fmt.Fprintln(c.Stdout, 1)
			return err
		}},
		unsupported("expected", "Tells corosync a new value of expected votes."),
		unsupported("updatecerts", "Update node certificates."),
		unsupported("keygen", "Generate new cryptographic key for corosync."),
		unsupported("qdevice", "Manage a QDevice."),
		unsupported("mtunnel", "Used by VM/CT migration."),
		unsupported("addnode", "Adds a node to the cluster configuration (pvecfs: use 'pvecm add' on the joining node)."),
	}
}

// add joins the local node to the cluster of HOST.
func add(c *cli.Ctx) error {
	host := c.Arg(0)
	if !c.Opts.Has("fingerprint") {
		return fmt.Errorf("--fingerprint is required: the SHA-256 fingerprint of %s's API certificate ('pvecfs fingerprint' on that node)", host)
	}
	fp, err := pki.NormalizeFingerprint(c.Opts.Get("fingerprint"))
	if err != nil {
		return fmt.Errorf("invalid --fingerprint '%s': want 32 colon-separated hex bytes (SHA-256, as 'pvecfs fingerprint' prints it)", c.Opts.Get("fingerprint"))
	}
	// the local node's name, for the success message (a standalone node
	// lists only itself)
	name := ""
	if data, err := c.Call(http.MethodGet, "/cluster/status", nil); err == nil {
		var entries []struct {
			Type  string      `json:"type"`
			Name  string      `json:"name"`
			Local json.Number `json:"local"`
		}
		if json.Unmarshal(data, &entries) == nil {
			for _, e := range entries {
				if e.Type == "node" && e.Local.String() == "1" {
					name = e.Name
				}
			}
		}
	} else if isConnError(err) {
		return err
	}
	pw, err := c.Secret("PVECFS_JOIN_PASSWORD", fmt.Sprintf("Please enter superuser (root) password for '%s': ", host))
	if err != nil {
		return err
	}
	p := c.Opts.Form("fingerprint", "force", "nodeid", "votes", "link0")
	p.Set("hostname", host)
	p.Set("fingerprint", fp)
	p.Set("password", pw)
	if _, err := c.Call(http.MethodPost, "/cluster/config/join", p); err != nil {
		return err
	}
	if name == "" {
		_, err = fmt.Fprintln(c.Stdout, "successfully added node to cluster.")
	} else {
		_, err = fmt.Fprintf(c.Stdout, "successfully added node '%s' to cluster.\n", name)
	}
	return err
}

// isConnError reports whether err means the node could not be reached at all.
func isConnError(err error) bool {
	var ae *cli.APIError
	return !errors.As(err, &ae)
}

// member is one node of GET /pvecfs/cluster/status.
type member struct {
	Name     string `json:"name"`
	NodeID   int64  `json:"nodeid"`
	Votes    int64  `json:"votes"`
	Online   int    `json:"online"`
	Leader   int    `json:"leader"`
	Local    int    `json:"local"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
}

// clusterStatus is GET /pvecfs/cluster/status.
type clusterStatus struct {
	Name          string   `json:"name"`
	ConfigVersion int64    `json:"config_version"`
	Quorate       int      `json:"quorate"`
	Leader        string   `json:"leader"`
	Local         string   `json:"local"`
	ExpectedVotes int64    `json:"expected_votes"`
	TotalVotes    int64    `json:"total_votes"`
	Quorum        *int64   `json:"quorum"`
	Nodes         []member `json:"nodes"`
}

// status prints `pvecm status` (or `pvecm nodes` with onlyNodes) from
// GET /pvecfs/cluster/status, in corosync-quorumtool's layout.
func status(c *cli.Ctx, onlyNodes bool) error {
	data, err := c.Call(http.MethodGet, "/pvecfs/cluster/status", url.Values{})
	if err != nil {
		return err
	}
	if c.Format.Output != cli.FormatText {
		return c.Print(data, cli.Schema{Kind: cli.KindObject})
	}
	if c.Format.Quiet {
		return nil
	}
	var st clusterStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("invalid cluster status answer: %w", err)
	}
	var b strings.Builder
	if onlyNodes {
		b.WriteString("\n")
		membership(&b, &st, false)
	} else {
		statusText(&b, &st)
	}
	_, err = fmt.Fprint(c.Stdout, b.String())
	return err
}

func statusText(b *strings.Builder, st *clusterStatus) {
	var local *member
	online := 0
	for k := range st.Nodes {
		if st.Nodes[k].Online == 1 {
			online++
		}
		if st.Nodes[k].Local == 1 || st.Nodes[k].Name == st.Local {
			local = &st.Nodes[k]
		}
	}
	quorum := st.ExpectedVotes/2 + 1
	if st.Quorum != nil {
		quorum = *st.Quorum
	}
	quorate, flags := "No", ""
	if st.Quorate == 1 {
		quorate, flags = "Yes", "Quorate"
	}
	leader := st.Leader
	if leader == "" {
		leader = "(none)"
	}
	fmt.Fprintf(b, "Cluster information\n-------------------\n")
	fmt.Fprintf(b, "%-18s%s\n", "Name:", st.Name)
	fmt.Fprintf(b, "%-18s%d\n", "Config Version:", st.ConfigVersion)
	fmt.Fprintf(b, "%-18s%s\n", "Transport:", "raft")
	fmt.Fprintf(b, "%-18s%s\n", "Secure auth:", "on")
	fmt.Fprintf(b, "\nQuorum information\n------------------\n")
	fmt.Fprintf(b, "%-18s%s\n", "Date:", now().Format("Mon Jan _2 15:04:05 2006"))
	fmt.Fprintf(b, "%-18s%s\n", "Quorum provider:", "raft")
	fmt.Fprintf(b, "%-18s%d\n", "Nodes:", online)
	if local != nil {
		fmt.Fprintf(b, "%-18s0x%08x\n", "Node ID:", local.NodeID)
	}
	fmt.Fprintf(b, "%-18s%s\n", "Quorate:", quorate)
	fmt.Fprintf(b, "%-18s%s\n", "Leader:", leader)
	fmt.Fprintf(b, "\nVotequorum information\n----------------------\n")
	fmt.Fprintf(b, "%-18s%d\n", "Expected votes:", st.ExpectedVotes)
	fmt.Fprintf(b, "%-18s%d\n", "Total votes:", st.TotalVotes)
	fmt.Fprintf(b, "%-18s%d\n", "Quorum:", quorum)
	fmt.Fprintf(b, "%-18s%s\n", "Flags:", flags)
	b.WriteString("\n")
	membership(b, st, true)
}

// membership writes corosync-quorumtool's member list (online nodes),
// node ids in hex when hex is set.
func membership(b *strings.Builder, st *clusterStatus, hex bool) {
	b.WriteString("Membership information\n----------------------\n")
	fmt.Fprintf(b, "%10s %10s %s\n", "Nodeid", "Votes", "Name")
	nodes := append([]member(nil), st.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].NodeID < nodes[j].NodeID })
	for _, m := range nodes {
		if m.Online != 1 {
			continue
		}
		if hex {
			fmt.Fprintf(b, "0x%08x ", m.NodeID)
		} else {
			fmt.Fprintf(b, "%10d ", m.NodeID)
		}
		fmt.Fprintf(b, "%10d %s", m.Votes, m.Name)
		if m.Local == 1 || m.Name == st.Local {
			b.WriteString(" (local)")
		}
		b.WriteString("\n")
	}
}
