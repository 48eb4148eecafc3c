package perm

import (
	"sort"

	"github.com/pvecfs/pvecfs/access/ident"
)

// builder collects a configuration and turns it into an Engine; Compile
// feeds it from the user.cfg model.
type builder struct {
	e       *Engine
	members []map[string]bool // by group id
	slab    []entry           // entries are allocated from here in chunks
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
	b := &builder{e: e}
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

// entry returns a compiled entry for roles (role -> propagate); the
// propagating roles come first so that prop is a prefix of all.
func (b *builder) entry(roles map[string]bool) *entry {
	all := make([]roleRef, 0, len(roles))
	for r, p := range roles {
		if p {
			all = append(all, roleRef{role: b.role(r), prop: true})
		}
	}
	k := len(all)
	for r, p := range roles {
		if !p {
			all = append(all, roleRef{role: b.role(r)})
		}
	}
	if len(b.slab) == 0 {
		b.slab = make([]entry, 1024)
	}
	en := &b.slab[0]
	b.slab = b.slab[1:]
	en.all, en.prop = all, all[:k:k]
	return en
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
		e.privValid[i] = validPrivilege(name)
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
