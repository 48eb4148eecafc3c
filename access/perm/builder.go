package perm

import (
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
)

// Subject kinds of an ACL entry.
const (
	kindUser = iota
	kindToken
	kindGroup
)

// builder collects a configuration and turns it into an Engine. Compile
// feeds it from the user.cfg model; tests and benchmarks may feed it directly.
type builder struct {
	e       *Engine
	entries map[*node][3]map[int32]map[int32]bool // node -> kind -> subject -> role -> propagate
	members []map[string]bool                     // by group id
}

func newBuilder() *builder {
	e := &Engine{
		root:        &node{path: "/"},
		subjectID:   make(map[string]int32),
		groupID:     make(map[string]int32),
		roleID:      make(map[string]int32),
		privIndex:   make(map[string]int),
		memberPools: make(map[string][]int32),
		noAccess:    -1,
	}
	b := &builder{e: e, entries: make(map[*node][3]map[int32]map[int32]bool)}
	e.adminRole = b.role(RoleAdministrator)
	return b
}

// user interns a user name (defined or merely referenced).
func (b *builder) user(name string) int32 {
	e := b.e
	if id, ok := e.subjectID[name]; ok {
		return id
	}
	id := int32(len(e.subjects))
	e.subjects = append(e.subjects, subject{
		name:  name,
		root:  name == RootUser,
		valid: ident.IsUsername(name),
		owner: -1,
	})
	e.subjectID[name] = id
	return id
}

// defineUser records a user of the users section.
func (b *builder) defineUser(name string) {
	id := b.user(name)
	b.e.subjects[id].exists = true
}

// token interns an API token id; defined tokens carry their owner.
func (b *builder) token(tokenid string) int32 {
	e := b.e
	if id, ok := e.subjectID[tokenid]; ok {
		return id
	}
	id := int32(len(e.subjects))
	e.subjects = append(e.subjects, subject{name: tokenid, token: true, owner: -1})
	e.subjectID[tokenid] = id
	return id
}

// defineToken records a token of user owner.
func (b *builder) defineToken(owner, tokenid string, privsep bool) {
	o := b.user(owner)
	id := b.token(tokenid)
	s := &b.e.subjects[id]
	s.valid, s.privsep, s.owner = true, privsep, o
}

// group interns a group name.
func (b *builder) group(name string) int32 {
	e := b.e
	if id, ok := e.groupID[name]; ok {
		return id
	}
	id := int32(len(e.groupByID))
	e.groupByID = append(e.groupByID, name)
	e.groupID[name] = id
	b.members = append(b.members, nil)
	e.groupDefined = append(e.groupDefined, false)
	return id
}

// defineGroup records a group of the groups section.
func (b *builder) defineGroup(name string) {
	b.e.groupDefined[b.group(name)] = true
}

// groupMember adds user to the member list of the group, defining it.
func (b *builder) groupMember(group, user string) {
	b.defineGroup(group)
	g := b.group(group)
	if b.members[g] == nil {
		b.members[g] = make(map[string]bool)
	}
	if b.members[g][user] {
		return
	}
	b.members[g][user] = true
	u := b.user(user)
	b.e.subjects[u].groups = append(b.e.subjects[u].groups, g)
}

// role interns a role name (defined or named by an ACL).
func (b *builder) role(name string) int32 {
	e := b.e
	if id, ok := e.roleID[name]; ok {
		return id
	}
	id := int32(len(e.roleNames))
	e.roleNames = append(e.roleNames, name)
	e.roleID[name] = id
	e.roleKnown = append(e.roleKnown, false)
	e.rolePrivs = append(e.rolePrivs, privSet{})
	if name == RoleNoAccess {
		e.noAccess = id
	}
	return id
}

// priv interns a privilege name; ok is false once the index is full.
func (b *builder) priv(name string) (int, bool) {
	e := b.e
	if i, ok := e.privIndex[name]; ok {
		return i, true
	}
	if len(e.privNames) >= maxPrivs {
		return 0, false
	}
	i := len(e.privNames)
	e.privNames = append(e.privNames, name)
	e.privIndex[name] = i
	return i, true
}

// defineRole records a role and its privileges.
func (b *builder) defineRole(name string, privs []string) {
	id := b.role(name)
	b.e.roleKnown[id] = true
	for _, p := range privs {
		if i, ok := b.priv(p); ok {
			b.e.rolePrivs[id].add(i)
		}
	}
}

// nodeAt returns the ACL tree node of a normalized path, creating it and its
// ancestors.
func (b *builder) nodeAt(path string) *node {
	n := b.e.root
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if c != "" {
			n = b.child(n, c)
		}
	}
	return n
}

// child returns the child c of n, creating it.
func (b *builder) child(n *node, c string) *node {
	if child := n.children[c]; child != nil {
		return child
	}
	p := n.path + "/" + c
	if n.path == "/" {
		p = "/" + c
	}
	child := &node{path: p}
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	n.children[c] = child
	return child
}

// acl adds one ACL entry: subject name of kind has role on path.
func (b *builder) acl(path string, kind int, name, role string, prop bool) {
	b.aclAt(b.nodeAt(path), kind, name, role, prop)
}

// aclAt adds one ACL entry to node n.
func (b *builder) aclAt(n *node, kind int, name, role string, prop bool) {
	var sid int32
	switch kind {
	case kindUser:
		sid = b.user(name)
	case kindToken:
		sid = b.token(name)
	default:
		sid = b.group(name)
	}
	r := b.role(role)
	kinds := b.entries[n]
	if kinds[kind] == nil {
		kinds[kind] = make(map[int32]map[int32]bool)
		b.entries[n] = kinds
	}
	if kinds[kind][sid] == nil {
		kinds[kind][sid] = make(map[int32]bool)
	}
	kinds[kind][sid][r] = prop
}

// pool records a pool with its VM and storage members.
func (b *builder) pool(name string, vms, storage []string) {
	e := b.e
	id := int32(len(e.pools))
	e.pools = append(e.pools, pool{name: name, path: "/pool/" + name})
	for _, v := range vms {
		k := "/vms/" + v
		e.memberPools[k] = appendUnique(e.memberPools[k], id)
	}
	for _, s := range storage {
		k := "/storage/" + s
		e.memberPools[k] = appendUnique(e.memberPools[k], id)
	}
}

func appendUnique(ids []int32, id int32) []int32 {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// finish freezes the collected configuration into the Engine.
func (b *builder) finish() *Engine {
	e := b.e
	// Privilege indices in name order, so results iterate deterministically.
	sorted := append([]string(nil), e.privNames...)
	sort.Strings(sorted)
	remap := make([]int, len(e.privNames))
	for newIdx, name := range sorted {
		remap[e.privIndex[name]] = newIdx
	}
	for r := range e.rolePrivs {
		var ps privSet
		e.rolePrivs[r].each(func(i int) { ps.add(remap[i]) })
		e.rolePrivs[r] = ps
	}
	e.privNames = sorted
	e.privValid = make([]bool, len(sorted))
	for i, name := range sorted {
		e.privIndex[name] = i
		e.privValid[i] = ValidPrivilege(name)
	}
	e.adminPrivs = e.rolePrivs[e.adminRole]

	for i := range e.subjects {
		g := e.subjects[i].groups
		sort.Slice(g, func(a, c int) bool { return g[a] < g[c] })
	}
	e.groupMembers = make([][]string, len(e.groupByID))
	for g, m := range b.members {
		list := make([]string, 0, len(m))
		for u := range m {
			list = append(list, u)
		}
		sort.Strings(list)
		e.groupMembers[g] = list
	}
	for id, name := range e.groupByID {
		if e.groupDefined[id] {
			e.groupNames = append(e.groupNames, name)
		}
	}
	sort.Strings(e.groupNames)

	for n, kinds := range b.entries {
		n.users = b.compileEntries(kinds[kindUser])
		n.tokens = b.compileEntries(kinds[kindToken])
		n.groups = b.compileEntries(kinds[kindGroup])
		for g := range n.groups {
			n.groupIDs = append(n.groupIDs, g)
		}
		sort.Slice(n.groupIDs, func(a, c int) bool { return n.groupIDs[a] < n.groupIDs[c] })
	}
	b.entries = nil

	paths := map[string]bool{}
	for _, p := range []string{"/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"} {
		paths[p] = true
	}
	var visit func(n *node)
	visit = func(n *node) {
		e.aclPaths = append(e.aclPaths, n.path)
		paths[n.path] = true
		names := make([]string, 0, len(n.children))
		for c := range n.children {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			visit(n.children[c])
		}
	}
	visit(e.root)
	for p := range e.memberPools {
		paths[p] = true
	}
	e.effPaths = make([]string, 0, len(paths))
	for p := range paths {
		e.effPaths = append(e.effPaths, p)
	}
	sort.Strings(e.effPaths)
	return e
}

// compileEntries turns subject -> role -> propagate maps into compiled entries with
// roles in name order.
func (b *builder) compileEntries(m map[int32]map[int32]bool) map[int32]*entry {
	if len(m) == 0 {
		return nil
	}
	e := b.e
	res := make(map[int32]*entry, len(m))
	for sid, roles := range m {
		en := &entry{all: make([]roleRef, 0, len(roles))}
		for r, p := range roles {
			en.all = append(en.all, roleRef{role: r, prop: p})
		}
		sort.Slice(en.all, func(a, c int) bool { return e.roleNames[en.all[a].role] < e.roleNames[en.all[c].role] })
		for _, r := range en.all {
			if r.prop {
				en.prop = append(en.prop, r)
			}
		}
		res[sid] = en
	}
	return res
}
