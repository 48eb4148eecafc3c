package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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

func (f *fakeNode) run(args []string, env map[string]string, prompts ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "PVECFS_DATA_DIR" {
			return f.Dir
		}
		if k == "LANG" {
			return "C.UTF-8"
		}
		return env[k]
	}}
	if prompts != nil {
		e.ReadPassword = func(string) (string, error) {
			p := prompts[0]
			prompts = prompts[1:]
			return p, nil
		}
	}
	code := run(args, e)
	return code, out.String(), errb.String()
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for k := 0; k+1 < len(kv); k += 2 {
		v.Set(kv[k], kv[k+1])
	}
	return v
}

func TestRequests(t *testing.T) {
	f := newFakeNode(t, nil)
	tests := []struct {
		line   string // a command line split on spaces; '~' stands for a space inside an argument
		method string
		path   string
		params url.Values
	}{
		// lines from the Proxmox VE documentation, verbatim
		{"user token add joe@pve monitoring -privsep 1", "POST", "/access/users/joe%40pve/token/monitoring", form("privsep", "1")},
		{"aclmod /vms -user joe@pve -role PVEVMAdmin", "PUT", "/access/acl", form("path", "/vms", "users", "joe@pve", "roles", "PVEVMAdmin", "delete", "0")},
		{"aclmod /vms -token joe@pve!monitoring -role PVEAuditor", "PUT", "/access/acl", form("path", "/vms", "tokens", "joe@pve!monitoring", "roles", "PVEAuditor", "delete", "0")},
		{"user token permissions joe@pve monitoring", "GET", "/access/permissions", form("userid", "joe@pve!monitoring")},
		{"useradd testuser@pve -comment Just~a~test", "POST", "/access/users", form("userid", "testuser@pve", "comment", "Just a test")},
		{"groupadd admin -comment System~Administrators", "POST", "/access/groups", form("groupid", "admin", "comment", "System Administrators")},
		{"aclmod / -group admin -role Administrator", "PUT", "/access/acl", form("path", "/", "groups", "admin", "roles", "Administrator", "delete", "0")},
		{"usermod testuser@pve -group admin", "PUT", "/access/users/testuser%40pve", form("groups", "admin")},
		{"roleadd PVE_Power-only -privs VM.PowerMgmt~VM.Console", "POST", "/access/roles", form("roleid", "PVE_Power-only", "privs", "VM.PowerMgmt VM.Console")},
		{"user modify testuser@pve -enable 0", "PUT", "/access/users/testuser%40pve", form("enable", "0")},
		{"user token add terraform@pve provider --privsep=0", "POST", "/access/users/terraform%40pve/token/provider", form("privsep", "0")},
		// the rest of the tree
		{"user add a@pve --email a@x.org --enable 1 --expire 0 --firstname A --lastname B --groups g1 --groups g2 --keys k --password secret12",
			"POST", "/access/users", form("userid", "a@pve", "email", "a@x.org", "enable", "1", "expire", "0", "firstname", "A", "lastname", "B", "groups", "g1,g2", "keys", "k", "password", "secret12")},
		{"user modify a@pve --groups g1 --append 1", "PUT", "/access/users/a%40pve", form("groups", "g1", "append", "1")},
		{"user delete a@pve", "DELETE", "/access/users/a%40pve", form()},
		{"userdel a@pve", "DELETE", "/access/users/a%40pve", form()},
		{"user list --full 1 --enabled 0", "GET", "/access/users", form("full", "1", "enabled", "0")},
		{"user list", "GET", "/access/users", form()},
		{"user permissions", "GET", "/access/permissions", form()},
		{"user permissions joe@pve --path /vms", "GET", "/access/permissions", form("userid", "joe@pve", "path", "/vms")},
		{"user tfa unlock joe@pve", "PUT", "/access/users/joe%40pve/unlock-tfa", form()},
		{"user token add joe@pve t2 --expire 100 --comment c", "POST", "/access/users/joe%40pve/token/t2", form("expire", "100", "comment", "c")},
		{"user token modify joe@pve t2 --delete comment --regenerate 1", "PUT", "/access/users/joe%40pve/token/t2", form("delete", "comment", "regenerate", "1")},
		{"user token remove joe@pve t2", "DELETE", "/access/users/joe%40pve/token/t2", form()},
		{"user token delete joe@pve t2", "DELETE", "/access/users/joe%40pve/token/t2", form()},
		{"user token list joe@pve", "GET", "/access/users/joe%40pve/token", form()},
		{"user token permissions joe@pve t2 --path /", "GET", "/access/permissions", form("userid", "joe@pve!t2", "path", "/")},
		{"group modify admin --comment x", "PUT", "/access/groups/admin", form("comment", "x")},
		{"groupmod admin --comment x", "PUT", "/access/groups/admin", form("comment", "x")},
		{"group delete admin", "DELETE", "/access/groups/admin", form()},
		{"groupdel admin", "DELETE", "/access/groups/admin", form()},
		{"group list", "GET", "/access/groups", form()},
		{"role modify R --privs Sys.Audit --append 1", "PUT", "/access/roles/R", form("privs", "Sys.Audit", "append", "1")},
		{"rolemod R --privs Sys.Audit", "PUT", "/access/roles/R", form("privs", "Sys.Audit")},
		{"role delete R", "DELETE", "/access/roles/R", form()},
		{"roledel R", "DELETE", "/access/roles/R", form()},
		{"role list", "GET", "/access/roles", form()},
		{"acl modify /vms --roles R --users a@pve,b@pve --propagate 0", "PUT", "/access/acl", form("path", "/vms", "roles", "R", "users", "a@pve,b@pve", "propagate", "0", "delete", "0")},
		{"acl delete /vms --roles R --groups g", "PUT", "/access/acl", form("path", "/vms", "roles", "R", "groups", "g", "delete", "1")},
		{"acldel /vms -role R -user a@pve", "PUT", "/access/acl", form("path", "/vms", "roles", "R", "users", "a@pve", "delete", "1")},
		{"acl list", "GET", "/access/acl", form()},
		{"realm add corp --type ldap --server1 ldap.corp --base_dn dc=corp --user_attr uid --port 389 --default 1",
			"POST", "/access/domains", form("realm", "corp", "type", "ldap", "server1", "ldap.corp", "base_dn", "dc=corp", "user_attr", "uid", "port", "389", "default", "1")},
		{"realm modify corp --comment C --delete port,server2 --digest abc", "PUT", "/access/domains/corp", form("comment", "C", "delete", "port,server2", "digest", "abc")},
		{"realm delete corp", "DELETE", "/access/domains/corp", form()},
		{"realm list", "GET", "/access/domains", form()},
		{"realm sync corp --scope users --dry-run 1", "POST", "/access/domains/corp/sync", form("scope", "users", "dry-run", "1")},
		{"passwd joe@pve --password newsecret", "PUT", "/access/password", form("userid", "joe@pve", "password", "newsecret")},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			args := strings.Fields(tt.line)
			for k := range args {
				args[k] = strings.ReplaceAll(args[k], "~", " ")
			}
			code, _, stderr := f.run(args, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			reqs := f.take()
			if len(reqs) != 1 {
				t.Fatalf("%d requests: %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != tt.path || r.Form.Encode() != tt.params.Encode() {
				t.Fatalf("got %s %s %s\nwant %s %s %s", r.Method, r.Path, r.Form.Encode(), tt.method, tt.path, tt.params.Encode())
			}
		})
	}
}

func TestBadCommandLines(t *testing.T) {
	f := newFakeNode(t, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"user", "add", "a@pve", "--bogus", "1"}, "Unknown option: bogus"},
		{[]string{"user", "token", "add", "joe@pve", "m", "-privsep", "maybe"}, "privsep: unable to parse boolean option 'maybe'"},
		{[]string{"user", "add"}, "not enough arguments: missing <userid>"},
		{[]string{"user", "delete", "a@pve", "b@pve"}, "too many arguments: unexpected 'b@pve'"},
		{[]string{"user", "add", "a@pve", "--expire", "never"}, "expire: value 'never' is not an integer"},
		{[]string{"user", "list", "--output-format", "xml"}, "output-format: value 'xml'"},
		{[]string{"user", "frobnicate"}, "unknown command 'pveum user frobnicate'"},
		{[]string{"user", "add", "a@pve", "--e", "1"}, "Option e is ambiguous (email, enable, expire)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := f.run(tt.args, nil)
			if code == 0 || stdout != "" {
				t.Fatalf("exit %d stdout %q", code, stdout)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("stderr %q, want one line with %q", stderr, tt.want)
			}
			if reqs := f.take(); len(reqs) != 0 {
				t.Fatalf("sent %+v", reqs)
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	f := newFakeNode(t, map[string]string{
		"POST /access/users":     `!{"data":null,"message":"create user failed: user 'a@pve' already exists\n"}`,
		"DELETE /access/users/x": `!{"data":null,"message":"Parameter verification failed.\n","errors":{"userid":"invalid format - value 'x' does not look like a valid user name\n"}}`,
	})
	code, _, stderr := f.run([]string{"user", "add", "a@pve"}, nil)
	if code != 1 || stderr != "create user failed: user 'a@pve' already exists\n" {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	code, _, stderr = f.run([]string{"user", "delete", "x"}, nil)
	if code != 1 || stderr != "Parameter verification failed.\nuserid: invalid format - value 'x' does not look like a valid user name\n" {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
}

func TestOutput(t *testing.T) {
	f := newFakeNode(t, map[string]string{
		"POST /access/users/joe%40pve/token/monitoring": `{"data":{"full-tokenid":"joe@pve!monitoring","info":{"privsep":1},"value":"d1f8aa5d-1111-4222-8333-444455556666"}}`,
		"GET /access/acl":         `{"data":[{"path":"/vms","type":"token","ugid":"joe@pve!monitoring","roleid":"PVEAuditor","propagate":1},{"path":"/","type":"group","ugid":"admin","roleid":"Administrator","propagate":1}]}`,
		"GET /access/permissions": `{"data":{"/vms":{"VM.Audit":1,"Sys.Audit":0},"/":{"Sys.Audit":1}}}`,
		"GET /access/roles":       `{"data":[{"roleid":"NoAccess","privs":"","special":1}]}`,
	})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"user", "token", "add", "joe@pve", "monitoring", "-privsep", "1"},
			"┌──────────────┬──────────────────────────────────────┐\n" +
				"│ key          │ value                                │\n" +
				"╞══════════════╪══════════════════════════════════════╡\n" +
				"│ full-tokenid │ joe@pve!monitoring                   │\n" +
				"├──────────────┼──────────────────────────────────────┤\n" +
				"│ info         │ {\"privsep\":1}                        │\n" +
				"├──────────────┼──────────────────────────────────────┤\n" +
				"│ value        │ d1f8aa5d-1111-4222-8333-444455556666 │\n" +
				"└──────────────┴──────────────────────────────────────┘\n"},
		{[]string{"user", "token", "add", "joe@pve", "monitoring", "--output-format", "json"},
			`{"full-tokenid":"joe@pve!monitoring","info":{"privsep":1},"value":"d1f8aa5d-1111-4222-8333-444455556666"}` + "\n"},
		{[]string{"acl", "list"},
			"┌──────┬───────────────┬───────┬────────────────────┬───────────┐\n" +
				"│ path │ roleid        │ type  │ ugid               │ propagate │\n" +
				"╞══════╪═══════════════╪═══════╪════════════════════╪═══════════╡\n" +
				"│ /    │ Administrator │ group │ admin              │ 1         │\n" +
				"├──────┼───────────────┼───────┼────────────────────┼───────────┤\n" +
				"│ /vms │ PVEAuditor    │ token │ joe@pve!monitoring │ 1         │\n" +
				"└──────┴───────────────┴───────┴────────────────────┴───────────┘\n"},
		{[]string{"acl", "list", "--output-format", "yaml"},
			"---\n-\n  path: /vms\n  propagate: 1\n  roleid: PVEAuditor\n  type: token\n  ugid: joe@pve!monitoring\n" +
				"-\n  path: /\n  propagate: 1\n  roleid: Administrator\n  type: group\n  ugid: admin\n"},
		{[]string{"role", "list", "--noborder", "1"}, "roleid   privs special\nNoAccess       1\n"},
		{[]string{"user", "token", "permissions", "joe@pve", "monitoring"},
			"┌──────────┬───────────────┐\n" +
				"│ ACL path │ Permissions   │\n" +
				"╞══════════╪═══════════════╡\n" +
				"│ /        │ Sys.Audit (*) │\n" +
				"├──────────┼───────────────┤\n" +
				"│ /vms     │ Sys.Audit     │\n" +
				"│          │ VM.Audit (*)  │\n" +
				"└──────────┴───────────────┘\n" +
				"Permissions marked with '(*)' have the 'propagate' flag set.\n"},
		{[]string{"user", "permissions", "--output-format", "json-pretty"},
			"{\n   \"/\" : {\n      \"Sys.Audit\" : 1\n   },\n   \"/vms\" : {\n      \"Sys.Audit\" : 0,\n      \"VM.Audit\" : 1\n   }\n}\n"},
		{[]string{"user", "delete", "joe@pve"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := f.run(tt.args, nil)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", stdout, tt.want)
			}
		})
	}
}

func TestPasswd(t *testing.T) {
	f := newFakeNode(t, nil)
	code, _, stderr := f.run([]string{"passwd", "joe@pve"}, map[string]string{"PVECFS_NEW_PASSWORD": "fromenv1"})
	if r := f.take(); code != 0 || len(r) != 1 || r[0].Form.Get("password") != "fromenv1" {
		t.Fatalf("exit %d %s %+v", code, stderr, r)
	}
	code, _, stderr = f.run([]string{"passwd", "joe@pve"}, nil, "typed123", "typed123")
	if r := f.take(); code != 0 || len(r) != 1 || r[0].Form.Get("password") != "typed123" {
		t.Fatalf("exit %d %s %+v", code, stderr, r)
	}
	code, _, stderr = f.run([]string{"passwd", "joe@pve"}, nil, "typed123", "typo")
	if r := f.take(); code == 0 || stderr != "Passwords do not match.\n" || len(r) != 0 {
		t.Fatalf("exit %d %q %+v", code, stderr, r)
	}
	code, _, stderr = f.run([]string{"passwd", "joe@pve"}, nil)
	if code == 0 || !strings.Contains(stderr, "PVECFS_NEW_PASSWORD") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

func TestRemote(t *testing.T) {
	var gotAuth, gotPath string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.EscapedPath()
		io.WriteString(w, `{"data":[{"groupid":"admin","users":"joe@pve"}]}`)
	}))
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	hexes := make([]string, len(sum))
	for k, c := range sum {
		hexes[k] = fmt.Sprintf("%02X", c)
	}
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		return map[string]string{"PVECFS_TOKEN": "joe@pve!m=s3cret", "LANG": "C"}[k]
	}}
	code := run([]string{"group", "list", "--url", srv.URL, "--fingerprint", strings.Join(hexes, ":")}, env)
	if code != 0 || gotAuth != "PVEAPIToken=joe@pve!m=s3cret" || gotPath != "/api2/json/access/groups" {
		t.Fatalf("exit %d %q auth %q path %q", code, errb.String(), gotAuth, gotPath)
	}
	want := "+---------+---------+---------+\n| groupid | comment | users   |\n+=========+=========+=========+\n| admin   |         | joe@pve |\n+---------+---------+---------+\n"
	if out.String() != want {
		t.Fatalf("ASCII table (LANG=C)\n%s\nwant\n%s", out.String(), want)
	}
}
