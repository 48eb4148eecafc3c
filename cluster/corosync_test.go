package cluster

import (
	"bytes"
	"reflect"
	"testing"
)

const sampleConf = `logging {
  debug: off
  to_syslog: yes
}

nodelist {
  node {
    name: pve1
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 10.0.0.1
  }
  node {
    name: pve2
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 10.0.0.2 # comment
  }
}

quorum {
  provider: corosync_votequorum
}

totem {
  cluster_name: prod
  config_version: 7
  interface {
    linknumber: 0
  }
  ip_version: ipv4-6
  secauth: on
  version: 2
}
`

func TestParseConfProxmoxFile(t *testing.T) {
	c, warns, err := ParseConf([]byte(sampleConf))
	if err != nil || len(warns) != 0 {
		t.Fatalf("parse: %v %v", err, warns)
	}
	if c.Name != "prod" || c.ConfigVersion != 7 || len(c.Nodes) != 2 || c.Nodes[1].Ring0Addr != "10.0.0.2" || c.Nodes[0].Votes != 1 {
		t.Fatalf("parsed %+v", c)
	}
	again, _, err := ParseConf(c.Render())
	if err != nil || !reflect.DeepEqual(again, c) {
		t.Fatalf("round trip: %+v %v", again, err)
	}
	for _, bad := range []string{"totem {\n", "}\n", "nodelist {\n node {\n name: x\n }\n"} {
		if _, _, err := ParseConf([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseConf(f *testing.F) {
	f.Add([]byte(sampleConf))
	f.Add((&Conf{Name: "x", ConfigVersion: 1, Nodes: []Member{{Name: "a", NodeID: 1, Votes: 1, RaftAddr: "1.2.3.4:5", APIAddr: "1.2.3.4:6"}}}).Render())
	f.Add([]byte("nodelist {\n node {\n nodeid: x\n }\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := ParseConf(data)
		if err != nil {
			return
		}
		out := c.Render()
		c2, _, err := ParseConf(out)
		if err != nil {
			t.Fatalf("rendered conf does not parse: %v\n%s", err, out)
		}
		if !bytes.Equal(c2.Render(), out) {
			t.Fatalf("render is not stable:\n%s\n---\n%s", out, c2.Render())
		}
	})
}
