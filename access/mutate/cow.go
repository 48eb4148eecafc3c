package mutate

import (
	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/usercfg"
)

// edit builds a new user.cfg model from an old one, copy-on-write: the new
// Config shares every map and value of the old one until a change needs its
// own copy. The top-level maps, User.Tokens and ACLNode.Children are
// persistent (pmap), so replacing an entry copies only the O(log n) path to
// it, whatever the size of the file, of a user's tokens or of a node's
// children; an entry is copied the first time it is written, and untouched
// entries and ACL subtrees stay shared. The old model is never modified.
type edit struct {
	c *usercfg.Config

	users  map[string]*usercfg.User  // entries owned by this edit
	groups map[string]*usercfg.Group // entries owned by this edit
	nodes  map[*usercfg.ACLNode]bool // ACL nodes owned by this edit
}

func newEdit(old *usercfg.Config) *edit {
	if old == nil {
		old = usercfg.New()
	}
	c := *old
	if c.ACL == nil {
		c.ACL = &usercfg.ACLNode{}
	}
	return &edit{c: &c}
}

// result returns the new model.
func (e *edit) result() *usercfg.Config { return e.c }

// user returns a writable copy of an existing user, installed in the new
// model (nil if the user does not exist).
func (e *edit) user(id string) *usercfg.User {
	if u, ok := e.users[id]; ok {
		return u
	}
	old := e.c.User(id)
	if old == nil {
		return nil
	}
	u := old.Clone()
	e.putUser(id, u)
	return u
}

// putUser installs a new user value owned by this edit.
func (e *edit) putUser(id string, u *usercfg.User) {
	e.c.Users = e.c.Users.Set(id, u)
	if e.users == nil {
		e.users = map[string]*usercfg.User{}
	}
	e.users[id] = u
}

func (e *edit) deleteUser(id string) {
	e.c.Users = e.c.Users.Delete(id)
	delete(e.users, id)
}

// group returns a writable copy of an existing group (nil if absent).
func (e *edit) group(id string) *usercfg.Group {
	if g, ok := e.groups[id]; ok {
		return g
	}
	old := e.c.Group(id)
	if old == nil {
		return nil
	}
	g := old.Clone()
	if g.Users == nil {
		g.Users = usercfg.Set{}
	}
	e.putGroup(id, g)
	return g
}

func (e *edit) putGroup(id string, g *usercfg.Group) {
	e.c.Groups = e.c.Groups.Set(id, g)
	if e.groups == nil {
		e.groups = map[string]*usercfg.Group{}
	}
	e.groups[id] = g
}

func (e *edit) deleteGroup(id string) {
	e.c.Groups = e.c.Groups.Delete(id)
	delete(e.groups, id)
}

func (e *edit) putRole(id string, r *usercfg.Role) {
	e.c.Roles = e.c.Roles.Set(id, r)
}

func (e *edit) deleteRole(id string) {
	e.c.Roles = e.c.Roles.Delete(id)
}

// addMember makes user uid a member of group gid (the group's member set
// and the user's group set, or MemberOf for a name that is not a defined
// user, kept in step); the group must exist. A user that is not defined is
// only listed in the group, as Proxmox keeps such members.
func (e *edit) addMember(gid, uid string) {
	g := e.c.Group(gid)
	if g == nil {
		return
	}
	if !g.Users.Has(uid) {
		e.group(gid).Users[uid] = struct{}{}
	}
	u := e.c.User(uid)
	if u == nil {
		e.memberOfAdd(uid, gid)
		return
	}
	if !u.Groups.Has(gid) {
		u = e.user(uid)
		if u.Groups == nil {
			u.Groups = usercfg.Set{}
		}
		u.Groups[gid] = struct{}{}
	}
}

// removeMember removes user uid from group gid.
func (e *edit) removeMember(gid, uid string) {
	if g := e.c.Group(gid); g != nil && g.Users.Has(uid) {
		delete(e.group(gid).Users, uid)
	}
	u := e.c.User(uid)
	if u == nil {
		e.memberOfRemove(uid, gid)
		return
	}
	if u.Groups.Has(gid) {
		u = e.user(uid)
		delete(u.Groups, gid)
		if len(u.Groups) == 0 {
			u.Groups = nil
		}
	}
}

// memberOfAdd records in MemberOf that group gid lists uid, a name that is
// not a defined user.
func (e *edit) memberOfAdd(uid, gid string) {
	old := e.c.MemberOf.Value(uid)
	if old.Has(gid) {
		return
	}
	s := old.Clone()
	if s == nil {
		s = usercfg.Set{}
	}
	s[gid] = struct{}{}
	e.c.MemberOf = e.c.MemberOf.Set(uid, s)
}

// memberOfRemove removes group gid from uid's MemberOf entry.
func (e *edit) memberOfRemove(uid, gid string) {
	old := e.c.MemberOf.Value(uid)
	if !old.Has(gid) {
		return
	}
	if len(old) == 1 {
		e.c.MemberOf = e.c.MemberOf.Delete(uid)
		return
	}
	s := old.Clone()
	delete(s, gid)
	e.c.MemberOf = e.c.MemberOf.Set(uid, s)
}

// ownNode returns a writable copy of n (n itself if this edit made it).
func (e *edit) ownNode(n *usercfg.ACLNode) *usercfg.ACLNode {
	if e.nodes[n] {
		return n
	}
	if e.nodes == nil {
		e.nodes = map[*usercfg.ACLNode]bool{}
	}
	c := n.Clone()
	e.nodes[c] = true
	return c
}

// aclChain returns writable nodes from the root down to the node of a
// normalised path, creating missing nodes; chain[0] is the new root.
func (e *edit) aclChain(path string) ([]*usercfg.ACLNode, []string) {
	comps := ident.SplitPath(path)
	chain := make([]*usercfg.ACLNode, 0, len(comps)+1)
	root := e.ownNode(e.c.ACL)
	e.c.ACL = root
	chain = append(chain, root)
	cur := root
	for _, comp := range comps {
		child := cur.Children.Value(comp)
		if child == nil {
			child = &usercfg.ACLNode{}
			if e.nodes == nil {
				e.nodes = map[*usercfg.ACLNode]bool{}
			}
			e.nodes[child] = true
		} else {
			child = e.ownNode(child)
		}
		cur.Children = cur.Children.Set(comp, child)
		chain = append(chain, child)
		cur = child
	}
	return chain, comps
}

// pruneChain removes empty nodes at the bottom of a chain from aclChain (the
// root always stays) and drops empty maps.
func pruneChain(chain []*usercfg.ACLNode, comps []string) {
	for i := len(chain) - 1; i >= 0; i-- {
		tidy(chain[i])
		if i == 0 || !chain[i].IsEmpty() {
			continue
		}
		chain[i-1].Children = chain[i-1].Children.Delete(comps[i-1])
	}
}

// tidy sets a node's empty member maps to nil, as the parser leaves them
// (an emptied persistent Children map is already the zero Map).
func tidy(n *usercfg.ACLNode) {
	if len(n.Users) == 0 {
		n.Users = nil
	}
	if len(n.Groups) == 0 {
		n.Groups = nil
	}
	if len(n.Tokens) == 0 {
		n.Tokens = nil
	}
}

// aclFilter selects ACL entries to remove everywhere in the tree.
type aclFilter struct {
	user   string   // entries of this user
	tokens []string // entries of these full token ids
	group  string   // entries of this group
	role   string   // this role from every entry
}

// purge removes the filter's entries from the whole ACL tree. Only the
// nodes that change (and their ancestors) are copied.
func (e *edit) purge(f aclFilter) {
	if n, changed := purgeNode(e.c.ACL, &f, true); changed {
		e.c.ACL = n
	}
}

func purgeNode(n *usercfg.ACLNode, f *aclFilter, root bool) (*usercfg.ACLNode, bool) {
	var c *usercfg.ACLNode
	own := func() *usercfg.ACLNode {
		if c == nil {
			c = n.Clone()
		}
		return c
	}
	for name, child := range n.Children.All() {
		nc, changed := purgeNode(child, f, false)
		if !changed {
			continue
		}
		// n.Children is not modified by these (persistent) updates, so
		// the iteration over it is unaffected.
		w := own()
		if nc == nil {
			w.Children = w.Children.Delete(name)
		} else {
			w.Children = w.Children.Set(name, nc)
		}
	}
	if f.user != "" {
		if _, ok := n.Users[f.user]; ok {
			delete(own().Users, f.user)
		}
	}
	for _, t := range f.tokens {
		if _, ok := n.Tokens[t]; ok {
			delete(own().Tokens, t)
		}
	}
	if f.group != "" {
		if _, ok := n.Groups[f.group]; ok {
			delete(own().Groups, f.group)
		}
	}
	if f.role != "" {
		for kind, m := range [...]map[string]usercfg.RoleMap{n.Users, n.Groups, n.Tokens} {
			for member, rm := range m {
				if _, ok := rm[f.role]; !ok {
					continue
				}
				own()
				dst := [...]map[string]usercfg.RoleMap{c.Users, c.Groups, c.Tokens}[kind]
				nrm := dst[member].Clone()
				delete(nrm, f.role)
				if len(nrm) == 0 {
					delete(dst, member)
				} else {
					dst[member] = nrm
				}
			}
		}
	}
	if c == nil {
		return n, false
	}
	tidy(c)
	if !root && c.IsEmpty() {
		return nil, true
	}
	return c, true
}
