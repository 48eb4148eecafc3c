package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/domains"
)

var corpRealm = []string{"realm", "corp", "type", "ldap", "server1", "ldap.example.com", "base_dn", "dc=example,dc=com",
	"user_attr", "uid", "port", "636", "default", "1", "comment", "Corp LDAP"}

func TestAccessDomainList(t *testing.T) {
	e := newAccEnv(t)
	var got []map[string]any
	e.do("GET", "/access/domains", "", nil).decode(t, &got) // no authentication needed
	want := []map[string]any{
		{"realm": "pve", "type": "pve", "comment": "Proxmox VE authentication server"},
		{"realm": "pam", "type": "pam", "comment": "Linux PAM standard authentication"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if r := e.do("POST", "/access/domains", "root@pam", vals(corpRealm...)); r.Status != 200 {
		t.Fatalf("create: %d %q %v", r.Status, r.Message, r.Errors)
	}
	got = nil
	e.do("GET", "/access/domains", "", nil).decode(t, &got)
	if len(got) != 3 || !reflect.DeepEqual(got[2], map[string]any{"realm": "corp", "type": "ldap", "comment": "Corp LDAP", "default": 1.0}) {
		t.Fatalf("after create: %v", got)
	}
}

func TestAccessDomainLifecycle(t *testing.T) {
	e := newAccEnv(t)
	if r := e.do("POST", "/access/domains", "root@pam", vals(corpRealm...)); r.Status != 200 || string(r.Data) != "null" {
		t.Fatalf("create: %d %q %v", r.Status, r.Message, r.Errors)
	}
	var got map[string]any
	e.do("GET", "/access/domains/corp", "bob@pve", nil).decode(t, &got) // Sys.Audit on /access/realm
	digest := e.st.mustDomains(t).Digest()
	want := map[string]any{"type": "ldap", "server1": "ldap.example.com", "base_dn": "dc=example,dc=com", "user_attr": "uid",
		"port": 636.0, "default": 1.0, "comment": "Corp LDAP", "digest": digest}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %v\nwant %v", got, want)
	}
	if r := e.do("PUT", "/access/domains/corp", "root@pam", vals("port", "389", "delete", "default", "digest", digest)); r.Status != 200 {
		t.Fatalf("update: %d %q %v", r.Status, r.Message, r.Errors)
	}
	cfg := e.file(domains.Path)
	if !strings.Contains(cfg, "\tport 389\n") || strings.Contains(cfg, "default") {
		t.Fatalf("domains.cfg after update:\n%s", cfg)
	}
	before := e.tree.Checksum()
	r := e.do("PUT", "/access/domains/corp", "root@pam", vals("port", "390", "digest", digest))
	if r.Status != 500 || r.Message != "update auth server failed: detected modified configuration - file changed by other user? Try again.\n" {
		t.Fatalf("stale digest: %d %q", r.Status, r.Message)
	}
	if e.tree.Checksum() != before {
		t.Fatal("stale digest changed the tree")
	}
	if r := e.do("DELETE", "/access/domains/corp", "root@pam", nil); r.Status != 200 {
		t.Fatalf("delete: %d %q", r.Status, r.Message)
	}
	if strings.Contains(e.file(domains.Path), "corp") {
		t.Fatal("realm survives deletion")
	}
}

// mustDomains is the current domains.cfg model.
func (s *AccessState) mustDomains(t *testing.T) *domains.Domains {
	t.Helper()
	d, err := s.Domains()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAccessDomainErrors(t *testing.T) {
	withRealm := func(kv ...string) []string { return append([]string{"realm", "x1"}, kv...) }
	runAccCases(t, []accCase{
		{name: "create missing type", method: "POST", path: "/access/domains", as: "root@pam", params: vals("realm", "x1"),
			status: 400, wantErrs: []string{"type=property is missing and it is not optional"}},
		{name: "create missing realm", method: "POST", path: "/access/domains", as: "root@pam", params: vals("type", "ldap"),
			status: 400, wantErrs: []string{"realm"}},
		{name: "create bad type", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "kerberos")...),
			status: 400, wantErrs: []string{"type"}},
		{name: "create bad realm", method: "POST", path: "/access/domains", as: "root@pam", params: vals("realm", "1x", "type", "ldap"),
			status: 400, wantErrs: []string{"realm"}},
		{name: "create port not a number", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "ldap", "port", "ldap")...),
			status: 400, wantErrs: []string{"port=type check ('integer') failed - got 'ldap'"}},
		{name: "create port too large", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "ldap", "port", "70000")...),
			status: 400, wantErrs: []string{"port=value must have a maximum value of 65535"}},
		{name: "create bad mode", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "ldap", "mode", "ftp")...),
			status: 400, wantErrs: []string{"mode"}},
		{name: "create unknown param", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "ldap", "colour", "red")...),
			status: 400, wantErrs: []string{"colour"}},
		{name: "create bind password", method: "POST", path: "/access/domains", as: "root@pam",
			params: vals(withRealm("type", "ldap", "server1", "a", "base_dn", "b", "user_attr", "uid", "password", "s3cret")...),
			status: 400, wantErrs: []string{"password"}},
		{name: "create existing", method: "POST", path: "/access/domains", as: "root@pam", params: vals("realm", "pam", "type", "pam"),
			status: 500, wantMsg: "add auth server failed: domain 'pam' already exists\n"},
		{name: "create builtin type", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "pve")...),
			status: 500, wantMsg: "add auth server failed: unable to create builtin type 'pve'\n"},
		{name: "create missing option", method: "POST", path: "/access/domains", as: "root@pam", params: vals(withRealm("type", "openid")...),
			status: 500, wantMsg: "add auth server failed: missing value for required option 'client-id'\n"},
		{name: "create forbidden", method: "POST", path: "/access/domains", as: "bob@pve", params: vals(corpRealm...),
			status: 403, wantMsg: "Permission check failed (/access/realm, Realm.Allocate)\n"},
		{name: "read missing", method: "GET", path: "/access/domains/nope", as: "root@pam",
			status: 500, wantMsg: "domain 'nope' does not exist\n"},
		{name: "read malformed", method: "GET", path: "/access/domains/a", as: "root@pam",
			status: 400, wantErrs: []string{"realm=invalid format - value does not look like a valid realm\n"}},
		{name: "read too long", method: "GET", path: "/access/domains/" + strings.Repeat("a", 33), as: "root@pam",
			status: 400, wantErrs: []string{"realm=value may only be 32 characters long"}},
		{name: "read forbidden", method: "GET", path: "/access/domains/pve", as: "dave@pve",
			status: 403, wantMsg: "Permission check failed (/access/realm, Realm.Allocate|Sys.Audit)\n"},
		{name: "update nothing", method: "PUT", path: "/access/domains/pve", as: "root@pam",
			status: 500, wantMsg: "update auth server failed: no options specified\n"},
		{name: "update type", method: "PUT", path: "/access/domains/pve", as: "root@pam", params: vals("type", "ldap"),
			status: 400, wantErrs: []string{"type"}},
		{name: "update missing", method: "PUT", path: "/access/domains/nope", as: "root@pam", params: vals("comment", "x"),
			status: 500, wantMsg: "update auth server failed: domain 'nope' does not exist\n"},
		{name: "update bad digest", method: "PUT", path: "/access/domains/pve", as: "root@pam", params: vals("comment", "x", "digest", strings.Repeat("a", 65)),
			status: 400, wantErrs: []string{"digest"}},
		{name: "update forbidden", method: "PUT", path: "/access/domains/pve", as: "erin@pve", params: vals("comment", "x"),
			status: 403},
		{name: "delete missing", method: "DELETE", path: "/access/domains/nope", as: "root@pam",
			status: 500, wantMsg: "delete auth server failed: authentication domain 'nope' does not exist\n"},
		{name: "delete forbidden", method: "DELETE", path: "/access/domains/pve", as: "dave@pve", status: 403},
	})
}
