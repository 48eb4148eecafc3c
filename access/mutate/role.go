package mutate

import (
	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// RoleCreate is POST /access/roles.
type RoleCreate struct {
	// Roleid is the new role; it must not start with "PVE" (any case).
	Roleid string `json:"roleid"`
	// Privs lists the role's privileges.
	Privs []string `json:"privs,omitempty"`
}

// RoleUpdate is PUT /access/roles/{roleid}.
type RoleUpdate struct {
	// Roleid is the role to change; built-in roles are refused.
	Roleid string `json:"roleid"`
	// Privs lists privileges to set (or, with Append, to add). Without
	// Append the role's privileges are replaced, by none if Privs is nil.
	Privs *[]string `json:"privs,omitempty"`
	// Append adds Privs to the role; it requires Privs.
	Append bool `json:"append,omitempty"`
}

// RoleDelete is DELETE /access/roles/{roleid}.
type RoleDelete struct {
	// Roleid is the role to delete; built-in roles are refused.
	Roleid string `json:"roleid"`
}

// addPrivs is add_role_privs: every name must be a valid privilege.
func addPrivs(set usercfg.Set, list []string) error {
	for _, p := range list {
		if !privs.IsValid(p) {
			return die("", "invalid privilege '%s'", p)
		}
		set[p] = struct{}{}
	}
	return nil
}

// CreateRole adds a role. A name starting with "PVE" is a parameter error;
// other errors carry "create role failed: ...".
func CreateRole(cfg *usercfg.Config, r RoleCreate) (*usercfg.Config, error) {
	if err := checkRoleid("roleid", r.Roleid); err != nil {
		return cfg, err
	}
	if ident.IsReservedRoleID(r.Roleid) {
		return cfg, paramErr("roleid", ident.ErrReservedRoleID.Error())
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	fail := func(err error) (*usercfg.Config, error) { return cfg, locked("create role failed", err) }
	if cfg.Role(r.Roleid) != nil {
		return fail(die(cfs.CodeExists, "role '%s' already exists", r.Roleid))
	}
	role := &usercfg.Role{Privs: usercfg.Set{}}
	if err := addPrivs(role.Privs, r.Privs); err != nil {
		return fail(err)
	}
	e := newEdit(cfg)
	e.putRole(r.Roleid, role)
	return e.result(), nil
}

// UpdateRole replaces or extends a role's privileges. Built-in roles give
// "auto-generated role 'X' cannot be modified"; other errors carry
// "update role failed: ...".
func UpdateRole(cfg *usercfg.Config, r RoleUpdate) (*usercfg.Config, error) {
	if err := checkRoleid("roleid", r.Roleid); err != nil {
		return cfg, err
	}
	if r.Append && r.Privs == nil {
		return cfg, paramErr("privs", "missing property - 'append' requires this property")
	}
	if privs.IsBuiltin(r.Roleid) {
		return cfg, die("", "auto-generated role '%s' cannot be modified", r.Roleid)
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	fail := func(err error) (*usercfg.Config, error) { return cfg, locked("update role failed", err) }
	old := cfg.Role(r.Roleid)
	if old == nil {
		return fail(die(cfs.CodeNotFound, "role '%s' does not exist", r.Roleid))
	}
	role := &usercfg.Role{Privs: usercfg.Set{}}
	if r.Append {
		role = old.Clone()
		if role.Privs == nil {
			role.Privs = usercfg.Set{}
		}
	}
	if r.Privs != nil {
		if err := addPrivs(role.Privs, *r.Privs); err != nil {
			return fail(err)
		}
	}
	e := newEdit(cfg)
	e.putRole(r.Roleid, role)
	return e.result(), nil
}

// DeleteRole removes a role and the role from every ACL entry (upstream the
// entries stay in memory and are dropped by the next read of the file).
// Built-in roles give "auto-generated role 'X' cannot be deleted"; other
// errors carry "delete role failed: ...".
func DeleteRole(cfg *usercfg.Config, r RoleDelete) (*usercfg.Config, error) {
	if err := checkRoleid("roleid", r.Roleid); err != nil {
		return cfg, err
	}
	if privs.IsBuiltin(r.Roleid) {
		return cfg, die("", "auto-generated role '%s' cannot be deleted", r.Roleid)
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	if cfg.Role(r.Roleid) == nil {
		return cfg, locked("delete role failed", die(cfs.CodeNotFound, "role '%s' does not exist", r.Roleid))
	}
	e := newEdit(cfg)
	e.deleteRole(r.Roleid)
	e.purge(aclFilter{role: r.Roleid})
	return e.result(), nil
}
