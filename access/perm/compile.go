package perm

import (
	"sort"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

// Compile compiles a parsed user.cfg into an Engine. Compile once per
// configuration version and share the Engine: it never changes and does not
// refer to cfg afterwards. A nil cfg compiles to an engine where only
// root@pam has privileges.
func Compile(cfg *usercfg.Config) *Engine {
	b := newBuilder()
	if cfg == nil {
		return b.finish()
	}
	for name, r := range cfg.Roles.All() {
		if r == nil {
			b.defineRole(name, nil)
			continue
		}
		list := make([]string, 0, len(r.Privs))
		for p := range r.Privs {
			list = append(list, p)
		}
		b.defineRole(name, list)
	}
	for name, u := range cfg.Users.All() {
		b.defineUser(name)
		if u == nil {
			continue
		}
		for sub, t := range u.Tokens.All() {
			b.defineToken(name, name+"!"+sub, t != nil && t.Privsep)
		}
	}
	for name, g := range cfg.Groups.All() {
		b.defineGroup(name)
		if g == nil {
			continue
		}
		for u := range g.Users {
			b.groupMember(name, u)
		}
	}
	for name, p := range cfg.Pools.All() {
		if p == nil {
			b.pool(name, nil, nil)
			continue
		}
		b.pool(name, keys(p.VMs), keys(p.Storage))
	}
	b.mirror(cfg.ACL, b.e.root)
	return b.finish()
}

// mirror copies the entries of src and its subtree into n. Every node of the
// source tree becomes a node here, entries or not, as Proxmox's tree walk
// (and so get_effective_permissions) sees them.
func (b *builder) mirror(src *usercfg.ACLNode, n *node) {
	if src == nil {
		return
	}
	for name, roles := range src.Users {
		if len(roles) > 0 {
			if n.users == nil {
				n.users = make(map[int32]*entry, len(src.Users))
			}
			n.users[b.user(name)] = b.entry(roles)
		}
	}
	for name, roles := range src.Tokens {
		if len(roles) > 0 {
			if n.tokens == nil {
				n.tokens = make(map[int32]*entry, len(src.Tokens))
			}
			n.tokens[b.token(name)] = b.entry(roles)
		}
	}
	for name, roles := range src.Groups {
		if len(roles) > 0 {
			if n.groups == nil {
				n.groups = make(map[int32]*entry, len(src.Groups))
			}
			g := b.group(name)
			n.groups[g] = b.entry(roles)
			n.groupIDs = append(n.groupIDs, g)
		}
	}
	sort.Slice(n.groupIDs, func(i, j int) bool { return n.groupIDs[i] < n.groupIDs[j] })
	for c, child := range src.Children.All() {
		b.mirror(child, b.child(n, c))
	}
}

func keys(s usercfg.Set) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	return out
}
