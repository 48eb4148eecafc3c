package perm

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

// A direct, uncompiled rendering of Proxmox's roles() and permissions() on
// the usercfg model, used as a differential reference for the Engine.

func naiveSplitToken(authid string) (string, string, bool) {
	u, t, err := ident.SplitTokenID(authid)
	return string(u), string(t), err == nil
}

func naiveRoles(cfg *usercfg.Config, authid, path string) map[string]bool {
	if authid == RootUser {
		return map[string]bool{RoleAdministrator: true}
	}
	if owner, sub, ok := naiveSplitToken(authid); ok {
		u := cfg.User(owner)
		if u.Token(sub) == nil {
			return map[string]bool{}
		}
		if !u.Token(sub).Privsep {
			return naiveRoles(cfg, owner, path)
		}
	}
	var comps []string
	if path == "/" {
		comps = []string{""}
	} else {
		comps = strings.Split(strings.TrimRight(path, "/"), "/")
		if strings.TrimRight(path, "/") == "" {
			comps = nil
		}
	}
	roles := map[string]bool{}
	n := cfg.ACL
	for i, p := range comps {
		final := i == len(comps)-1
		if p != "" {
			n = n.Child(p)
		}
		if n == nil {
			break
		}
		collect := func(rm usercfg.RoleMap, into map[string]bool) {
			for r, prop := range rm {
				if final || prop {
					into[r] = into[r] || prop
				}
			}
		}
		if rm, ok := n.Tokens[authid]; ok {
			nw := map[string]bool{}
			collect(rm, nw)
			if len(nw) > 0 {
				roles = nw
				continue
			}
		}
		if rm, ok := n.Users[authid]; ok {
			nw := map[string]bool{}
			collect(rm, nw)
			if len(nw) > 0 {
				roles = nw
				continue
			}
		}
		nw := map[string]bool{}
		for g, rm := range n.Groups {
			if grp := cfg.Group(g); grp != nil && grp.Users.Has(authid) {
				collect(rm, nw)
			}
		}
		if len(nw) > 0 {
			roles = nw
		}
	}
	if p, ok := roles[RoleNoAccess]; ok {
		return map[string]bool{RoleNoAccess: p}
	}
	return roles
}

func naivePermissions(cfg *usercfg.Config, authid, path string) map[string]bool {
	if authid == RootUser {
		res := map[string]bool{}
		for p := range cfg.Role(RoleAdministrator).Privs {
			res[p] = true
		}
		return res
	}
	var ownerPrivs map[string]bool
	intersect := false
	if owner, sub, ok := naiveSplitToken(authid); ok {
		u := cfg.User(owner)
		if u.Token(sub) == nil {
			return map[string]bool{}
		}
		ownerPrivs = naivePermissions(cfg, owner, path)
		if !u.Token(sub).Privsep {
			return ownerPrivs
		}
		intersect = owner != RootUser
	} else if !ident.IsUsername(authid) {
		return map[string]bool{}
	}
	poolRoles := map[string]map[string]bool{}
	for name, p := range cfg.Pools.All() {
		pr := naiveRoles(cfg, authid, "/pool/"+name)
		if len(pr) == 0 {
			continue
		}
		for v := range p.VMs {
			k := "/vms/" + v
			if poolRoles[k] == nil {
				poolRoles[k] = map[string]bool{}
			}
			for r := range pr {
				poolRoles[k][r] = true
			}
		}
		for s := range p.Storage {
			k := "/storage/" + s
			if poolRoles[k] == nil {
				poolRoles[k] = map[string]bool{}
			}
			for r := range pr {
				poolRoles[k][r] = true
			}
		}
	}
	roles := naiveRoles(cfg, authid, path)
	if pr := poolRoles[path]; pr != nil {
		if _, na := roles[RoleNoAccess]; !na {
			if pr[RoleNoAccess] {
				roles = map[string]bool{RoleNoAccess: false}
			} else {
				for r := range pr {
					if _, ok := roles[r]; !ok {
						roles[r] = false
					}
				}
			}
		}
	}
	privs := map[string]bool{}
	for r, prop := range roles {
		if role := cfg.Role(r); role != nil {
			for p := range role.Privs {
				privs[p] = privs[p] || prop
			}
		}
	}
	if intersect {
		out := map[string]bool{}
		for p, prop := range privs {
			if up, ok := ownerPrivs[p]; ok {
				out[p] = up && prop
			}
		}
		privs = out
	}
	return privs
}
