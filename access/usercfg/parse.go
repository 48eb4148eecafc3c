package usercfg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg/pmap"
)

// Parse reads user.cfg like parse_user_config and returns the model and the
// parser's warnings in Proxmox's words and order ("user config - ...").
// It never fails: what it cannot use is dropped with a warning. data may be
// nil. The model is canonical: rendering it and parsing the result again
// gives the same model (see doc.go for the few places where that makes it
// differ from the Perl parser's in-memory result).
func Parse(data []byte) (*Config, []string) {
	p := parser{cfg: &Config{ACL: &ACLNode{}}}
	p.users.Set("root@pam", &User{Enable: true})
	for k, v := range builtinRoles.All() {
		p.roles.Set(k, v)
	}
	s := string(data)
	for len(s) > 0 {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = trimSpace(line)
		if line == "" {
			continue
		}
		p.line(line)
	}
	p.finish()
	return p.cfg, p.warnings
}

type parser struct {
	// cfg receives the ACL tree while parsing and the maps in finish.
	cfg *Config
	// The maps are collected in builders and made persistent once.
	users    pmap.Builder[*User]
	groups   pmap.Builder[*Group]
	roles    pmap.Builder[*Role]
	pools    pmap.Builder[*Pool]
	vms      pmap.Builder[string]
	memberOf pmap.Builder[Set]
	// kids collects each ACL node's children; finish makes them
	// persistent (a Builder per node would cost more than the plain map).
	kids     map[*ACLNode]map[string]*ACLNode
	warnings []string
	fields   []string
	// replaced is set when a user line replaced an earlier definition (and
	// with it that user's tokens).
	replaced bool
}

func (p *parser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, "user config - "+fmt.Sprintf(format, args...))
}

// trimSpace trims Perl \s (ASCII whitespace) from both ends.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && ident.IsSpace(s[i]) {
		i++
	}
	for j > i && ident.IsSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// splitFields splits like Perl split(/:/, $line) (trailing empty fields
// dropped) and trims every field.
func (p *parser) splitFields(line string) []string {
	f := p.fields[:0]
	for {
		i := strings.IndexByte(line, ':')
		if i < 0 {
			f = append(f, trimSpace(line))
			break
		}
		f = append(f, trimSpace(line[:i]))
		line = line[i+1:]
	}
	// Perl drops trailing empty fields before trimming; a field that is
	// only whitespace is kept as "" and then reads like an absent one.
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	p.fields = f
	return f
}

func field(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func (p *parser) line(line string) {
	f := p.splitFields(line)
	switch field(f, 0) {
	case "user":
		p.user(f)
	case "group":
		p.group(f)
	case "role":
		p.role(f)
	case "acl":
		p.acl(f)
	case "pool":
		p.pool(f)
	case "token":
		p.token(f)
	default:
		p.warn("ignore config line: %s", line)
	}
}

// parseExpire reads an expire field: false values are 0, anything else must
// be decimal digits. Values beyond int64 are refused.
func parseExpire(s string) (int64, bool) {
	if !truthy(s) {
		return 0, true
	}
	if !ident.IsPoolVMID(s) {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimLeft(s, "0"), 10, 64)
	if err != nil {
		if strings.TrimLeft(s, "0") == "" {
			return 0, true
		}
		return 0, false
	}
	return v, true
}

func (p *parser) user(f []string) {
	id := field(f, 1)
	if !ident.IsUsername(id) {
		p.warn("ignore user '%s' - invalid user name", id)
		return
	}
	expire, ok := parseExpire(field(f, 3))
	if !ok {
		p.warn("ignore user '%s' - (illegal characters in expire '%s')", id, field(f, 3))
		return
	}
	u := &User{Enable: truthy(field(f, 2)), Expire: expire}
	if v := field(f, 4); truthy(v) {
		u.Firstname = canonText(DecodeText(v))
	}
	if v := field(f, 5); truthy(v) {
		u.Lastname = canonText(DecodeText(v))
	}
	if v := field(f, 6); truthy(v) {
		u.Email = v
	}
	if v := field(f, 7); truthy(v) {
		u.Comment = canonText(DecodeText(v))
	}
	if v := field(f, 8); truthy(v) {
		u.Keys = v
	}
	if old, ok := p.users.Get(id); ok && old.Tokens.Len() > 0 {
		p.replaced = true
	}
	p.users.Set(id, u)
}

// listMember reports whether a list item can be stored as a user or token
// member: one that contains ',' or ';' (possible only in a NUL-separated
// list) would be split apart by the next read after a write.
func listMember(s string) bool {
	return strings.IndexByte(s, ',') < 0 && strings.IndexByte(s, ';') < 0
}

func (p *parser) group(f []string) {
	id := field(f, 1)
	if !ident.IsGroupID(id) || id == "0" {
		p.warn("ignore group '%s' - invalid characters in group name", id)
		return
	}
	g := p.groups.Value(id)
	if g == nil {
		g = &Group{Users: Set{}}
		p.groups.Set(id, g)
	}
	if v := field(f, 3); truthy(v) {
		g.Comment = canonText(DecodeText(v))
	}
	for _, m := range ident.SplitList(field(f, 2)) {
		if !ident.IsUsername(m) || !listMember(m) {
			p.warn("ignore invalid group member '%s'", m)
			continue
		}
		if !p.users.Has(m) {
			p.warn("ignore invalid group member '%s'", m)
		}
		g.Users[m] = struct{}{}
	}
}

func (p *parser) role(f []string) {
	id := field(f, 1)
	if !ident.IsRoleID(id) || id == "0" {
		p.warn("ignore role '%s' - invalid characters in role name", id)
		return
	}
	// A built-in role keeps its fixed privileges: the line is checked but
	// has no effect (upstream it would modify the process-wide built-in).
	builtin := privs.IsBuiltin(id)
	var r *Role
	if !builtin {
		r = p.roles.Value(id)
		if r == nil {
			r = &Role{Privs: Set{}}
			p.roles.Set(id, r)
		}
	}
	for _, priv := range ident.SplitList(field(f, 2)) {
		if !privs.IsValid(priv) {
			p.warn("ignore invalid privilege '%s'", priv)
			continue
		}
		if r != nil {
			r.Privs[priv] = struct{}{}
		}
	}
}

// node returns the ACL node of a normalised path, creating it.
func (p *parser) node(path string) *ACLNode {
	n := p.cfg.ACL
	for _, comp := range ident.SplitPath(path) {
		kids := p.kids[n]
		c := kids[comp]
		if c == nil {
			if kids == nil {
				if p.kids == nil {
					p.kids = map[*ACLNode]map[string]*ACLNode{}
				}
				kids = map[string]*ACLNode{}
				p.kids[n] = kids
			}
			c = &ACLNode{}
			kids[comp] = c
		}
		n = c
	}
	return n
}

func setRole(m *map[string]RoleMap, member, role string, propagate bool) {
	if *m == nil {
		*m = map[string]RoleMap{}
	}
	r := (*m)[member]
	if r == nil {
		r = RoleMap{}
		(*m)[member] = r
	}
	r[role] = propagate
}

func (p *parser) acl(f []string) {
	propagate := truthy(field(f, 1))
	raw := field(f, 2)
	path, ok := ident.NormalizePath(raw)
	if !ok {
		p.warn("ignore invalid path in acl '%s'", raw)
		return
	}
	var node *ACLNode
	get := func() *ACLNode {
		if node == nil {
			node = p.node(path)
		}
		return node
	}
	members := ident.SplitList(field(f, 3))
	for _, role := range ident.SplitList(field(f, 4)) {
		if !ident.IsRoleID(role) || role == "0" {
			p.warn("ignore invalid role name '%s' in acl", role)
			continue
		}
		if p.roles.Value(role) == nil {
			p.warn("ignore invalid acl role '%s'", role)
			continue
		}
		for _, m := range members {
			if !listMember(m) {
				p.warn("invalid user/group '%s' in acl", m)
				continue
			}
			if len(m) > 1 && m[0] == '@' && ident.IsGroupID(m[1:]) && m[1:] != "0" {
				g := m[1:]
				if !p.groups.Has(g) {
					p.warn("ignore invalid acl group '%s'", g)
				}
				setRole(&get().Groups, g, role, propagate)
				continue
			}
			if ident.IsUsername(m) {
				if !p.users.Has(m) {
					p.warn("ignore invalid acl member '%s'", m)
				}
				// root@pam entries are never written (root is always
				// Administrator), so they are not kept either.
				if m != "root@pam" {
					setRole(&get().Users, m, role, propagate)
				}
				continue
			}
			if user, tok, err := ident.SplitTokenID(m); err == nil {
				if p.tokenExists(string(user), string(tok)) {
					setRole(&get().Tokens, m, role, propagate)
				} else {
					p.warn("ignore invalid acl token '%s'", m)
				}
				continue
			}
			p.warn("invalid user/group '%s' in acl", m)
		}
	}
}

func (p *parser) tokenExists(user, tok string) bool {
	u := p.users.Value(user)
	if u == nil {
		return false
	}
	return u.Tokens.Has(tok)
}

func (p *parser) ensurePool(id string) *Pool {
	pl := p.pools.Value(id)
	if pl == nil {
		pl = &Pool{VMs: Set{}, Storage: Set{}, Pools: Set{}}
		p.pools.Set(id, pl)
	}
	return pl
}

// normVMID is Perl's int() of a digit string: leading zeros go. Values that
// do not fit 64 bits (Perl would print them as floats) are refused.
func normVMID(s string) (string, bool) {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0", true
	}
	if _, err := strconv.ParseUint(t, 10, 64); err != nil {
		return "", false
	}
	return t, true
}

func (p *parser) pool(f []string) {
	id := field(f, 1)
	if !ident.IsPoolID(id) || id == "0" {
		p.warn("ignore pool '%s' - invalid characters in pool name", id)
		return
	}
	pl := p.ensurePool(id)
	for cur := id; ; {
		i := strings.LastIndexByte(cur, '/')
		if i <= 0 {
			break
		}
		parent := cur[:i]
		p.pools.Value(cur).Parent = parent
		p.ensurePool(parent).Pools[cur] = struct{}{}
		cur = parent
	}
	if v := field(f, 2); truthy(v) {
		pl.Comment = canonText(DecodeText(v))
	}
	for _, raw := range ident.SplitList(field(f, 3)) {
		vmid, ok := "", ident.IsPoolVMID(raw)
		if ok {
			vmid, ok = normVMID(raw)
		}
		if !ok {
			p.warn("ignore invalid vmid '%s' in pool '%s'", raw, id)
			continue
		}
		if p.vms.Has(vmid) {
			p.warn("ignore duplicate vmid '%s' in pool '%s'", vmid, id)
			continue
		}
		pl.VMs[vmid] = struct{}{}
		p.vms.Set(vmid, id)
	}
	for _, sid := range ident.SplitList(field(f, 4)) {
		if !ident.IsStorageID(sid) {
			p.warn("ignore invalid storage '%s' in pool '%s'", sid, id)
			continue
		}
		pl.Storage[sid] = struct{}{}
	}
}

func (p *parser) token(f []string) {
	id := field(f, 1)
	user, tok, err := ident.SplitTokenID(id)
	if err != nil {
		p.warn("ignore invalid tokenid '%s'", id)
		return
	}
	expire, ok := parseExpire(field(f, 2))
	if !ok {
		p.warn("ignore token '%s' - (illegal characters in expire '%s')", id, field(f, 2))
		return
	}
	u := p.users.Value(string(user))
	if u == nil {
		p.warn("ignore token '%s' - user does not exist", id)
		return
	}
	// Most users have a few tokens: Set (O(log n)) is cheaper here than
	// a Builder per user.
	t := u.Tokens.Value(string(tok))
	if t == nil {
		t = &Token{}
		u.Tokens = u.Tokens.Set(string(tok), t)
	}
	t.Privsep = truthy(field(f, 3))
	t.Expire = expire
	if v := field(f, 4); truthy(v) {
		t.Comment = canonText(DecodeText(v))
	}
}

// finish derives the users' group sets (and those of members that are not
// users) and, if a user line replaced an earlier one with tokens, drops ACL
// entries of tokens that no longer exist, and builds the persistent maps.
func (p *parser) finish() {
	for gid, g := range p.groups.All() {
		for m := range g.Users {
			if u := p.users.Value(m); u != nil {
				if u.Groups == nil {
					u.Groups = Set{}
				}
				u.Groups[gid] = struct{}{}
				continue
			}
			s := p.memberOf.Value(m)
			if s == nil {
				s = Set{}
				p.memberOf.Set(m, s)
			}
			s[gid] = struct{}{}
		}
	}
	if p.replaced {
		p.pruneTokens(p.cfg.ACL)
	}
	for n, kids := range p.kids {
		n.Children = pmap.From(kids)
	}
	p.cfg.Users = p.users.Map()
	p.cfg.Groups = p.groups.Map()
	p.cfg.Roles = p.roles.Map()
	p.cfg.Pools = p.pools.Map()
	p.cfg.VMs = p.vms.Map()
	p.cfg.MemberOf = p.memberOf.Map()
}

// pruneTokens removes entries of missing tokens and reports whether n is
// empty afterwards; empty children are removed.
func (p *parser) pruneTokens(n *ACLNode) bool {
	for tid := range n.Tokens {
		user, tok, _ := ident.SplitTokenID(tid)
		if !p.tokenExists(string(user), string(tok)) {
			delete(n.Tokens, tid)
		}
	}
	kids := p.kids[n]
	for k, c := range kids {
		if p.pruneTokens(c) {
			delete(kids, k)
		}
	}
	return len(n.Users) == 0 && len(n.Groups) == 0 && len(n.Tokens) == 0 && len(kids) == 0
}
