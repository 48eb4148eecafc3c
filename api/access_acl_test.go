package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestAccessACLList(t *testing.T) {
	all := []aclEntry{
		{Path: "/", Type: "user", Ugid: "erin@pve", Roleid: "PVEAuditor", Propagate: 1},
		{Path: "/", Type: "group", Ugid: "admins", Roleid: "Administrator", Propagate: 1},
		{Path: "/access/groups/devs", Type: "user", Ugid: "bob@pve", Roleid: "PVEUserAdmin", Propagate: 1},
		{Path: "/access/realm", Type: "user", Ugid: "bob@pve", Roleid: "Custom", Propagate: 1},
		{Path: "/vms", Type: "user", Ugid: "bob@pve", Roleid: "PVEVMAdmin", Propagate: 1},
		{Path: "/vms/100", Type: "user", Ugid: "dave@pve", Roleid: "PVEVMUser", Propagate: 0},
		{Path: "/vms/100", Type: "token", Ugid: "alice@pve!tok", Roleid: "PVEAuditor", Propagate: 1},
	}
	cases := []struct {
		as   string
		want []aclEntry
	}{
		{"root@pam", all},
		{"erin@pve", all},    // Sys.Audit on /access
		{"alice@pve", all},   // Permissions.Modify everywhere
		{"bob@pve", all[5:]}, // VM.Allocate on /vms/100 only (perm-modify needs /vms/<id>)
		{"dave@pve", []aclEntry{}},
	}
	for _, c := range cases {
		t.Run(c.as, func(t *testing.T) {
			e := newAccEnv(t)
			for _, p := range [][]string{
				{"path", "/vms/100", "roles", "PVEVMUser", "users", "dave@pve", "propagate", "0"},
				{"path", "/vms/100", "roles", "PVEAuditor", "tokens", "alice@pve!tok"},
			} {
				if r := e.do("PUT", "/access/acl", "root@pam", vals(p...)); r.Status != 200 {
					t.Fatalf("setup %v: %d %q", p, r.Status, r.Message)
				}
			}
			var got []aclEntry
			e.do("GET", "/access/acl", c.as, nil).decode(t, &got)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestAccessACLUpdate(t *testing.T) {
	e := newAccEnv(t)
	steps := []struct {
		as     string
		params []string
		has    string // a line user.cfg must then hold
		hasnt  string
	}{
		{"root@pam", []string{"path", "/", "roles", "Custom", "users", "dave@pve", "propagate", "1"}, "acl:1:/:dave@pve:Custom:", ""},
		{"root@pam", []string{"path", "//storage/local/", "roles", "PVEDatastoreUser", "groups", "devs", "propagate", "0"}, "acl:0:/storage/local:@devs:PVEDatastoreUser:", ""},
		// the VM admin may hand out a subset of his propagated privileges on his VMs
		{"bob@pve", []string{"path", "/vms/100", "roles", "PVEVMUser", "users", "dave@pve"}, "acl:1:/vms/100:dave@pve:PVEVMUser:", ""},
		{"root@pam", []string{"path", "/", "roles", "Custom", "users", "dave@pve", "delete", "1"}, "", "acl:1:/:dave@pve:Custom:"},
		// removal needs no whitelisted path
		{"root@pam", []string{"path", "/no/such/kind", "roles", "Custom", "users", "dave@pve", "delete", "1"}, "", ""},
	}
	for _, s := range steps {
		if r := e.do("PUT", "/access/acl", s.as, vals(s.params...)); r.Status != 200 || string(r.Data) != "null" {
			t.Fatalf("%s %v: %d %q %v", s.as, s.params, r.Status, r.Message, r.Errors)
		}
		cfg := e.file("user.cfg")
		if s.has != "" && !strings.Contains(cfg, s.has+"\n") {
			t.Fatalf("after %v user.cfg lacks %q:\n%s", s.params, s.has, cfg)
		}
		if s.hasnt != "" && strings.Contains(cfg, s.hasnt) {
			t.Fatalf("after %v user.cfg still holds %q", s.params, s.hasnt)
		}
	}
	// go-proxmox JSON form
	if r := e.doJSON("PUT", "/access/acl", "root@pam", `{"path":"/","roles":"Custom","users":"erin@pve","propagate":0,"delete":true}`); r.Status != 200 {
		t.Fatalf("JSON: %d %q %v", r.Status, r.Message, r.Errors)
	}
}

func TestAccessACLErrors(t *testing.T) {
	either := "either 'users', 'groups' or 'tokens' is required."
	runAccCases(t, []accCase{
		{name: "no members", method: "PUT", path: "/access/acl", as: "root@pam", params: vals("path", "/", "roles", "Custom"),
			status: 400, wantErrs: []string{"users=" + either, "groups=" + either, "tokens=" + either}},
		{name: "empty members", method: "PUT", path: "/access/acl", as: "root@pam", params: vals("path", "/", "roles", "Custom", "users", ""),
			status: 400, wantErrs: []string{"users", "groups", "tokens"}},
		{name: "missing path and roles", method: "PUT", path: "/access/acl", as: "root@pam", params: vals("users", "dave@pve"),
			status: 400, wantErrs: []string{"path", "roles"}},
		{name: "path off the whitelist", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/users", "roles", "Custom", "users", "dave@pve"), status: 400, wantErrs: []string{"path=invalid ACL path '/users'"}},
		{name: "path invalid characters", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/vms/1 00", "roles", "Custom", "users", "dave@pve", "delete", "1"), status: 400, wantErrs: []string{"path"}},
		{name: "bad user in list", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "users", "dave@pve,bad"), status: 400, wantErrs: []string{"users"}},
		{name: "bad token in list", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "tokens", "dave@pve"), status: 400, wantErrs: []string{"tokens"}},
		{name: "bad propagate", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "users", "dave@pve", "propagate", "2"), status: 400, wantErrs: []string{"propagate"}},
		{name: "unknown role", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Nope", "users", "dave@pve"), status: 500, wantMsg: "ACL update failed: role 'Nope' does not exist\n"},
		{name: "unknown user", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "users", "nobody@pve"), status: 500, wantMsg: "ACL update failed: user 'nobody@pve' does not exist\n"},
		{name: "unknown group", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "groups", "nope"), status: 500, wantMsg: "ACL update failed: group 'nope' does not exist\n"},
		{name: "unknown token", method: "PUT", path: "/access/acl", as: "root@pam",
			params: vals("path", "/", "roles", "Custom", "tokens", "dave@pve!x1"), status: 500, wantMsg: "ACL update failed: no such token 'x1' for user 'dave@pve'\n"},
		{name: "forbidden", method: "PUT", path: "/access/acl", as: "dave@pve",
			params: vals("path", "/", "roles", "Custom", "users", "dave@pve"), status: 403, wantMsg: "Permission check failed (/, Permissions.Modify)\n"},
		{name: "forbidden on the VM tree root", method: "PUT", path: "/access/acl", as: "bob@pve",
			params: vals("path", "/vms", "roles", "PVEVMUser", "users", "dave@pve"), status: 403},
		{name: "not a superset", method: "PUT", path: "/access/acl", as: "bob@pve",
			params: vals("path", "/vms/100", "roles", "PVEAdmin", "users", "dave@pve"), status: 500,
			wantMsg: "ACL update failed: 400 Parameter verification failed.\nrole: Cannot add role 'PVEAdmin' - requires 'Permissions.Modify' or superset of privileges.\n"},
		{name: "NoAccess needs Permissions.Modify", method: "PUT", path: "/access/acl", as: "bob@pve",
			params: vals("path", "/vms/100", "roles", "NoAccess", "users", "dave@pve"), status: 500, wantMsg: "ACL update failed: 400 Parameter verification failed.\nrole: "},
	})
}
