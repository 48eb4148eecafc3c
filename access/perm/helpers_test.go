package perm

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

// testConfig builds a usercfg.Config in code, independent of the parser.
type testConfig struct{ *usercfg.Config }

func newTestConfig() testConfig { return testConfig{usercfg.New()} }

func (c testConfig) user(name string, groups ...string) testConfig {
	if c.Users[name] == nil {
		c.Users[name] = &usercfg.User{Enable: true}
	}
	for _, g := range groups {
		if c.Groups[g] == nil {
			c.Groups[g] = &usercfg.Group{Users: usercfg.Set{}}
		}
		c.Groups[g].Users[name] = struct{}{}
	}
	return c
}

func (c testConfig) token(tokenid string, privsep bool) testConfig {
	owner, sub, _ := strings.Cut(tokenid, "!")
	c.user(owner)
	if c.Users[owner].Tokens == nil {
		c.Users[owner].Tokens = map[string]*usercfg.Token{}
	}
	c.Users[owner].Tokens[sub] = &usercfg.Token{Privsep: privsep}
	return c
}

func (c testConfig) role(name string, privs ...string) testConfig {
	set := usercfg.Set{}
	for _, p := range privs {
		set[p] = struct{}{}
	}
	c.Roles[name] = &usercfg.Role{Privs: set}
	return c
}

func (c testConfig) pool(name string, vms, storage []string) testConfig {
	p := &usercfg.Pool{VMs: usercfg.Set{}, Storage: usercfg.Set{}}
	for _, v := range vms {
		p.VMs[v] = struct{}{}
		c.VMs[v] = name
	}
	for _, s := range storage {
		p.Storage[s] = struct{}{}
	}
	c.Pools[name] = p
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
		if n.Children == nil {
			n.Children = map[string]*usercfg.ACLNode{}
		}
		if n.Children[comp] == nil {
			n.Children[comp] = &usercfg.ACLNode{}
		}
		n = n.Children[comp]
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
