package usercfg

import (
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg/pmap"
)

// Set is an unordered set of strings. A nil Set is empty for reading.
type Set map[string]struct{}

// Has reports whether k is in the set.
func (s Set) Has(k string) bool {
	_, ok := s[k]
	return ok
}

// Sorted returns the members in byte order.
func (s Set) Sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Clone returns a copy of the set (nil stays nil).
func (s Set) Clone() Set {
	if s == nil {
		return nil
	}
	c := make(Set, len(s))
	for k := range s {
		c[k] = struct{}{}
	}
	return c
}

// Config is a parsed user.cfg. It is immutable once built. Its top-level
// maps are persistent (pmap.Map): Set and Delete return new maps that share
// all but O(log n) nodes with the old ones, so a change costs the same for a
// file of ten users and one of ten thousand. To change a Config, copy the
// struct, replace the maps you change, and replace (do not modify) the values
// you change with copies (User.Clone, Group.Clone, ...).
type Config struct {
	// Users maps a user ID to the user; root@pam is always present.
	Users pmap.Map[*User]
	// Groups maps a group ID to the group.
	Groups pmap.Map[*Group]
	// Roles maps a role ID to its privileges, built-in roles included.
	Roles pmap.Map[*Role]
	// Pools maps a pool ID (a, a/b, a/b/c) to the pool.
	Pools pmap.Map[*Pool]
	// VMs maps a VMID (decimal string) to the pool that holds it.
	VMs pmap.Map[string]
	// MemberOf maps each group member that is not a defined user to the
	// set of groups that list it (a defined user's groups are User.Groups),
	// so that a new user can take its memberships without a scan of every
	// group. Like User.Groups it is derived from the groups: Parse builds
	// it and the mutations keep it; a hand-built Config with such members
	// must fill it in.
	MemberOf pmap.Map[Set]
	// ACL is the root node ("/") of the ACL tree; never nil.
	ACL *ACLNode
}

// User returns the user with ID id, or nil.
func (c *Config) User(id string) *User { return c.Users.Value(id) }

// Group returns the group with ID id, or nil.
func (c *Config) Group(id string) *Group { return c.Groups.Value(id) }

// Role returns the role with ID id (built-in roles included), or nil.
func (c *Config) Role(id string) *Role { return c.Roles.Value(id) }

// Pool returns the pool with ID id, or nil.
func (c *Config) Pool(id string) *Pool { return c.Pools.Value(id) }

// User is one user: line with its tokens.
type User struct {
	// Enable is the enable flag.
	Enable bool
	// Expire is the expiry in epoch seconds, 0 for never.
	Expire int64
	// Firstname is the decoded first name.
	Firstname string
	// Lastname is the decoded last name.
	Lastname string
	// Email is the raw e-mail address.
	Email string
	// Comment is the decoded comment.
	Comment string
	// Keys is the raw two-factor keys field ("x" = entries in tfa.cfg).
	Keys string
	// Groups is the set of defined groups that list the user as a member.
	Groups Set
	// Tokens maps a token sub-ID to the token. It is persistent, so a token
	// change costs O(log n) in the user's tokens (User.Clone shares it).
	Tokens pmap.Map[*Token]
}

// Token is one API token (token: line).
type Token struct {
	// Privsep is the privilege separation flag.
	Privsep bool
	// Expire is the expiry in epoch seconds, 0 for never.
	Expire int64
	// Comment is the decoded comment.
	Comment string
}

// Group is one group: line.
type Group struct {
	// Users is the member set; members need not be defined users.
	Users Set
	// Comment is the decoded comment.
	Comment string
}

// Role is a role's privilege set.
type Role struct {
	// Privs is the set of privilege names.
	Privs Set
}

// Pool is one pool, given by a pool: line or implied as a parent.
type Pool struct {
	// Comment is the decoded comment.
	Comment string
	// Parent is the parent pool ID, "" for a top-level pool.
	Parent string
	// VMs is the set of member VMIDs (decimal strings).
	VMs Set
	// Storage is the set of member storage IDs.
	Storage Set
	// Pools is the set of direct child pool IDs (full IDs, e.g. "a/b").
	Pools Set
}

// RoleMap maps a role ID to its propagate flag.
type RoleMap map[string]bool

// ACLNode is one node of the ACL tree: the entries at its path and its
// children by path component.
type ACLNode struct {
	// Users maps a user ID to its roles at this path.
	Users map[string]RoleMap
	// Groups maps a group ID (without '@') to its roles at this path.
	Groups map[string]RoleMap
	// Tokens maps a full token ID to its roles at this path.
	Tokens map[string]RoleMap
	// Children maps a path component to the child node. It is persistent,
	// so replacing a child costs O(log n) in the node's children.
	Children pmap.Map[*ACLNode]
}

// builtinRoles are shared, immutable Role values for the built-in roles.
var builtinRoles = func() pmap.Map[*Role] {
	b := pmap.NewBuilder[*Role](len(privs.BuiltinRoles))
	for name, list := range privs.BuiltinRoles {
		s := make(Set, len(list))
		for _, p := range list {
			s[p] = struct{}{}
		}
		b.Set(name, &Role{Privs: s})
	}
	return b.Map()
}()

// BuiltinRole returns the shared Role of a built-in role, or nil.
func BuiltinRole(name string) *Role { return builtinRoles.Value(name) }

// New returns the configuration of an empty user.cfg: the built-in roles,
// root@pam (enabled) and an empty ACL root. The built-in roles are shared.
func New() *Config {
	return &Config{
		Users: pmap.Map[*User]{}.Set("root@pam", &User{Enable: true}),
		Roles: builtinRoles,
		ACL:   &ACLNode{},
	}
}

// Clone returns a shallow copy sharing every map, value and the ACL root.
// Since the maps are persistent this is O(1); it is kept for callers that
// copy before replacing maps. Replace, do not modify, shared values.
func (c *Config) Clone() *Config {
	n := *c
	return &n
}

// Clone returns a copy of the user with a copied Groups set; the persistent
// Tokens map and the Token values are shared (replace, do not modify, them).
func (u *User) Clone() *User {
	n := *u
	n.Groups = u.Groups.Clone()
	return &n
}

// Token returns the token with sub-ID sub, or nil. It is nil-safe.
func (u *User) Token(sub string) *Token {
	if u == nil {
		return nil
	}
	return u.Tokens.Value(sub)
}

// Clone returns a copy of the token.
func (t *Token) Clone() *Token {
	n := *t
	return &n
}

// Clone returns a copy of the group with a copied member set.
func (g *Group) Clone() *Group {
	return &Group{Users: g.Users.Clone(), Comment: g.Comment}
}

// Clone returns a copy of the role with a copied privilege set.
func (r *Role) Clone() *Role {
	return &Role{Privs: r.Privs.Clone()}
}

// Clone returns a copy of the pool with copied sets.
func (p *Pool) Clone() *Pool {
	return &Pool{Comment: p.Comment, Parent: p.Parent, VMs: p.VMs.Clone(),
		Storage: p.Storage.Clone(), Pools: p.Pools.Clone()}
}

// Clone returns a copy of the role map.
func (m RoleMap) Clone() RoleMap {
	if m == nil {
		return nil
	}
	n := make(RoleMap, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// Clone returns a copy of the node with copied member maps; the persistent
// Children map, the RoleMap values and the child nodes are shared.
func (n *ACLNode) Clone() *ACLNode {
	return &ACLNode{
		Users:    cloneMembers(n.Users),
		Groups:   cloneMembers(n.Groups),
		Tokens:   cloneMembers(n.Tokens),
		Children: n.Children,
	}
}

func cloneMembers(m map[string]RoleMap) map[string]RoleMap {
	if m == nil {
		return nil
	}
	n := make(map[string]RoleMap, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// Child returns the child node for component name, or nil. It is nil-safe.
func (n *ACLNode) Child(name string) *ACLNode {
	if n == nil {
		return nil
	}
	return n.Children.Value(name)
}

// IsEmpty reports whether the node has no entries and no children.
func (n *ACLNode) IsEmpty() bool {
	return n == nil || (len(n.Users) == 0 && len(n.Groups) == 0 && len(n.Tokens) == 0 && n.Children.Len() == 0)
}

// Find returns the node of a normalised ACL path, or nil if there is none.
func (c *Config) Find(path string) *ACLNode {
	n := c.ACL
	for _, comp := range strings.Split(strings.Trim(path, "/"), "/") {
		if comp == "" {
			continue
		}
		n = n.Child(comp)
		if n == nil {
			return nil
		}
	}
	return n
}

// Walk calls fn for every node in writer order: a node, then its children
// sorted by component, depth first. path is "/" for the root, else "/a/b".
func (n *ACLNode) Walk(fn func(path string, node *ACLNode)) {
	n.walk("/", fn)
}

func (n *ACLNode) walk(path string, fn func(string, *ACLNode)) {
	if n == nil {
		return
	}
	fn(path, n)
	if n.Children.Len() == 0 {
		return
	}
	if path == "/" {
		path = ""
	}
	for k, c := range n.Children.All() {
		c.walk(path+"/"+k, fn)
	}
}

// IsBuiltinRole reports whether name is a built-in role (never written).
func IsBuiltinRole(name string) bool { return privs.IsBuiltin(name) }
