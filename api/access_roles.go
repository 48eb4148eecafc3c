package api

import (
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/privs"
)

// /access/roles (API2/Role.pm).

// roleListEntry is one element of GET /access/roles.
type roleListEntry struct {
	Roleid  string `json:"roleid"`
	Privs   string `json:"privs"` // sorted comma list
	Special int    `json:"special"`
}

func (s *AccessState) roleEndpoints() []Endpoint {
	modify := &perm.Decl{Check: perm.Perm("/access", []string{"Sys.Modify"})}
	pPrivs := Param{Name: "privs", Optional: true, Format: accListOf(fmtPriv), List: true}
	// Proxmox checks these before taking the lock (400 and plain 500).
	preCreate := func(r *Request) error {
		if ident.IsReservedRoleID(r.Params.Get("roleid")) {
			return ParamErr("roleid", ident.ErrReservedRoleID.Error())
		}
		return nil
	}
	preUpdate := func(r *Request) error {
		if err := accRequires(r, "append", "privs"); err != nil {
			return err
		}
		if id := r.Params.Get("roleid"); privs.IsBuiltin(id) {
			return accDie("auto-generated role '%s' cannot be modified", id)
		}
		return nil
	}
	preDelete := func(r *Request) error {
		if id := r.Params.Get("roleid"); privs.IsBuiltin(id) {
			return accDie("auto-generated role '%s' cannot be deleted", id)
		}
		return nil
	}
	privList := func(r *Request) []string {
		l := ident.SplitList(r.Params.Get("privs"))
		if l == nil {
			l = []string{}
		}
		return l
	}
	return []Endpoint{
		{Method: "GET", Path: "/access/roles", Check: s.check(declAll, nil),
			Description: "List roles with their privileges (comma list), built-in ones with special 1.",
			Handler:     s.listRoles},
		{Method: "POST", Path: "/access/roles", Check: s.check(modify, preCreate), Params: []Param{pRoleid, pPrivs},
			Description: "Create a role (Sys.Modify on /access); names starting with PVE are refused.",
			Handler: func(r *Request) (any, error) {
				if err := preCreate(r); err != nil {
					return nil, err
				}
				body := mutate.RoleCreate{Roleid: r.Params.Get("roleid"), Privs: ident.SplitList(r.Params.Get("privs"))}
				_, err := s.apply(r, accMutation{op: mutate.OpRoleCreate, body: body, locks: []string{LockUserCfg}, prefix: "create role failed"})
				return nil, err
			}},
		{Method: "GET", Path: "/access/roles/{roleid}", Check: s.check(declAll, nil), Params: []Param{pRoleid},
			Description: "Read a role: {privilege: 1}.",
			Handler:     s.readRole},
		{Method: "PUT", Path: "/access/roles/{roleid}", Check: s.check(modify, preUpdate),
			Params:      []Param{pRoleid, pPrivs, {Name: "append", Type: TBoolean, Optional: true}},
			Description: "Replace (or with append, extend) a role's privileges (Sys.Modify on /access); built-in roles are refused.",
			Handler: func(r *Request) (any, error) {
				if err := preUpdate(r); err != nil {
					return nil, err
				}
				body := mutate.RoleUpdate{Roleid: r.Params.Get("roleid"), Append: r.Params.Bool("append", false)}
				if r.Params.Has("privs") {
					l := privList(r)
					body.Privs = &l
				}
				_, err := s.apply(r, accMutation{op: mutate.OpRoleUpdate, body: body, locks: []string{LockUserCfg}, prefix: "update role failed"})
				return nil, err
			}},
		{Method: "DELETE", Path: "/access/roles/{roleid}", Check: s.check(modify, preDelete), Params: []Param{pRoleid},
			Description: "Delete a role and its ACL entries (Sys.Modify on /access); built-in roles are refused.",
			Handler: func(r *Request) (any, error) {
				if err := preDelete(r); err != nil {
					return nil, err
				}
				body := mutate.RoleDelete{Roleid: r.Params.Get("roleid")}
				_, err := s.apply(r, accMutation{op: mutate.OpRoleDelete, body: body, locks: []string{LockUserCfg}, prefix: "delete role failed"})
				return nil, err
			}},
	}
}

// listRoles is GET /access/roles.
func (s *AccessState) listRoles(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, cfg.Roles.Len())
	for id := range cfg.Roles.Keys() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]roleListEntry, 0, len(ids))
	for _, id := range ids {
		out = append(out, roleListEntry{Roleid: id, Privs: strings.Join(cfg.Role(id).Privs.Sorted(), ","),
			Special: accBool01(privs.IsBuiltin(id))})
	}
	return out, nil
}

// readRole is GET /access/roles/{roleid}.
func (s *AccessState) readRole(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	id := r.Params.Get("roleid")
	role := cfg.Role(id)
	if role == nil {
		return nil, accDie("role '%s' does not exist", id)
	}
	out := make(map[string]int, len(role.Privs))
	for p := range role.Privs {
		out[p] = 1
	}
	return out, nil
}
