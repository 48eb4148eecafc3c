package api

import (
	"fmt"
	"sort"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/usercfg"
)

// /access/acl (API2/ACL.pm).

// aclEntry is one element of GET /access/acl.
type aclEntry struct {
	Path      string `json:"path"`
	Type      string `json:"type"` // user, group or token
	Ugid      string `json:"ugid"` // a group without '@'
	Roleid    string `json:"roleid"`
	Propagate int    `json:"propagate"`
}

// accTruthy is Perl truthiness of a parameter value.
func accTruthy(v string) bool { return v != "" && v != "0" }

// preACL is update_acl's parameter checks: a member list is required, and
// the path must normalise and, when adding, be on the ACL path whitelist.
func preACL(r *Request) error {
	p := r.Params
	if !accTruthy(p.Get("users")) && !accTruthy(p.Get("groups")) && !accTruthy(p.Get("tokens")) {
		const msg = "either 'users', 'groups' or 'tokens' is required."
		return ParamError(map[string]string{"users": msg, "groups": msg, "tokens": msg})
	}
	path, ok := ident.NormalizePath(p.Get("path"))
	if !ok || (!p.Bool("delete", false) && !ident.CheckPath(path)) {
		return ParamErr("path", fmt.Sprintf("invalid ACL path '%s'", p.Get("path")))
	}
	return nil
}

func (s *AccessState) aclEndpoints() []Endpoint {
	modify := &perm.Decl{Check: perm.PermModify("{path}")}
	return []Endpoint{
		{Method: "GET", Path: "/access/acl", Check: s.check(declAll, nil),
			Description: "List ACL entries of the paths where you have Sys.Audit on /access or may modify permissions.",
			Handler:     s.listACL},
		{Method: "PUT", Path: "/access/acl", Check: s.check(modify, preACL),
			Params: []Param{{Name: "path"}, {Name: "roles", Format: accListOf(fmtRoleid), List: true},
				{Name: "users", Optional: true, Format: accListOf(fmtUserid), List: true},
				{Name: "groups", Optional: true, Format: accListOf(fmtGroupid), List: true},
				{Name: "tokens", Optional: true, Format: accListOf(fmtTokenid), List: true},
				{Name: "propagate", Type: TBoolean, Optional: true}, {Name: "delete", Type: TBoolean, Optional: true}},
			Description: "Add (or with delete, remove) roles for users, groups and tokens on a path (perm-modify on path; without Permissions.Modify only a superset of your own privileges).",
			Handler:     s.updateACL},
	}
}

// listACL is GET /access/acl.
func (s *AccessState) listACL(r *Request) (any, error) {
	cfg, eng, err := s.read(r)
	if err != nil {
		return nil, err
	}
	me := accAuthid(r)
	audit := r.Auth.Root() || eng.Check(me, "/access", []string{"Sys.Audit"}, false)
	out := []aclEntry{}
	cfg.ACL.Walk(func(path string, n *usercfg.ACLNode) {
		if !audit && eng.CheckPermModify(me, path) != nil {
			return
		}
		for _, kind := range []struct {
			typ string
			m   map[string]usercfg.RoleMap
		}{{"user", n.Users}, {"group", n.Groups}, {"token", n.Tokens}} {
			members := make([]string, 0, len(kind.m))
			for id := range kind.m {
				members = append(members, id)
			}
			sort.Strings(members)
			for _, id := range members {
				rm := kind.m[id]
				roles := make([]string, 0, len(rm))
				for role := range rm {
					roles = append(roles, role)
				}
				sort.Strings(roles)
				for _, role := range roles {
					out = append(out, aclEntry{Path: path, Type: kind.typ, Ugid: id, Roleid: role, Propagate: accBool01(rm[role])})
				}
			}
		}
	})
	return out, nil
}

// updateACL is PUT /access/acl. The caller's privileges on the path (for
// the superset rule) are computed here on the local copy and carried by the
// command, which evaluates the rule against the roles as they are then.
func (s *AccessState) updateACL(r *Request) (any, error) {
	if err := preACL(r); err != nil {
		return nil, err
	}
	p := r.Params
	path, _ := ident.NormalizePath(p.Get("path"))
	_, eng, err := s.UserConfig()
	if err != nil {
		return nil, err
	}
	body := mutate.ACLUpdate{Path: p.Get("path"), Roles: ident.SplitList(p.Get("roles")),
		Users: ident.SplitList(p.Get("users")), Groups: ident.SplitList(p.Get("groups")),
		Tokens: ident.SplitList(p.Get("tokens")), Propagate: accOptBool(p, "propagate"), Delete: p.Bool("delete", false),
		CallerHasPermModify: r.Auth.Root()}
	if !body.CallerHasPermModify {
		body.CallerPrivs = eng.Permissions(accAuthid(r), path)
		if body.CallerPrivs == nil {
			body.CallerPrivs = map[string]bool{}
		}
	}
	_, err = s.apply(r, accMutation{op: mutate.OpACLUpdate, body: body, locks: []string{LockUserCfg}, prefix: "ACL update failed"})
	return nil, err
}
