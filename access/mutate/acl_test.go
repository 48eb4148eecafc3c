package mutate

import (
	"testing"

	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// privsOf returns caller privileges: every privilege of the roles, with flag.
func privsOf(flag bool, roles ...string) map[string]bool {
	m := map[string]bool{}
	for _, r := range roles {
		for _, p := range privs.BuiltinRoles[r] {
			m[p] = flag
		}
	}
	return m
}

func TestUpdateACL(t *testing.T) {
	admin := func(r ACLUpdate) ACLUpdate { r.CallerHasPermModify = true; return r }
	const superset = "ACL update failed: 400 Parameter verification failed.\nrole: Cannot %s role '%s' - requires 'Permissions.Modify' or superset of privileges.\n"
	tests := []struct {
		name  string
		req   ACLUpdate
		err   *wantErr
		check func(t *testing.T, c *usercfg.Config)
	}{
		{"add user, group and token", admin(ACLUpdate{Path: "//vms//200/", Roles: []string{"PVEVMUser", "Custom"},
			Users: []string{"bob@pve"}, Groups: []string{"admins"}, Tokens: []string{"alice@pve!mon"}}), nil,
			func(t *testing.T, c *usercfg.Config) {
				for _, x := range [][3]string{{"u", "bob@pve"}, {"g", "admins"}, {"t", "alice@pve!mon"}} {
					for _, r := range []string{"PVEVMUser", "Custom"} {
						if ok, p := hasACL(c, "/vms/200", x[0], x[1], r); !ok || !p {
							t.Errorf("%s %s %s missing or not propagating", x[1], r, "/vms/200")
						}
					}
				}
			}},
		{"add without propagation merges", admin(ACLUpdate{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}, Propagate: ptr(false)}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if ok, p := hasACL(c, "/vms/100", "u", "bob@pve", "PVEAuditor"); !ok || p {
					t.Error("PVEAuditor not added with propagate 0")
				}
				if ok, _ := hasACL(c, "/vms/100", "u", "bob@pve", "Custom"); !ok {
					t.Error("existing role lost")
				}
			}},
		{"re-add changes the flag", admin(ACLUpdate{Path: "/vms/100", Roles: []string{"Custom"}, Users: []string{"bob@pve"}}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if _, p := hasACL(c, "/vms/100", "u", "bob@pve", "Custom"); !p {
					t.Error("flag not changed to 1")
				}
			}},
		{"delete prunes nodes", admin(ACLUpdate{Path: "/storage/local", Roles: []string{"PVEDatastoreUser"}, Users: []string{"alice@pve"}, Delete: true}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if c.Find("/storage") != nil {
					t.Error("empty /storage remains")
				}
			}},
		{"delete one of two roles", admin(ACLUpdate{Path: "/vms/100", Roles: []string{"PVEAuditor"}, Tokens: []string{"alice@pve!ci"}, Delete: true}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if n := c.Find("/vms/100"); n == nil || n.Tokens != nil || n.Users["bob@pve"] == nil {
					t.Errorf("node = %+v", n)
				}
			}},
		{"delete absent entry", admin(ACLUpdate{Path: "/nope/x", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, Delete: true}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if c.Find("/nope") != nil {
					t.Error("node created by a delete")
				}
			}},
		{"root@pam is not stored", admin(ACLUpdate{Path: "/", Roles: []string{"PVEAuditor"}, Users: []string{"root@pam"}}), nil,
			func(t *testing.T, c *usercfg.Config) {
				if c.ACL.Users != nil {
					t.Error("root@pam entry stored")
				}
			}},
		{"ghost user in group list ok", admin(ACLUpdate{Path: "/", Roles: []string{"NoAccess"}, Groups: []string{"ops"}}), nil, nil},
		{"no members", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}}), eParam(
			"users", "either 'users', 'groups' or 'tokens' is required.",
			"groups", "either 'users', 'groups' or 'tokens' is required.",
			"tokens", "either 'users', 'groups' or 'tokens' is required."), nil},
		{"no roles", admin(ACLUpdate{Path: "/", Users: []string{"bob@pve"}}), eParam("roles", "property is missing and it is not optional"), nil},
		{"invalid path", admin(ACLUpdate{Path: "/vms/x y", Roles: []string{"Custom"}, Users: []string{"bob@pve"}}), eParam("path", "invalid ACL path '/vms/x y'"), nil},
		{"path not on whitelist", admin(ACLUpdate{Path: "/vms/12", Roles: []string{"Custom"}, Users: []string{"bob@pve"}}), eParam("path", "invalid ACL path '/vms/12'"), nil},
		{"whitelist not needed to delete", admin(ACLUpdate{Path: "/vms/12", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, Delete: true}), nil, nil},
		{"role missing", admin(ACLUpdate{Path: "/", Roles: []string{"Nope"}, Users: []string{"bob@pve"}}), e500c(cfs.CodeNotFound, "ACL update failed: role 'Nope' does not exist\n"), nil},
		{"group missing", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Groups: []string{"nope"}}), e500c(cfs.CodeNotFound, "ACL update failed: group 'nope' does not exist\n"), nil},
		{"user missing", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Users: []string{"ghost@pve"}}), e500c(cfs.CodeNotFound, "ACL update failed: user 'ghost@pve' does not exist\n"), nil},
		{"user invalid", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Users: []string{"ghost"}}), e500("ACL update failed: value 'ghost' does not look like a valid user name\n"), nil},
		{"token invalid", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Tokens: []string{"bob@pve"}}), e500("ACL update failed: 'bob@pve' is not a valid token ID - not able to split into user and token parts\n"), nil},
		{"token user missing", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Tokens: []string{"x@pve!tt"}}), e500c(cfs.CodeNotFound, "ACL update failed: no such user ('x@pve')\n"), nil},
		{"token missing", admin(ACLUpdate{Path: "/", Roles: []string{"Custom"}, Tokens: []string{"bob@pve!nope"}}), e500c(cfs.CodeNotFound, "ACL update failed: no such token 'nope' for user 'bob@pve'\n"), nil},
		{"second role fails, nothing applied", admin(ACLUpdate{Path: "/vms/300", Roles: []string{"Custom", "Nope"}, Users: []string{"bob@pve"}}), e500c(cfs.CodeNotFound, "ACL update failed: role 'Nope' does not exist\n"), nil},

		{"superset ok", ACLUpdate{Path: "/vms/300", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, CallerPrivs: privsOf(true, "PVEVMAdmin")}, nil, nil},
		{"superset ok without propagation", ACLUpdate{Path: "/vms/300", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, Propagate: ptr(false), CallerPrivs: privsOf(false, "PVEVMAdmin")}, nil, nil},
		{"superset missing priv", ACLUpdate{Path: "/vms/300", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, CallerPrivs: privsOf(true, "PVEAuditor")},
			e500(sprintf(superset, "add", "Custom")), nil},
		{"superset not propagated", ACLUpdate{Path: "/vms/300", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, CallerPrivs: privsOf(false, "PVEVMAdmin")},
			e500("ACL update failed: 400 Parameter verification failed.\nrole: Cannot add role 'Custom' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.\n"), nil},
		{"superset remove", ACLUpdate{Path: "/vms/100", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, Delete: true, CallerPrivs: privsOf(true, "PVEAuditor")},
			e500(sprintf(superset, "remove", "Custom")), nil},
		{"superset remove needs no propagation", ACLUpdate{Path: "/vms/100", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, Delete: true, CallerPrivs: privsOf(false, "PVEVMAdmin")}, nil, nil},
		{"NoAccess needs Permissions.Modify", ACLUpdate{Path: "/vms/300", Roles: []string{"NoAccess"}, Users: []string{"bob@pve"}, CallerPrivs: privsOf(true, "PVEAdmin")},
			e500("ACL update failed: 400 Parameter verification failed.\nrole: Cannot add role 'NoAccess' - requires 'Permissions.Modify'\n"), nil},
		{"Permissions.Modify in caller privs", ACLUpdate{Path: "/vms/300", Roles: []string{"NoAccess", "Administrator"}, Users: []string{"bob@pve"}, CallerPrivs: map[string]bool{"Permissions.Modify": false}}, nil, nil},
		{"no caller privs", ACLUpdate{Path: "/vms/300", Roles: []string{"PVEAuditor"}, Users: []string{"bob@pve"}}, e500(sprintf(superset, "add", "PVEAuditor")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := runCfg(t, mustParse(t, baseUserCfg), tt.err, func(c *usercfg.Config) (*usercfg.Config, error) { return UpdateACL(c, tt.req) })
			if tt.err == nil && tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestACLSharesUntouchedSubtrees(t *testing.T) {
	old := mustParse(t, baseUserCfg)
	n, err := UpdateACL(old, ACLUpdate{Path: "/vms/300", Roles: []string{"Custom"}, Users: []string{"bob@pve"}, CallerHasPermModify: true})
	if err != nil {
		t.Fatal(err)
	}
	if n.ACL == old.ACL || n.ACL.Child("vms") == old.ACL.Child("vms") {
		t.Fatal("path nodes not copied")
	}
	if n.ACL.Child("nodes") != old.ACL.Child("nodes") || n.ACL.Child("vms").Child("100") != old.ACL.Child("vms").Child("100") {
		t.Error("untouched subtree copied")
	}
	// Equal pmap values are the same tree.
	if n.Users != old.Users || n.Groups != old.Groups || n.Roles != old.Roles {
		t.Error("top-level maps copied by an ACL change")
	}
}
