package mutate

import (
	"reflect"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

func TestGroups(t *testing.T) {
	tests := []struct {
		name  string
		fn    func(*usercfg.Config) (*usercfg.Config, error)
		err   *wantErr
		check func(t *testing.T, c *usercfg.Config)
	}{
		{"create", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateGroup(c, GroupCreate{Groupid: "new", Comment: " hi: 100% "})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			g := c.Group("new")
			if g == nil || g.Comment != "hi: 100%" || len(g.Users) != 0 {
				t.Fatalf("group = %+v", g)
			}
		}},
		{"create exists", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateGroup(c, GroupCreate{Groupid: "ops"})
		}, e500c(cfs.CodeExists, "create group failed: group 'ops' already exists\n"), nil},
		{"create invalid", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateGroup(c, GroupCreate{Groupid: "a/b"})
		}, eParam("groupid", "invalid format - group name 'a/b' contains invalid characters\n"), nil},
		{"create zero", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateGroup(c, GroupCreate{Groupid: "0"})
		}, eParam("groupid", "invalid format - group name '0' contains invalid characters\n"), nil},
		{"update comment", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateGroup(c, GroupUpdate{Groupid: "ops", Comment: ptr("new")})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if c.Group("ops").Comment != "new" || !c.Group("ops").Users.Has("bob@pve") {
				t.Fatalf("group = %+v", c.Group("ops"))
			}
		}},
		{"update clear comment", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateGroup(c, GroupUpdate{Groupid: "ops", Comment: ptr("")})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if c.Group("ops").Comment != "" {
				t.Fatal("comment kept")
			}
		}},
		{"update missing", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateGroup(c, GroupUpdate{Groupid: "nope", Comment: ptr("x")})
		}, e500c(cfs.CodeNotFound, "update group failed: group 'nope' does not exist\n"), nil},
		{"delete", func(c *usercfg.Config) (*usercfg.Config, error) {
			return DeleteGroup(c, GroupDelete{Groupid: "ops"})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if c.Group("ops") != nil {
				t.Fatal("group remains")
			}
			if got := c.User("alice@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"admins"}) {
				t.Errorf("alice groups = %v", got)
			}
			if c.User("bob@pve").Groups != nil {
				t.Errorf("bob groups = %v", c.User("bob@pve").Groups)
			}
			if c.MemberOf.Has("ghost@pve") {
				t.Errorf("stale member ghost@pve still listed: %v", c.MemberOf.Value("ghost@pve"))
			}
			if ok, _ := hasACL(c, "/vms", "g", "ops", "PVEVMUser"); ok {
				t.Error("group ACL remains")
			}
			if n := c.Find("/vms"); n == nil || n.Child("100") == nil {
				t.Error("/vms/100 lost")
			}
		}},
		{"delete missing", func(c *usercfg.Config) (*usercfg.Config, error) {
			return DeleteGroup(c, GroupDelete{Groupid: "nope"})
		}, e500c(cfs.CodeNotFound, "delete group failed: group 'nope' does not exist\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := runCfg(t, mustParse(t, baseUserCfg), tt.err, tt.fn)
			if tt.err == nil && tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		name  string
		fn    func(*usercfg.Config) (*usercfg.Config, error)
		err   *wantErr
		check func(t *testing.T, c *usercfg.Config)
	}{
		{"create", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "Ops", Privs: []string{"VM.Audit", "Sys.Audit", "VM.Audit"}})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if got := c.Role("Ops").Privs.Sorted(); !reflect.DeepEqual(got, []string{"Sys.Audit", "VM.Audit"}) {
				t.Errorf("privs = %v", got)
			}
		}},
		{"create empty", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "Empty"})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if r := c.Role("Empty"); r == nil || len(r.Privs) != 0 {
				t.Errorf("role = %+v", r)
			}
		}},
		{"create PVE prefix", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "pveMine"})
		}, eParam("roleid", "cannot use role ID starting with the (case-insensitive) 'PVE' namespace"), nil},
		{"create exists", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "Custom"})
		}, e500c(cfs.CodeExists, "create role failed: role 'Custom' already exists\n"), nil},
		{"create built-in", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "Administrator"})
		}, e500c(cfs.CodeExists, "create role failed: role 'Administrator' already exists\n"), nil},
		{"create invalid priv", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "X", Privs: []string{"VM.Audit", "VM.Fly"}})
		}, e500("create role failed: invalid privilege 'VM.Fly'\n"), nil},
		{"create invalid name", func(c *usercfg.Config) (*usercfg.Config, error) {
			return CreateRole(c, RoleCreate{Roleid: "a b"})
		}, eParam("roleid", "invalid format - role name 'a b' contains invalid characters\n"), nil},
		{"update replace", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Custom", Privs: &[]string{"Sys.Audit"}})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if got := c.Role("Custom").Privs.Sorted(); !reflect.DeepEqual(got, []string{"Sys.Audit"}) {
				t.Errorf("privs = %v", got)
			}
		}},
		{"update append", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Custom", Privs: &[]string{"Sys.Audit"}, Append: true})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if got := c.Role("Custom").Privs.Sorted(); !reflect.DeepEqual(got, []string{"Sys.Audit", "VM.Audit", "VM.Console"}) {
				t.Errorf("privs = %v", got)
			}
		}},
		{"update without privs empties", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Custom"})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if len(c.Role("Custom").Privs) != 0 {
				t.Errorf("privs = %v", c.Role("Custom").Privs)
			}
			if ok, _ := hasACL(c, "/vms/100", "u", "bob@pve", "Custom"); !ok {
				t.Error("ACL of the emptied role lost")
			}
		}},
		{"update append without privs", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Custom", Append: true})
		}, eParam("privs", "missing property - 'append' requires this property"), nil},
		{"update built-in", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "PVEAdmin", Privs: &[]string{"Sys.Audit"}})
		}, e500("auto-generated role 'PVEAdmin' cannot be modified\n"), nil},
		{"update missing", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Nope"})
		}, e500c(cfs.CodeNotFound, "update role failed: role 'Nope' does not exist\n"), nil},
		{"update invalid priv", func(c *usercfg.Config) (*usercfg.Config, error) {
			return UpdateRole(c, RoleUpdate{Roleid: "Custom", Privs: &[]string{"Nope"}, Append: true})
		}, e500("update role failed: invalid privilege 'Nope'\n"), nil},
		{"delete", func(c *usercfg.Config) (*usercfg.Config, error) {
			return DeleteRole(c, RoleDelete{Roleid: "Custom"})
		}, nil, func(t *testing.T, c *usercfg.Config) {
			if c.Role("Custom") != nil {
				t.Fatal("role remains")
			}
			if c.Find("/pool") != nil || c.Find("/nodes/n1") != nil {
				t.Error("ACL nodes holding only the role remain")
			}
			if ok, _ := hasACL(c, "/vms/100", "t", "alice@pve!ci", "PVEAuditor"); !ok {
				t.Error("other ACL lost")
			}
			if n := c.Find("/vms/100"); n == nil || n.Users != nil {
				t.Error("bob's entry at /vms/100 remains")
			}
		}},
		{"delete built-in", func(c *usercfg.Config) (*usercfg.Config, error) {
			return DeleteRole(c, RoleDelete{Roleid: "NoAccess"})
		}, e500("auto-generated role 'NoAccess' cannot be deleted\n"), nil},
		{"delete missing", func(c *usercfg.Config) (*usercfg.Config, error) {
			return DeleteRole(c, RoleDelete{Roleid: "Nope"})
		}, e500c(cfs.CodeNotFound, "delete role failed: role 'Nope' does not exist\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := runCfg(t, mustParse(t, baseUserCfg), tt.err, tt.fn)
			if tt.err == nil && tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestDeleteRoleKeepsOtherRoles(t *testing.T) {
	c, err := UpdateACL(mustParse(t, baseUserCfg), ACLUpdate{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}, CallerHasPermModify: true})
	if err != nil {
		t.Fatal(err)
	}
	n := runCfg(t, c, nil, func(c *usercfg.Config) (*usercfg.Config, error) { return DeleteRole(c, RoleDelete{Roleid: "Custom"}) })
	if ok, _ := hasACL(n, "/vms/100", "u", "bob@pve", "PVEAuditor"); !ok {
		t.Error("other role of the member lost")
	}
	if ok, _ := hasACL(n, "/vms/100", "u", "bob@pve", "Custom"); ok {
		t.Error("deleted role remains")
	}
	if ok, _ := hasACL(c, "/vms/100", "u", "bob@pve", "Custom"); !ok {
		t.Error("input changed")
	}
}
