package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/cli"
	"github.com/pvecfs/pvecfs/cli/clitest"
)

type request = clitest.Request

// fakeNode is the shared fake node plus this program's runner.
type fakeNode struct{ *clitest.FakeNode }

func newFakeNode(t *testing.T, answers map[string]string) *fakeNode {
	return &fakeNode{clitest.NewFakeNode(t, answers)}
}

func (f *fakeNode) take() []request { return f.Take() }

func (f *fakeNode) run(args []string, env map[string]string, prompt func(string) (string, error)) (int, string, string) {
	var out, errb bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: &errb, ReadPassword: prompt, Getenv: func(k string) string {
		if k == "PVECFS_DATA_DIR" {
			return f.Dir
		}
		return env[k]
	}}
	code := run(args, e)
	return code, out.String(), errb.String()
}

const fp = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

func TestRequests(t *testing.T) {
	f := newFakeNode(t, nil)
	tests := []struct {
		args   []string
		env    map[string]string
		method string
		path   string
		params string
	}{
		{[]string{"create", "prod"}, nil, "POST", "/cluster/config", "clustername=prod"},
		{[]string{"create", "prod", "--nodeid", "2"}, nil, "POST", "/cluster/config", "clustername=prod&nodeid=2"},
		{[]string{"delnode", "node3"}, nil, "DELETE", "/cluster/config/nodes/node3", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := f.run(tt.args, tt.env, nil)
			if code != 0 || stdout != "" {
				t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
			}
			r := f.take()
			if len(r) != 1 || r[0].Method != tt.method || r[0].Path != tt.path || r[0].Form.Encode() != tt.params {
				t.Fatalf("requests %+v", r)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	f := newFakeNode(t, map[string]string{
		"GET /cluster/status": `{"data":[{"type":"node","id":"node/n2","name":"n2","local":1,"online":1,"nodeid":0}]}`,
	})
	// password from the environment
	code, stdout, stderr := f.run([]string{"add", "10.0.0.1:8006", "--fingerprint", fp}, map[string]string{"PVECFS_JOIN_PASSWORD": "pw"}, nil)
	if code != 0 || stdout != "successfully added node 'n2' to cluster.\n" {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	r := f.take()
	if len(r) != 2 || r[1].Method != "POST" || r[1].Path != "/cluster/config/join" ||
		r[1].Form.Encode() != (url.Values{"hostname": {"10.0.0.1:8006"}, "fingerprint": {fp}, "password": {"pw"}}).Encode() {
		t.Fatalf("requests %+v", r)
	}
	// password from the terminal, with force
	var asked string
	code, _, stderr = f.run([]string{"add", "h1", "-fingerprint", fp, "-force", "1"}, nil, func(p string) (string, error) {
		asked = p
		return "typed", nil
	})
	r = f.take()
	if code != 0 || asked != "Please enter superuser (root) password for 'h1': " || r[1].Form.Get("password") != "typed" || r[1].Form.Get("force") != "1" {
		t.Fatalf("exit %d %q asked %q %+v", code, stderr, asked, r)
	}
	// no terminal, no env
	code, _, stderr = f.run([]string{"add", "h1", "--fingerprint", fp}, nil, func(string) (string, error) { return "", cli.ErrNoTerminal })
	if code == 0 || !strings.Contains(stderr, "PVECFS_JOIN_PASSWORD") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d %q", code, stderr)
	}
	for _, r := range f.take() {
		if r.Method != "GET" {
			t.Fatalf("sent %+v", r)
		}
	}
	// malformed fingerprint: refused before anything is sent
	code, _, stderr = f.run([]string{"add", "h1", "--fingerprint", "AB:CD"}, map[string]string{"PVECFS_JOIN_PASSWORD": "pw"}, nil)
	if code == 0 || !strings.Contains(stderr, "invalid --fingerprint 'AB:CD'") || len(f.take()) != 0 {
		t.Fatalf("exit %d %q", code, stderr)
	}
	// lower case is accepted and sent upper case
	code, _, stderr = f.run([]string{"add", "h1", "--fingerprint", strings.ToLower(fp)}, map[string]string{"PVECFS_JOIN_PASSWORD": "pw"}, nil)
	if r := f.take(); code != 0 || r[len(r)-1].Form.Get("fingerprint") != fp {
		t.Fatalf("exit %d %q %+v", code, stderr, r)
	}
	// no fingerprint
	code, _, stderr = f.run([]string{"add", "h1"}, map[string]string{"PVECFS_JOIN_PASSWORD": "pw"}, nil)
	if code == 0 || !strings.Contains(stderr, "--fingerprint is required") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

func TestAddServerError(t *testing.T) {
	f := newFakeNode(t, map[string]string{
		"POST /cluster/config/join": `!{"data":null,"message":"this host already holds configuration: user.cfg\n"}`,
	})
	code, stdout, stderr := f.run([]string{"add", "h1", "--fingerprint", fp}, map[string]string{"PVECFS_JOIN_PASSWORD": "pw"}, nil)
	if code != 1 || stdout != "" || stderr != "this host already holds configuration: user.cfg\n" {
		t.Fatalf("exit %d %q %q", code, stdout, stderr)
	}
}

const statusJSON = `{"data":{"name":"prod","config_version":3,"quorate":1,"leader":"n2","local":"n1","expected_votes":3,"total_votes":2,"quorum":2,
"nodes":[{"name":"n2","nodeid":2,"votes":1,"online":1,"leader":1,"local":0,"raft_addr":"10.0.0.2:5405","api_addr":"10.0.0.2:8006"},
{"name":"n1","nodeid":1,"votes":1,"online":1,"leader":0,"local":1,"raft_addr":"10.0.0.1:5405","api_addr":"10.0.0.1:8006"},
{"name":"n3","nodeid":3,"votes":1,"online":0,"leader":0,"local":0,"raft_addr":"10.0.0.3:5405","api_addr":"10.0.0.3:8006"}]}}`

func TestStatus(t *testing.T) {
	now = func() time.Time { return time.Date(2024, 9, 3, 10, 4, 5, 0, time.UTC) }
	f := newFakeNode(t, map[string]string{"GET /pvecfs/cluster/status": statusJSON})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, `Cluster information
-------------------
Name:             prod
Config Version:   3
Transport:        raft
Secure auth:      on

Quorum information
------------------
Date:             Tue Sep  3 10:04:05 2024
Quorum provider:  raft
Nodes:            2
Node ID:          0x00000001
Quorate:          Yes
Leader:           n2

Votequorum information
----------------------
Expected votes:   3
Total votes:      2
Quorum:           2
Flags:            Quorate

Membership information
----------------------
    Nodeid      Votes Name
0x00000001          1 n1 (local)
0x00000002          1 n2
`},
		{[]string{"nodes"}, `
Membership information
----------------------
    Nodeid      Votes Name
         1          1 n1 (local)
         2          1 n2
`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := f.run(tt.args, nil, nil)
			if code != 0 || stdout != tt.want {
				t.Fatalf("exit %d stderr %q stdout\n%s\nwant\n%s", code, stderr, stdout, tt.want)
			}
		})
	}
	code, stdout, _ := f.run([]string{"status", "--output-format", "json"}, nil, nil)
	if code != 0 || !strings.HasPrefix(stdout, `{"config_version":3,"expected_votes":3,"leader":"n2","local":"n1","name":"prod","nodes":[{"api_addr":"10.0.0.2:8006"`) {
		t.Fatalf("json %q", stdout)
	}
}

func TestStatusNotClustered(t *testing.T) {
	f := newFakeNode(t, map[string]string{"GET /pvecfs/cluster/status": `!{"data":null,"message":"Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n"}`})
	for _, cmd := range []string{"status", "nodes"} {
		code, stdout, stderr := f.run([]string{cmd}, nil, nil)
		if code == 0 || stdout != "" || stderr != "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n" {
			t.Fatalf("%s: exit %d %q %q", cmd, code, stdout, stderr)
		}
	}
}

func TestUnsupported(t *testing.T) {
	f := newFakeNode(t, nil)
	for _, args := range [][]string{{"expected", "1"}, {"updatecerts", "--force"}} {
		code, _, stderr := f.run(args, nil, nil)
		if code != 1 || !strings.Contains(stderr, "not supported by pvecfs") {
			t.Fatalf("%v: exit %d %q", args, code, stderr)
		}
	}
	if r := f.take(); len(r) != 0 {
		t.Fatalf("sent %+v", r)
	}
	code, stdout, _ := f.run([]string{"apiver"}, nil, nil)
	if code != 0 || stdout != "1\n" {
		t.Fatalf("apiver %d %q", code, stdout)
	}
}
