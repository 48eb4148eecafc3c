package usercfg

import (
	"bytes"
	"sort"
	"strconv"

	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/cfs"
)

// Render writes the configuration byte-exactly like write_user_config:
// users (each followed by its tokens), groups, pools, non-built-in roles and
// ACLs, sections sorted by byte order and separated by "\n", ACLs in tree
// order with members of equal role lists merged, propagate 0 lines before 1,
// and no root@pam user ACL entries.
func (c *Config) Render() []byte {
	var b bytes.Buffer
	b.Grow(c.sizeHint())

	for id, u := range c.Users.All() {
		if u == nil {
			continue
		}
		b.WriteString("user:")
		b.WriteString(id)
		b.WriteByte(':')
		b.WriteString(flag(u.Enable))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(u.Expire, 10))
		b.WriteByte(':')
		writeText(&b, u.Firstname)
		b.WriteByte(':')
		writeText(&b, u.Lastname)
		b.WriteByte(':')
		if truthy(u.Email) {
			b.WriteString(u.Email)
		}
		b.WriteByte(':')
		writeText(&b, u.Comment)
		b.WriteByte(':')
		if truthy(u.Keys) {
			b.WriteString(u.Keys)
		}
		b.WriteString(":\n")
		for tid, t := range u.Tokens.All() {
			if t == nil {
				continue
			}
			b.WriteString("token:")
			b.WriteString(id)
			b.WriteByte('!')
			b.WriteString(tid)
			b.WriteByte(':')
			b.WriteString(strconv.FormatInt(t.Expire, 10))
			b.WriteByte(':')
			b.WriteString(flag(t.Privsep))
			b.WriteByte(':')
			writeText(&b, t.Comment)
			b.WriteString(":\n")
		}
	}
	b.WriteByte('\n')

	for id, g := range c.Groups.All() {
		if g == nil {
			continue
		}
		b.WriteString("group:")
		b.WriteString(id)
		b.WriteByte(':')
		writeList(&b, g.Users)
		b.WriteByte(':')
		writeText(&b, g.Comment)
		b.WriteString(":\n")
	}
	b.WriteByte('\n')

	for id, p := range c.Pools.All() {
		if p == nil {
			continue
		}
		b.WriteString("pool:")
		b.WriteString(id)
		b.WriteByte(':')
		writeText(&b, p.Comment)
		b.WriteByte(':')
		writeList(&b, p.VMs)
		b.WriteByte(':')
		writeList(&b, p.Storage)
		b.WriteString(":\n")
	}
	b.WriteByte('\n')

	for id, r := range c.Roles.All() {
		if privs.IsBuiltin(id) {
			continue
		}
		b.WriteString("role:")
		b.WriteString(id)
		b.WriteByte(':')
		if r != nil {
			writeList(&b, r.Privs)
		}
		b.WriteString(":\n")
	}
	b.WriteByte('\n')

	c.ACL.Walk(func(path string, n *ACLNode) { writeACLNode(&b, path, n) })
	return b.Bytes()
}

func (c *Config) sizeHint() int {
	n := 64 + 80*c.Users.Len() + 40*c.Groups.Len() + 40*c.Pools.Len() + 60*c.Roles.Len()
	for _, u := range c.Users.All() {
		if u != nil {
			n += 48 * u.Tokens.Len()
		}
	}
	return n
}

func flag(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// writeText writes a text field: encoded if it is true in Perl's sense.
func writeText(b *bytes.Buffer, s string) {
	if truthy(s) {
		b.WriteString(EncodeText(s))
	}
}

func writeList(b *bytes.Buffer, s Set) {
	for i, k := range s.Sorted() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// joinRoles joins sorted role names as the writer does: a comma goes before
// a name only when the list so far is true in Perl's sense.
func joinRoles(dst []byte, role string) []byte {
	if truthy(string(dst)) {
		dst = append(dst, ',')
	}
	return append(dst, role...)
}

func writeACLNode(b *bytes.Buffer, path string, n *ACLNode) {
	if n == nil || len(n.Users) == 0 && len(n.Groups) == 0 && len(n.Tokens) == 0 {
		return
	}
	// byFlag[propagate][rolelist] = members
	var byFlag [2]map[string][]string
	collect := func(members map[string]RoleMap, prefix, exclude string) {
		for m, roles := range members {
			if exclude != "" && m == exclude {
				continue
			}
			var l [2][]byte
			for _, r := range sortedKeys(roles) {
				i := 0
				if roles[r] {
					i = 1
				}
				l[i] = joinRoles(l[i], r)
			}
			for i := 0; i < 2; i++ {
				if !truthy(string(l[i])) {
					continue
				}
				if byFlag[i] == nil {
					byFlag[i] = map[string][]string{}
				}
				byFlag[i][string(l[i])] = append(byFlag[i][string(l[i])], prefix+m)
			}
		}
	}
	collect(n.Groups, "@", "")
	collect(n.Users, "", "root@pam")
	collect(n.Tokens, "", "")
	for i := 0; i < 2; i++ {
		for _, rl := range sortedKeys(byFlag[i]) {
			ms := byFlag[i][rl]
			sort.Strings(ms)
			b.WriteString("acl:")
			b.WriteString(strconv.Itoa(i))
			b.WriteByte(':')
			b.WriteString(path)
			b.WriteByte(':')
			for j, m := range ms {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(m)
			}
			b.WriteByte(':')
			b.WriteString(rl)
			b.WriteString(":\n")
		}
	}
}

// Format returns the cfs registration of user.cfg.
func Format() cfs.Format {
	return cfs.Format{Path: "user.cfg", Parse: parseModel}
}

func parseModel(data []byte) (cfs.Model, []string, error) {
	c, w := Parse(data)
	return c, w, nil
}

var _ cfs.Model = (*Config)(nil)
