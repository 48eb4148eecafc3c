package usercfg

import (
	"reflect"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg/pmap"
)

func TestCloneIsIndependent(t *testing.T) {
	orig, _ := Parse([]byte(example14In))
	before := string(orig.Render())

	c := orig.Clone()
	c.Users = c.Users.Set("new@pve", &User{Enable: true})
	c.Groups = c.Groups.Delete("admins")
	c.VMs = c.VMs.Set("999", "dev")
	c.Roles = c.Roles.Set("X", &Role{Privs: Set{"VM.Audit": {}}})
	c.Pools = c.Pools.Delete("dev/web")

	u := c.User("alice@pve").Clone()
	u.Groups["extra"] = struct{}{}
	u.Tokens = u.Tokens.Delete("monitoring")
	u.Comment = "changed"
	c.Users = c.Users.Set("alice@pve", u)

	g := c.Group("dbteam").Clone()
	g.Users["x@pve"] = struct{}{}
	c.Groups = c.Groups.Set("dbteam", g)

	p := c.Pool("dev").Clone()
	p.VMs["555"] = struct{}{}
	c.Pools = c.Pools.Set("dev", p)

	r := c.Role("DBOperator").Clone()
	r.Privs["Sys.Audit"] = struct{}{}
	c.Roles = c.Roles.Set("DBOperator", r)

	tok := orig.User("root@pam").Token("automation").Clone()
	tok.Privsep = true

	root := c.ACL.Clone()
	vms := root.Child("vms").Clone()
	vms.Groups["other"] = RoleMap{"NoAccess": true}
	root.Children = root.Children.Set("vms", vms)
	if root.Users != nil {
		t.Fatal("root node has user entries")
	}
	root.Users = map[string]RoleMap{"z@pve": {"PVEAdmin": false}}
	c.ACL = root

	if got := string(orig.Render()); got != before {
		t.Errorf("original changed through its clone:\n%s", got)
	}
	if string(c.Render()) == before {
		t.Error("clone did not change")
	}
	if orig.User("root@pam").Token("automation").Privsep {
		t.Error("token clone shares state")
	}
}

func TestSetAndRoleMap(t *testing.T) {
	var nilSet Set
	if nilSet.Has("x") || len(nilSet.Sorted()) != 0 || nilSet.Clone() != nil {
		t.Error("nil Set misbehaves")
	}
	s := Set{"b": {}, "a": {}, "C": {}}
	if !reflect.DeepEqual(s.Sorted(), []string{"C", "a", "b"}) {
		t.Errorf("Sorted = %q", s.Sorted())
	}
	var nilMap RoleMap
	if nilMap.Clone() != nil {
		t.Error("nil RoleMap clone not nil")
	}
	m := RoleMap{"A": true}
	m2 := m.Clone()
	m2["A"] = false
	if !m["A"] {
		t.Error("RoleMap clone shares state")
	}
}

func TestFindAndWalk(t *testing.T) {
	cfg, _ := Parse([]byte(example14In))
	for path, ok := range map[string]bool{"/": true, "/vms": true, "/vms/100": true, "/vms/101": false,
		"/pool/dev": true, "/pool/dev/x": false, "/storage": true} {
		if (cfg.Find(path) != nil) != ok {
			t.Errorf("Find(%q) found=%v", path, !ok)
		}
	}
	var paths []string
	cfg.ACL.Walk(func(p string, n *ACLNode) { paths = append(paths, p) })
	want := []string{"/", "/access", "/access/realm", "/access/realm/ldap1", "/pool", "/pool/dev",
		"/storage", "/storage/nfs1", "/vms", "/vms/100"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("Walk order %q", paths)
	}
	if cfg.Find("/access").IsEmpty() || cfg.Find("/access/realm/ldap1").IsEmpty() || !(&ACLNode{}).IsEmpty() {
		t.Error("IsEmpty wrong")
	}
	var nilNode *ACLNode
	if nilNode.Child("x") != nil || !nilNode.IsEmpty() {
		t.Error("nil node misbehaves")
	}
	if !IsBuiltinRole("PVEAdmin") || IsBuiltinRole("DBOperator") || BuiltinRole("DBOperator") != nil {
		t.Error("IsBuiltinRole/BuiltinRole wrong")
	}
}

func TestRenderNilEntries(t *testing.T) {
	c := &Config{
		Users:  pmap.From(map[string]*User{"a@pve": nil, "b@pve": {Tokens: pmap.From(map[string]*Token{"tk": nil})}}),
		Groups: pmap.From(map[string]*Group{"g": nil}),
		Pools:  pmap.From(map[string]*Pool{"p": nil}),
		Roles:  pmap.From(map[string]*Role{"r": nil}),
		ACL:    &ACLNode{Children: pmap.From(map[string]*ACLNode{"vms": nil})},
	}
	want := "user:b@pve:0:0::::::\n\n\n\nrole:r::\n\n"
	if got := string(c.Render()); got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}
