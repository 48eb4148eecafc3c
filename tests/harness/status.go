package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Flag is an integer that also decodes from JSON booleans and numeric
// strings, for 0/1 fields whose encoding a server might vary.
type Flag int

// UnmarshalJSON implements json.Unmarshaler.
func (f *Flag) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	switch s {
	case "null", `""`:
		*f = 0
		return nil
	case "true":
		*f = 1
		return nil
	case "false":
		*f = 0
		return nil
	}
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("flag: cannot decode %s", b)
	}
	*f = Flag(int(v))
	return nil
}

// StatusEntry is one item of GET /api2/json/cluster/status: a
// {type:"cluster"} entry (Name, Nodes, Version, Quorate) or a {type:"node"}
// entry (Name, NodeID, IP, Local, Online, Level).
type StatusEntry struct {
	// Type is "cluster" or "node".
	Type string `json:"type"`
	// ID is "cluster" or "node/<name>".
	ID string `json:"id"`
	// Name is the cluster name or the node name.
	Name string `json:"name"`
	// Nodes is the configured node count (cluster entry).
	Nodes Flag `json:"nodes"`
	// Version is the cluster config version (cluster entry).
	Version Flag `json:"version"`
	// Quorate is 1 if the cluster has quorum (cluster entry).
	Quorate Flag `json:"quorate"`
	// NodeID is the node id (node entry).
	NodeID Flag `json:"nodeid"`
	// IP is the node's address, if known (node entry).
	IP string `json:"ip"`
	// Local is 1 for the answering node (node entry).
	Local Flag `json:"local"`
	// Online is 1 if the node is a live member (node entry).
	Online Flag `json:"online"`
	// Level is the subscription level (node entry).
	Level string `json:"level"`
	// Leader is pvecfs's leader mark, if the server sends one (see LeaderName).
	Leader json.RawMessage `json:"leader,omitempty"`
}

// ClusterStatus is a decoded GET /cluster/status answer.
type ClusterStatus struct {
	// Entries are the items in the server's order.
	Entries []StatusEntry
	// Raw is the undecoded data member.
	Raw json.RawMessage
}

// Cluster returns the {type:"cluster"} entry, if any (absent before
// `pvecm create`).
func (s *ClusterStatus) Cluster() (StatusEntry, bool) {
	for _, e := range s.Entries {
		if e.Type == "cluster" {
			return e, true
		}
	}
	return StatusEntry{}, false
}

// NodeEntries returns the {type:"node"} entries.
func (s *ClusterStatus) NodeEntries() []StatusEntry {
	var out []StatusEntry
	for _, e := range s.Entries {
		if e.Type == "node" {
			out = append(out, e)
		}
	}
	return out
}

// NodeNames returns the sorted names of the node entries.
func (s *ClusterStatus) NodeNames() []string {
	var out []string
	for _, e := range s.NodeEntries() {
		out = append(out, e.Name)
	}
	slices.Sort(out)
	return out
}

// HasAll reports whether the status is that of a quorate cluster whose
// members are exactly names, all online.
func (s *ClusterStatus) HasAll(names []string) bool {
	cl, ok := s.Cluster()
	if !ok || cl.Quorate != 1 {
		return false
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(s.NodeNames(), want) {
		return false
	}
	for _, e := range s.NodeEntries() {
		if e.Online != 1 {
			return false
		}
	}
	return true
}

// GetClusterStatus reads GET /cluster/status with c (which must be
// authenticated with Sys.Audit on /, e.g. as root@pam).
func GetClusterStatus(ctx context.Context, c *Client) (*ClusterStatus, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/cluster/status", nil)
	if err != nil {
		return nil, fmt.Errorf("cluster status: %w", err)
	}
	if err := resp.Err(); err != nil {
		return nil, fmt.Errorf("cluster status: %w", err)
	}
	st := &ClusterStatus{Raw: resp.Data}
	if err := resp.Decode(&st.Entries); err != nil {
		return nil, fmt.Errorf("cluster status: %w", err)
	}
	return st, nil
}

// LeaderName extracts the Raft leader from a status document: the JSON of
// GET /cluster/status data or of `pvecm status --output-format json`.
//
// This is the one place to adapt once the daemon's shape is settled. The
// assumption: somewhere in the document a "leader" member marks the leader,
// either
//   - as a flag (1 or true) on the object describing the leader node, whose
//     "name" or "node" member (or "id" of the form node/<name>) names it, e.g.
//     a /cluster/status node entry {"type":"node","name":"node2","leader":1}; or
//   - as a string naming the leader (its node name, or an address), e.g.
//     {"quorum":{...},"leader":"node2"}; or
//   - as an object with such a "name"/"node" member.
//
// Objects are searched depth-first. It returns "" if no leader is marked or
// the marks disagree.
func LeaderName(doc []byte) string {
	c := leaderCandidates(doc)
	if len(c) != 1 {
		return ""
	}
	return c[0]
}

// leaderCandidates returns the distinct leader references in doc, sorted.
func leaderCandidates(doc []byte) []string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil
	}
	found := map[string]bool{}
	collectLeaders(v, found)
	out := make([]string, 0, len(found))
	for k := range found {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// collectLeaders walks v and records every leader it names.
func collectLeaders(v any, found map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectLeaders(e, found)
		}
	case map[string]any:
		if l, ok := x["leader"]; ok {
			switch lv := l.(type) {
			case string:
				if lv != "" && lv != "0" && lv != "1" {
					found[lv] = true
				} else if lv == "1" {
					if name := objectName(x); name != "" {
						found[name] = true
					}
				}
			case bool:
				if lv {
					if name := objectName(x); name != "" {
						found[name] = true
					}
				}
			case float64:
				if lv == 1 {
					if name := objectName(x); name != "" {
						found[name] = true
					}
				}
			case map[string]any:
				if name := objectName(lv); name != "" {
					found[name] = true
				}
			}
		}
		for _, e := range x {
			collectLeaders(e, found)
		}
	}
}

// objectName returns the node name an object describes.
func objectName(m map[string]any) string {
	for _, k := range []string{"name", "node", "nodename"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	if s, ok := m["id"].(string); ok {
		if name, ok := strings.CutPrefix(s, "node/"); ok && name != "" {
			return name
		}
	}
	return ""
}
