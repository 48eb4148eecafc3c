package perm

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

// testConfig builds a usercfg.Config in code, independent of the parser.
type testConfig struct{ *usercfg.Config }

func newTestConfig() testConfig { return testConfig{usercfg.New()} }

func (c testConfig) user(name string, groups ...string) testConfig {
	if c.User(name) == nil {
		c.Users = c.Users.Set(name, &usercfg.User{Enable: true})
	}
	for _, g := range groups {
		if c.Group(g) == nil {
			c.Groups = c.Groups.Set(g, &usercfg.Group{Users: usercfg.Set{}})
		}
		c.Group(g).Users[name] = struct{}{}
	}
	return c
}

func (c testConfig) token(tokenid string, privsep bool) testConfig {
	owner, sub, _ := strings.Cut(tokenid, "!")
	c.user(owner)
	u := c.User(owner)
	u.Tokens = u.Tokens.Set(sub, &usercfg.Token{Privsep: privsep})
	return c
}

func (c testConfig) role(name string, privs ...string) testConfig {
	set := usercfg.Set{}
	for _, p := range privs {
		set[p] = struct{}{}
	}
	c.Roles = c.Roles.Set(name, &usercfg.Role{Privs: set})
	return c
}

func (c testConfig) pool(name string, vms, storage []string) testConfig {
	p := &usercfg.Pool{VMs: usercfg.Set{}, Storage: usercfg.Set{}}
	for _, v := range vms {
		p.VMs[v] = struct{}{}
		c.VMs = c.VMs.Set(v, name)
	}
	for _, s := range storage {
		p.Storage[s] = struct{}{}
	}
	c.Pools = c.Pools.Set(name, p)
	return c
}

// acl adds entries like an acl: line: members are "@group", "user@realm" or
// "user@realm!token"; roles are comma-separated.
func (c testConfig) acl(prop bool, path, members, roles string) testConfig {
	n := c.ACL
	for _, comp := range strings.Split(strings.Trim(path, "/"), "/") {
		if comp == "" {
			continue
		}
		child := n.Children.Value(comp)
		if child == nil {
			child = &usercfg.ACLNode{}
			n.Children = n.Children.Set(comp, child)
		}
		n = child
	}
	for _, m := range strings.Split(members, ",") {
		var target *map[string]usercfg.RoleMap
		switch {
		case strings.HasPrefix(m, "@"):
			m = m[1:]
			target = &n.Groups
		case strings.Contains(m, "!"):
			target = &n.Tokens
		default:
			target = &n.Users
		}
		if *target == nil {
			*target = map[string]usercfg.RoleMap{}
		}
		if (*target)[m] == nil {
			(*target)[m] = usercfg.RoleMap{}
		}
		for _, r := range strings.Split(roles, ",") {
			(*target)[m][r] = prop
		}
	}
	return c
}
