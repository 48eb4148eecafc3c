package perm

import (
	"sort"
	"strings"
	"sync"
)

// Names with a fixed meaning in Proxmox's permission system.
const (
	// RootUser is the superuser: every privilege everywhere, every API check passes.
	RootUser = "root@pam"
	// RoleAdministrator is the built-in role holding every privilege.
	RoleAdministrator = "Administrator"
	// RoleNoAccess is the built-in empty role that masks every other role at its level.
	RoleNoAccess = "NoAccess"
)

// roleRef is one role of an ACL entry with its propagate flag.
type roleRef struct {
	role int32
	prop bool
}

// entry holds the roles one subject (user, token or group) has on one ACL node.
type entry struct {
	all  []roleRef // every role: what applies when the node is the checked path itself
	prop []roleRef // the propagating roles only: what applies to descendants
}

func (en *entry) pick(final bool) []roleRef {
	if final {
		return en.all
	}
	return en.prop
}

// node is one component of the compiled ACL tree.
type node struct {
	path     string // normalized path of this node, "/" for the root
	children map[string]*node
	users    map[int32]*entry // by user subject id
	tokens   map[int32]*entry // by token subject id
	groups   map[int32]*entry // by group id
	groupIDs []int32          // keys of groups, sorted
}

// subject is an interned user or API token.
type subject struct {
	name    string
	token   bool
	root    bool    // the user root@pam
	valid   bool    // user: name passes Proxmox's user name check; token: defined in the config
	exists  bool    // user: defined in the users section
	privsep bool    // token: privilege separation
	owner   int32   // token: subject id of the owning user
	groups  []int32 // user: sorted ids of the groups whose member list names it
}

// pool is a resource pool; its roles come from the ACL path /pool/<name>.
type pool struct {
	name string
	path string // "/pool/<name>"
}

// Engine is an access-control configuration compiled for permission checks.
// It is immutable and safe for concurrent use.
type Engine struct {
	root *node

	subjects  []subject
	subjectID map[string]int32

	groupNames   []string // sorted
	groupByID    []string // by group id
	groupID      map[string]int32
	groupDefined []bool     // by group id: defined in the groups section
	groupMembers [][]string // by group id: member user names, sorted

	roleNames  []string
	roleID     map[string]int32
	roleKnown  []bool    // by role id: defined in the config (ACLs may name stale roles)
	rolePrivs  []privSet // by role id
	noAccess   int32     // role id of NoAccess, -1 if no ACL or role mentions it
	adminRole  int32     // role id of Administrator (always interned)
	adminPrivs privSet   // what root@pam gets

	privNames []string       // by privilege index, sorted
	privIndex map[string]int // privilege name -> index
	privValid []bool         // by privilege index: one of Proxmox's privileges

	pools       []pool
	memberPools map[string][]int32 // "/vms/<id>" and "/storage/<id>" -> pools holding it

	effPaths []string // candidate paths of get_effective_permissions, sorted
	aclPaths []string // every ACL tree node path in tree order
}

// lookup returns the subject of authid, or nil when the config does not know it.
func (e *Engine) lookup(authid string) (int32, *subject) {
	id, ok := e.subjectID[authid]
	if !ok {
		return -1, nil
	}
	return id, &e.subjects[id]
}

// scratch holds reusable buffers for one permission computation, so that a
// check does not allocate in the common case.
type scratch struct {
	buf  [2][]roleRef
	next int
	arr  [2][16]roleRef
	one  [1]roleRef
	pool [16]roleRef
	mrg  [32]roleRef
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// getScratch returns a ready scratch from the pool; give it back with putScratch.
func getScratch() *scratch {
	sc := scratchPool.Get().(*scratch)
	sc.buf[0] = sc.arr[0][:0]
	sc.buf[1] = sc.arr[1][:0]
	sc.next = 0
	return sc
}

func putScratch(sc *scratch) { scratchPool.Put(sc) }

// free returns an empty buffer that the currently accumulated set does not use.
func (sc *scratch) free() []roleRef { return sc.buf[sc.next][:0] }

// commit marks b (obtained from free) as in use and returns it.
func (sc *scratch) commit(b []roleRef) []roleRef {
	sc.buf[sc.next] = b[:0]
	sc.next ^= 1
	return b
}

// rolesOf computes roles() for subject sid at path. The result may alias
// compiled data or sc and is valid until the next call with sc.
func (e *Engine) rolesOf(sid int32, path string, sc *scratch) []roleRef {
	s := &e.subjects[sid]
	if s.token {
		if !s.valid {
			return nil
		}
		if !s.privsep {
			return e.rolesOf(s.owner, path, sc)
		}
		return e.collapse(e.walk(sid, true, nil, path, sc), sc)
	}
	if s.root {
		sc.one[0] = roleRef{role: e.adminRole, prop: true}
		return sc.one[:]
	}
	return e.collapse(e.walk(sid, false, s.groups, path, sc), sc)
}

// collapse applies the NoAccess rule: NoAccess anywhere in the final set
// leaves NoAccess alone.
func (e *Engine) collapse(rs []roleRef, sc *scratch) []roleRef {
	if e.noAccess < 0 {
		return rs
	}
	for _, r := range rs {
		if r.role == e.noAccess {
			sc.one[0] = r
			return sc.one[:]
		}
	}
	return rs
}

// walk visits path from the root down the way Proxmox's roles() does: the
// path is split on "/" with trailing empty fields dropped ("/" alone is the
// root), an empty component stays on the current node, and every level that
// yields roles replaces what the levels above yielded.
func (e *Engine) walk(sid int32, token bool, groups []int32, path string, sc *scratch) []roleRef {
	end := len(path)
	for end > 0 && path[end-1] == '/' {
		end--
	}
	if end == 0 && path != "/" {
		return nil // "" and "//...": nothing to walk
	}
	t := path[:end]
	n := e.root
	var cur []roleRef
	for start := 0; ; {
		j := strings.IndexByte(t[start:], '/')
		final := j < 0
		var comp string
		if final {
			comp = t[start:]
		} else {
			comp = t[start : start+j]
		}
		if comp != "" {
			n = n.children[comp]
			if n == nil {
				return cur
			}
		}
		if rs := e.level(n, sid, token, groups, final, sc); rs != nil {
			cur = rs
		}
		if final {
			return cur
		}
		start += j + 1
	}
}

// level returns the roles one ACL node gives the subject, or nil: token
// entries first, then user entries, then the union over the subject's groups.
func (e *Engine) level(n *node, sid int32, token bool, groups []int32, final bool, sc *scratch) []roleRef {
	if token {
		if en := n.tokens[sid]; en != nil {
			if rs := en.pick(final); len(rs) > 0 {
				return rs
			}
		}
		return nil // a token id is never a user entry or a group member
	}
	if en := n.users[sid]; en != nil {
		if rs := en.pick(final); len(rs) > 0 {
			return rs
		}
	}
	if len(groups) == 0 || len(n.groupIDs) == 0 {
		return nil
	}
	var first []roleRef
	matched := 0
	var out []roleRef
	add := func(en *entry) {
		rs := en.pick(final)
		if len(rs) == 0 {
			return
		}
		switch matched {
		case 0:
			first = rs
		case 1:
			out = append(sc.free(), first...)
			out = mergeRoles(out, rs)
		default:
			out = mergeRoles(out, rs)
		}
		matched++
	}
	if len(groups) <= len(n.groupIDs) {
		for _, g := range groups {
			if en := n.groups[g]; en != nil {
				add(en)
			}
		}
	} else {
		for _, g := range n.groupIDs {
			if containsID(groups, g) {
				add(n.groups[g])
			}
		}
	}
	switch matched {
	case 0:
		return nil
	case 1:
		return first
	}
	return sc.commit(out)
}

// mergeRoles adds rs to out as a set union; a role present with both flags
// keeps propagate (deterministic where Proxmox depends on hash order).
func mergeRoles(out, rs []roleRef) []roleRef {
next:
	for _, r := range rs {
		for i := range out {
			if out[i].role == r.role {
				out[i].prop = out[i].prop || r.prop
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

func containsID(sorted []int32, id int32) bool {
	i := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= id })
	return i < len(sorted) && sorted[i] == id
}

func hasRole(rs []roleRef, role int32) (roleRef, bool) {
	for _, r := range rs {
		if r.role == role {
			return r, true
		}
	}
	return roleRef{}, false
}

// privsOf computes $rpcenv->permissions for subject sid at path.
func (e *Engine) privsOf(sid int32, path string) grant {
	s := &e.subjects[sid]
	if s.root {
		return grant{set: e.adminPrivs, prop: e.adminPrivs}
	}
	var owner grant
	intersect := false
	if s.token {
		if !s.valid {
			return grant{}
		}
		owner = e.privsOf(s.owner, path)
		if !s.privsep {
			return owner
		}
		intersect = !e.subjects[s.owner].root
	} else if !s.valid {
		return grant{}
	}
	sc := getScratch()
	res := e.compile(sid, path, sc)
	putScratch(sc)
	if intersect {
		res.set = res.set.and(owner.set)
		res.prop = res.prop.and(owner.prop).and(res.set)
	}
	return res
}

// compile is the body of Proxmox's compile_acl_path for one subject (a user
// or a privilege-separated token): path roles, pool roles, privileges.
func (e *Engine) compile(sid int32, path string, sc *scratch) grant {
	// Pool roles first: their walks reuse sc, which the path roles may alias.
	var poolRoles []roleRef
	if ps := e.memberPools[path]; len(ps) > 0 {
		poolRoles = sc.pool[:0]
		for _, p := range ps {
			for _, r := range e.rolesOf(sid, e.pools[p].path, sc) {
				if _, ok := hasRole(poolRoles, r.role); !ok {
					poolRoles = append(poolRoles, roleRef{role: r.role})
				}
			}
		}
	}
	roles := e.rolesOf(sid, path, sc)
	if len(poolRoles) > 0 {
		if _, ok := hasRole(roles, e.noAccess); !ok || e.noAccess < 0 {
			if _, ok := hasRole(poolRoles, e.noAccess); ok && e.noAccess >= 0 {
				sc.one[0] = roleRef{role: e.noAccess}
				roles = sc.one[:]
			} else {
				merged := append(sc.mrg[:0], roles...)
				for _, r := range poolRoles {
					if _, ok := hasRole(merged, r.role); !ok {
						merged = append(merged, roleRef{role: r.role})
					}
				}
				roles = merged
			}
		}
	}
	var res grant
	for _, r := range roles {
		p := e.rolePrivs[r.role]
		res.set = res.set.or(p)
		if r.prop {
			res.prop = res.prop.or(p)
		}
	}
	return res
}

// privsFor resolves authid and computes its privileges at path.
func (e *Engine) privsFor(authid, path string) grant {
	if authid == RootUser {
		return grant{set: e.adminPrivs, prop: e.adminPrivs}
	}
	sid, s := e.lookup(authid)
	if s == nil {
		return grant{}
	}
	return e.privsOf(sid, path)
}

func (e *Engine) privMap(p grant) map[string]bool {
	m := make(map[string]bool)
	p.set.each(func(i int) { m[e.privNames[i]] = p.prop.has(i) })
	return m
}

// Roles returns the roles authid has on path, each with its propagate flag,
// as Proxmox's roles() computes them: from the root down, every level with
// applicable entries replaces the levels above (token entries before user
// entries before the union of the user's groups; non-propagating entries only
// on the path itself), NoAccess masks everything else, root@pam is
// Administrator, a token without privilege separation has its owner's roles.
// Pools are not considered, and neither are enable or expiry of the user.
func (e *Engine) Roles(authid, path string) map[string]bool {
	res := make(map[string]bool)
	if authid == RootUser {
		res[RoleAdministrator] = true
		return res
	}
	sid, s := e.lookup(authid)
	if s == nil {
		return res
	}
	sc := getScratch()
	for _, r := range e.rolesOf(sid, path, sc) {
		res[e.roleNames[r.role]] = r.prop
	}
	putScratch(sc)
	return res
}

// Permissions returns the privileges authid has on path, each with its
// propagate flag, as Proxmox's $rpcenv->permissions computes them: the roles
// of Roles plus, at exactly /vms/<id> and /storage/<id>, the roles the
// subject has on the pools holding that member; for a privilege-separated
// token the intersection with its owner's privileges (flags ANDed).
func (e *Engine) Permissions(authid, path string) map[string]bool {
	return e.privMap(e.privsFor(authid, path))
}

// Check reports whether authid has all of privs on path, or at least one of
// them when any is true. An unknown privilege name fails the check; use
// Require for Proxmox's error.
func (e *Engine) Check(authid, path string, privs []string, any bool) bool {
	ok, _, _ := e.test(e.privsFor(authid, path), privs, any)
	return ok
}

// Require is Proxmox's check_full: nil when authid has all of privs on path
// (any: at least one of them), otherwise the error Proxmox raises: 403
// "Permission check failed (<path>, <priv>)" naming the first missing
// privilege, or "(<path>, <p1>|<p2>...)" for any; 500 "invalid privilege"
// for an unknown privilege name reached while checking.
func (e *Engine) Require(authid, path string, privs []string, any bool) error {
	return e.require(e.privsFor(authid, path), path, privs, any)
}

// require tests names against computed privileges p at path.
func (e *Engine) require(p grant, path string, privs []string, any bool) error {
	ok, at, invalid := e.test(p, privs, any)
	switch {
	case ok:
		return nil
	case invalid:
		return invalidPrivError(privs[at])
	case any:
		return permError(path + ", " + strings.Join(privs, "|"))
	}
	return permError(path + ", " + privs[at])
}

// test checks privs against p in order, as Proxmox does: each name is
// validated when reached; at is the index of the name that decided a
// failure (the first missing one, or the invalid one).
func (e *Engine) test(p grant, privs []string, any bool) (ok bool, at int, invalid bool) {
	for i, name := range privs {
		idx, known := e.privIndex[name]
		if known && !e.privValid[idx] || !known && !validPrivilege(name) {
			return false, i, true
		}
		set := known && p.set.has(idx)
		if any && set {
			return true, 0, false
		}
		if !any && !set {
			return false, i, false
		}
	}
	return !any, 0, false
}

// UserExists reports whether userid is defined in the users section.
func (e *Engine) UserExists(userid string) bool {
	_, s := e.lookup(userid)
	return s != nil && !s.token && s.exists
}

// GroupExists reports whether group is defined.
func (e *Engine) GroupExists(group string) bool {
	id, ok := e.groupID[group]
	return ok && e.groupDefined[id]
}

// Groups returns the names of all groups, sorted.
func (e *Engine) Groups() []string {
	return append([]string(nil), e.groupNames...)
}

// GroupMembers returns the member list of group (sorted; it may name users
// that do not exist, as Proxmox keeps them), or nil for an unknown group.
func (e *Engine) GroupMembers(group string) []string {
	g, ok := e.groupID[group]
	if !ok || !e.groupDefined[g] {
		return nil
	}
	return append([]string(nil), e.groupMembers[g]...)
}

// IsGroupMember reports whether group's member list names userid.
func (e *Engine) IsGroupMember(group, userid string) bool {
	g, ok := e.groupID[group]
	if !ok {
		return false
	}
	_, s := e.lookup(userid)
	return s != nil && !s.token && containsID(s.groups, g)
}

// FilterGroups returns, sorted, the groups g for which authid passes the check
// of privs (any: one of them) on /access/groups/<g> (Proxmox's filter_groups).
func (e *Engine) FilterGroups(authid string, privs []string, any bool) []string {
	var res []string
	for _, g := range e.groupNames {
		if e.Check(authid, "/access/groups/"+g, privs, any) {
			res = append(res, g)
		}
	}
	return res
}

// CheckPermModify is Proxmox's check_perm_modify: Permissions.Modify on
// /access when path is empty; otherwise any of Permissions.Modify and, for
// /storage/..., /vms/... or /pool/... paths, Datastore.Allocate, VM.Allocate
// or Pool.Allocate on path.
func (e *Engine) CheckPermModify(authid, path string) error {
	if path == "" {
		return e.Require(authid, "/access", []string{"Permissions.Modify"}, false)
	}
	ps := []string{"Permissions.Modify"}
	switch {
	case len(path) > len("/storage/") && strings.HasPrefix(path, "/storage/"):
		ps = append(ps, "Datastore.Allocate")
	case len(path) > len("/vms/") && strings.HasPrefix(path, "/vms/"):
		ps = append(ps, "VM.Allocate")
	case len(path) > len("/pool/") && strings.HasPrefix(path, "/pool/"):
		ps = append(ps, "Pool.Allocate")
	}
	return e.Require(authid, path, ps, true)
}
