package perm

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
)

// flagMap renders computed privileges the way the API returns them:
// privilege -> propagate flag as 0/1.
func (e *Engine) flagMap(p grant) map[string]int {
	m := make(map[string]int)
	p.set.each(func(i int) {
		v := 0
		if p.prop.has(i) {
			v = 1
		}
		m[e.privNames[i]] = v
	})
	return m
}

// EffectivePermissions returns what GET /access/permissions answers for
// authid: with a path (non-empty and not "0", as Perl tests it),
// {path: privileges of authid on path}, the path as given and present even
// when empty; without one, Proxmox's get_effective_permissions: the
// privileges on every path that matters (/, /access, /access/groups, /nodes,
// /pool, /sdn, /storage, /vms, every node of the ACL tree, /vms/<id> and
// /storage/<id> of every pool member), leaving out paths with none.
func (e *Engine) EffectivePermissions(authid, path string) map[string]map[string]int {
	if !perlFalse(path) {
		return map[string]map[string]int{path: e.flagMap(e.privsFor(authid, path))}
	}
	res := make(map[string]map[string]int)
	for _, p := range e.effPaths {
		if g := e.privsFor(authid, p); !g.set.empty() {
			res[p] = e.flagMap(g)
		}
	}
	return res
}

// PermissionsFor is the handler logic of GET /access/permissions as a pure
// function. params may hold "userid" (the user or token to report; the
// caller when absent) and "path". A caller may read its own permissions and
// those of tokens it owns; anything else needs Sys.Audit on /access, and
// lacking it is the 403 error Proxmox raises. Parameter validation (the
// userid pattern) is the REST layer's job.
func PermissionsFor(e *Engine, authid string, params map[string]string) (map[string]map[string]int, error) {
	userid, ok := params["userid"]
	if !ok {
		userid = authid
	}
	self := userid == authid
	owned := false
	if owner, _, err := ident.SplitTokenID(userid); err == nil && string(owner) == authid {
		owned = true
	}
	if !self && !owned {
		if err := e.Require(authid, "/access", []string{"Sys.Audit"}, false); err != nil {
			return nil, err
		}
	}
	return e.EffectivePermissions(userid, params["path"]), nil
}

// apiCapBuckets maps the top-level word of a path to the privileges that
// count for it in the login "cap" object (compute_api_permission).
var apiCapBuckets = map[string]func(priv string) bool{
	"vms": func(p string) bool { return strings.HasPrefix(p, "VM.") || strings.HasPrefix(p, "Permissions.Modify") },
	"access": func(p string) bool {
		return strings.HasPrefix(p, "User.") || strings.HasPrefix(p, "Group.") || strings.HasPrefix(p, "Permissions.Modify")
	},
	"storage": func(p string) bool {
		return strings.HasPrefix(p, "Datastore.") || strings.HasPrefix(p, "Permissions.Modify")
	},
	"nodes": func(p string) bool { return strings.HasPrefix(p, "Sys.") || strings.HasPrefix(p, "Permissions.Modify") },
	"sdn":   func(p string) bool { return strings.HasPrefix(p, "SDN.") || strings.HasPrefix(p, "Permissions.Modify") },
	"dc": func(p string) bool {
		return strings.HasPrefix(p, "Sys.Audit") || strings.HasPrefix(p, "Sys.Modify") || strings.HasPrefix(p, "SDN.")
	},
	// Proxmox's pattern is Permissions.Modify with an unescaped dot; no
	// privilege name tells the difference.
	"mapping": func(p string) bool {
		return strings.HasPrefix(p, "Mapping.") || strings.HasPrefix(p, "Permissions.Modify")
	},
}

// topLevel returns the word after the leading "/" (Perl's ^/(\w+)), or "dc".
func topLevel(path string) string {
	if len(path) < 2 || path[0] != '/' {
		return "dc"
	}
	i := 1
	for i < len(path) {
		c := path[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			break
		}
		i++
	}
	if i == 1 {
		return "dc"
	}
	return path[1:i]
}

// APIPermissions returns the "cap" object of a login answer for authid
// (Proxmox's compute_api_permission): for each of access, dc, mapping,
// nodes, sdn, storage and vms, the privileges that authid has on a path of
// that area (/, /nodes, /access/groups, /vms, /storage, /sdn, /mapping and
// every ACL tree node), each with value 1. Privileges on /pool/... paths
// count for vms (VM.*), storage (Datastore.*) or both (Permissions.Modify).
func (e *Engine) APIPermissions(authid string) map[string]map[string]int {
	res := make(map[string]map[string]int, len(apiCapBuckets))
	for k := range apiCapBuckets {
		res[k] = map[string]int{}
	}
	seen := make(map[string]bool)
	visit := func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		g := e.privsFor(authid, path)
		top := topLevel(path)
		g.set.each(func(i int) {
			priv := e.privNames[i]
			if top == "pool" {
				switch {
				case strings.HasPrefix(priv, "VM."):
					res["vms"][priv] = 1
				case strings.HasPrefix(priv, "Datastore."):
					res["storage"][priv] = 1
				case priv == "Permissions.Modify":
					res["storage"][priv] = 1
					res["vms"][priv] = 1
				}
				return
			}
			if match := apiCapBuckets[top]; match != nil && match(priv) {
				res[top][priv] = 1
			}
		})
	}
	for _, p := range []string{"/", "/nodes", "/access/groups", "/vms", "/storage", "/sdn", "/mapping"} {
		visit(p)
	}
	for _, p := range e.aclPaths {
		visit(p)
	}
	return res
}
