package harness

import (
	"encoding/json"
	"testing"
)

func TestLeaderName(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`[{"type":"cluster","id":"cluster","name":"test","nodes":3,"quorate":1},
		   {"type":"node","id":"node/node1","name":"node1","leader":0},
		   {"type":"node","id":"node/node2","name":"node2","leader":1},
		   {"type":"node","id":"node/node3","name":"node3"}]`, "node2"},
		{`[{"type":"node","id":"node/node3","leader":true}]`, "node3"},
		{`[{"type":"node","name":"node3","leader":"1"}]`, "node3"},
		{`{"cluster":{"name":"test"},"quorum":{"quorate":1},"leader":"node1"}`, "node1"},
		{`{"leader":{"name":"node4","address":"127.0.0.1:1"}}`, "node4"},
		{`{"nodes":[{"node":"node5","leader":1}],"leader":"node5"}`, "node5"},
		{`{"leader":"127.0.0.1:5405"}`, "127.0.0.1:5405"},
		// No mark, marks that disagree, junk: nothing.
		{`[{"type":"node","name":"node1","online":1}]`, ""},
		{`{"leader":""}`, ""},
		{`[{"name":"a","leader":1},{"name":"b","leader":1}]`, ""},
		{`[{"leader":1}]`, ""},
		{`not json`, ""},
		{``, ""},
	} {
		if got := LeaderName([]byte(tc.doc)); got != tc.want {
			t.Errorf("LeaderName(%s) = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

func TestClusterStatusDecode(t *testing.T) {
	raw := `[{"type":"cluster","id":"cluster","name":"test","nodes":2,"version":2,"quorate":1},
	         {"type":"node","id":"node/b","name":"b","nodeid":2,"ip":"127.0.0.1","local":0,"online":true},
	         {"type":"node","id":"node/a","name":"a","nodeid":"1","local":1,"online":1,"level":""}]`
	st := &ClusterStatus{Raw: json.RawMessage(raw)}
	if err := json.Unmarshal([]byte(raw), &st.Entries); err != nil {
		t.Fatal(err)
	}
	cl, ok := st.Cluster()
	if !ok || cl.Name != "test" || cl.Nodes != 2 || cl.Quorate != 1 {
		t.Fatalf("cluster entry %+v %v", cl, ok)
	}
	if n := st.NodeEntries(); len(n) != 2 || n[0].Online != 1 || n[1].NodeID != 1 {
		t.Fatalf("node entries %+v", n)
	}
	if !st.HasAll([]string{"b", "a"}) {
		t.Fatal("HasAll(a,b) = false")
	}
	if st.HasAll([]string{"a"}) || st.HasAll([]string{"a", "b", "c"}) {
		t.Fatal("HasAll with wrong member set = true")
	}
	st.Entries[1].Online = 0
	if st.HasAll([]string{"a", "b"}) {
		t.Fatal("HasAll with an offline member = true")
	}
	standalone := &ClusterStatus{Entries: []StatusEntry{{Type: "node", Name: "a", Online: 1}}}
	if standalone.HasAll([]string{"a"}) {
		t.Fatal("HasAll without a cluster entry = true")
	}

	var f Flag
	for in, want := range map[string]Flag{`1`: 1, `0`: 0, `true`: 1, `false`: 0, `"1"`: 1, `null`: 0, `2`: 2} {
		if err := json.Unmarshal([]byte(in), &f); err != nil || f != want {
			t.Errorf("Flag(%s) = %d, %v", in, f, err)
		}
	}
	if err := json.Unmarshal([]byte(`"yes"`), &f); err == nil {
		t.Error("Flag(\"yes\"): no error")
	}
}
