package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pvecfs/pvecfs/cfs"
)

// ConfPath is where the cluster configuration lives in the tree, as in Proxmox.
const ConfPath = "corosync.conf"

// Member is one configured node of the cluster.
type Member struct {
	Name        string `json:"name"`
	NodeID      int    `json:"nodeid"`
	Votes       int    `json:"quorum_votes"`
	Ring0Addr   string `json:"ring0_addr"`
	RaftAddr    string `json:"pvecfs_raft_addr"`
	APIAddr     string `json:"pvecfs_api_addr"`
	Fingerprint string `json:"pve_fp,omitempty"`
}

// Conf is the parsed corosync.conf: cluster name, config version and the
// node list. It is immutable; changes build a new Conf.
type Conf struct {
	Name          string
	ConfigVersion int
	Nodes         []Member // sorted by NodeID
}

// Render writes the configuration in corosync.conf syntax (sections and
// keys sorted, as Proxmox's writer does).
func (c *Conf) Render() []byte {
	var b bytes.Buffer
	b.WriteString("logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n")
	for _, m := range c.Nodes {
		fmt.Fprintf(&b, "  node {\n    name: %s\n    nodeid: %d\n", m.Name, m.NodeID)
		if m.Fingerprint != "" {
			fmt.Fprintf(&b, "    pve_fp: %s\n", m.Fingerprint)
		}
		fmt.Fprintf(&b, "    pvecfs_api_addr: %s\n    pvecfs_raft_addr: %s\n    quorum_votes: %d\n    ring0_addr: %s\n  }\n",
			m.APIAddr, m.RaftAddr, m.Votes, m.Ring0Addr)
	}
	b.WriteString("}\n\nquorum {\n  provider: corosync_votequorum\n}\n\ntotem {\n")
	fmt.Fprintf(&b, "  cluster_name: %s\n  config_version: %d\n", c.Name, c.ConfigVersion)
	b.WriteString("  interface {\n    linknumber: 0\n  }\n  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n")
	return b.Bytes()
}

// Member returns the node named name.
func (c *Conf) Member(name string) (Member, bool) {
	for _, m := range c.Nodes {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

func (c *Conf) clone() *Conf {
	n := *c
	n.Nodes = append([]Member(nil), c.Nodes...)
	return &n
}

// ParseConf reads corosync.conf text. Unknown keys are ignored with a
// warning; nodes without a name are dropped.
func ParseConf(data []byte) (*Conf, []string, error) {
	c := &Conf{}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil, nil
	}
	var warns []string
	var stack []string
	var cur *Member
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), cfs.MaxFileSize+1)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "":
			continue
		case strings.HasSuffix(line, "{"):
			sec := strings.TrimSpace(strings.TrimSuffix(line, "{"))
			stack = append(stack, sec)
			if strings.Join(stack, ".") == "nodelist.node" {
				cur = &Member{Votes: 1}
			}
			continue
		case line == "}":
			if len(stack) == 0 {
				return nil, warns, fmt.Errorf("line %d: unexpected '}'", ln)
			}
			if strings.Join(stack, ".") == "nodelist.node" && cur != nil {
				if cur.Name == "" {
					cur.Name = cur.Ring0Addr
				}
				if cur.Name != "" {
					c.Nodes = append(c.Nodes, *cur)
				} else {
					warns = append(warns, fmt.Sprintf("line %d: node without name ignored", ln))
				}
				cur = nil
			}
			stack = stack[:len(stack)-1]
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			warns = append(warns, fmt.Sprintf("line %d: ignore config line '%s'", ln, line))
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch sec := strings.Join(stack, "."); sec {
		case "nodelist.node":
			if err := setMemberKey(cur, k, v); err != nil {
				warns = append(warns, fmt.Sprintf("line %d: %v", ln, err))
			}
		case "totem":
			switch k {
			case "cluster_name":
				c.Name = v
			case "config_version":
				n, err := strconv.Atoi(v)
				if err != nil {
					warns = append(warns, fmt.Sprintf("line %d: bad config_version '%s'", ln, v))
				}
				c.ConfigVersion = n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, warns, fmt.Errorf("read corosync.conf: %w", err)
	}
	if len(stack) != 0 {
		return nil, warns, fmt.Errorf("unterminated section '%s'", strings.Join(stack, "."))
	}
	sort.SliceStable(c.Nodes, func(i, j int) bool { return c.Nodes[i].NodeID < c.Nodes[j].NodeID })
	return c, warns, nil
}

func setMemberKey(m *Member, k, v string) error {
	atoi := func() (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("bad %s '%s'", k, v)
		}
		return n, nil
	}
	var err error
	switch k {
	case "name":
		m.Name = v
	case "nodeid":
		m.NodeID, err = atoi()
	case "quorum_votes":
		m.Votes, err = atoi()
	case "ring0_addr":
		m.Ring0Addr = v
	case "pvecfs_raft_addr":
		m.RaftAddr = v
	case "pvecfs_api_addr":
		m.APIAddr = v
	case "pve_fp":
		m.Fingerprint = v
	}
	return err
}

// ConfFormat is the cfs registration of corosync.conf.
func ConfFormat() cfs.Format {
	return cfs.Format{Path: ConfPath, Parse: func(b []byte) (cfs.Model, []string, error) {
		c, w, err := ParseConf(b)
		if err != nil {
			return nil, w, err
		}
		return c, w, nil
	}}
}
