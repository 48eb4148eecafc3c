package mutate

import (
	"fmt"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// ACLUpdate is PUT /access/acl: add (or with Delete, remove) each role for
// each listed user, group and token at a path.
//
// The superset rule needs the caller's permissions, which the FSM cannot
// compute (it has no authentication context, and the full engine would make
// the cost grow with user.cfg). The REST layer computes them on its local
// copy before the log and puts them into the command; the rule itself is
// evaluated here, against the command's data and the current roles.
type ACLUpdate struct {
	// Path is the ACL path as given (normalised here).
	Path string `json:"path"`
	// Roles lists the roles to add or remove.
	Roles []string `json:"roles"`
	// Users lists user ids.
	Users []string `json:"users,omitempty"`
	// Groups lists group ids (without '@').
	Groups []string `json:"groups,omitempty"`
	// Tokens lists full token ids ("user@realm!token").
	Tokens []string `json:"tokens,omitempty"`
	// Propagate is the propagate flag of added entries (default true).
	Propagate *bool `json:"propagate,omitempty"`
	// Delete removes the roles instead of adding them.
	Delete bool `json:"delete,omitempty"`
	// CallerPrivs are the caller's privileges on the normalised path, each
	// with its propagate flag, as the permission engine computes them.
	CallerPrivs map[string]bool `json:"caller-privs,omitempty"`
	// CallerHasPermModify says the caller holds Permissions.Modify on the
	// path (root@pam, the CLI); CallerPrivs is not consulted then.
	CallerHasPermModify bool `json:"caller-perm-modify,omitempty"`
}

// UpdateACL applies PUT /access/acl. Parameter errors (no member list, an
// invalid path) are 400; everything checked against the configuration
// carries "ACL update failed: ..." (500), including the superset rule,
// which Proxmox raises as a parameter error inside the lock and so reports
// as "ACL update failed: 400 Parameter verification failed.\nrole: ...".
// Entries of root@pam are not stored (the writer never writes them).
func UpdateACL(cfg *usercfg.Config, r ACLUpdate) (*usercfg.Config, error) {
	if len(r.Users) == 0 && len(r.Groups) == 0 && len(r.Tokens) == 0 {
		const msg = "either 'users', 'groups' or 'tokens' is required."
		return cfg, &ParamError{Errors: map[string]string{"users": msg, "groups": msg, "tokens": msg}}
	}
	if len(r.Roles) == 0 {
		return cfg, paramErr("roles", "property is missing and it is not optional")
	}
	path, ok := ident.NormalizePath(r.Path)
	if !ok || (!r.Delete && !ident.CheckPath(path)) {
		return cfg, paramErr("path", fmt.Sprintf("invalid ACL path '%s'", r.Path))
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	fail := func(err error) (*usercfg.Config, error) { return cfg, locked("ACL update failed", err) }
	propagate := r.Propagate == nil || *r.Propagate
	permModify := r.CallerHasPermModify
	if _, ok := r.CallerPrivs["Permissions.Modify"]; ok {
		permModify = true
	}
	verb := "add"
	if r.Delete {
		verb = "remove"
	}

	e := newEdit(cfg)
	chain, comps := e.aclChain(path)
	a := aclApply{node: chain[len(chain)-1], propagate: propagate, delete: r.Delete, owned: map[string]bool{}}
	for _, role := range r.Roles {
		rdef := cfg.Role(role)
		if rdef == nil {
			return fail(die(cfs.CodeNotFound, "role '%s' does not exist", role))
		}
		if !permModify {
			if err := checkSuperset(role, rdef, verb, propagate && !r.Delete, r.CallerPrivs); err != nil {
				return fail(err)
			}
		}
		for _, g := range r.Groups {
			if cfg.Group(g) == nil {
				return fail(die(cfs.CodeNotFound, "group '%s' does not exist", g))
			}
			a.set(&a.node.Groups, "g", g, role)
		}
		for _, u := range r.Users {
			if err := ident.VerifyUsername(u); err != nil {
				return fail(err)
			}
			if cfg.User(u) == nil {
				return fail(die(cfs.CodeNotFound, "user '%s' does not exist", u))
			}
			if u != "root@pam" {
				a.set(&a.node.Users, "u", u, role)
			}
		}
		for _, t := range r.Tokens {
			user, sub, err := ident.SplitTokenID(t)
			if err != nil {
				return fail(err)
			}
			if err := tokenExists(cfg, string(user), string(sub)); err != nil {
				return fail(err)
			}
			a.set(&a.node.Tokens, "t", t, role)
		}
	}
	pruneChain(chain, comps)
	return e.result(), nil
}

// checkSuperset is the rule for callers without Permissions.Modify: every
// privilege of the role must be theirs (and propagating, when adding with
// propagation); NoAccess always needs Permissions.Modify. Privileges are
// checked in byte order, so the reported error is deterministic.
func checkSuperset(role string, rdef *usercfg.Role, verb string, needPropagate bool, caller map[string]bool) error {
	for _, p := range rdef.Privs.Sorted() {
		flag, ok := caller[p]
		if !ok {
			return paramErr("role", fmt.Sprintf("Cannot %s role '%s' - requires 'Permissions.Modify' or superset of privileges.", verb, role))
		}
		if needPropagate && !flag {
			return paramErr("role", fmt.Sprintf("Cannot %s role '%s' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.", verb, role))
		}
	}
	if role == "NoAccess" {
		return paramErr("role", fmt.Sprintf("Cannot %s role '%s' - requires 'Permissions.Modify'", verb, role))
	}
	return nil
}

// tokenExists is check_token_exist.
func tokenExists(cfg *usercfg.Config, userid, sub string) error {
	u := cfg.User(userid)
	if u == nil {
		return die(cfs.CodeNotFound, "no such user ('%s')", userid)
	}
	if u.Token(sub) == nil {
		return die(cfs.CodeNotFound, "no such token '%s' for user '%s'", sub, userid)
	}
	return nil
}

// aclApply changes the member entries of one (owned) ACL node, copying each
// member's role map the first time it is touched.
type aclApply struct {
	node      *usercfg.ACLNode
	propagate bool
	delete    bool
	owned     map[string]bool // kind + member -> role map owned by this change
}

func (a *aclApply) set(m *map[string]usercfg.RoleMap, kind, member, role string) {
	key := kind + "\x00" + member
	rm := (*m)[member]
	if a.delete {
		if _, ok := rm[role]; !ok {
			return
		}
	}
	if !a.owned[key] {
		rm = rm.Clone()
		if rm == nil {
			rm = usercfg.RoleMap{}
		}
		if *m == nil {
			*m = map[string]usercfg.RoleMap{}
		}
		(*m)[member] = rm
		a.owned[key] = true
	}
	if !a.delete {
		rm[role] = a.propagate
		return
	}
	delete(rm, role)
	if len(rm) == 0 {
		delete(*m, member)
		delete(a.owned, key)
	}
}
