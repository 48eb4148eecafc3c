package api

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/usercfg"
)

// /access/users (API2/User.pm): list, create, read, update, delete.

// userListEntry is one element of GET /access/users.
type userListEntry struct {
	Userid    string           `json:"userid"`
	Enable    int              `json:"enable"`
	Expire    int64            `json:"expire"`
	Firstname string           `json:"firstname,omitempty"`
	Lastname  string           `json:"lastname,omitempty"`
	Email     string           `json:"email,omitempty"`
	Comment   string           `json:"comment,omitempty"`
	Keys      string           `json:"keys,omitempty"`
	RealmType string           `json:"realm-type,omitempty"`
	Groups    *string          `json:"groups,omitempty"` // full only: comma list ("" for none)
	Tokens    []tokenListEntry `json:"tokens,omitempty"` // full only, when the user has tokens
}

// userData is GET /access/users/{userid}.
type userData struct {
	Enable    int                  `json:"enable"`
	Expire    int64                `json:"expire"`
	Firstname string               `json:"firstname,omitempty"`
	Lastname  string               `json:"lastname,omitempty"`
	Email     string               `json:"email,omitempty"`
	Comment   string               `json:"comment,omitempty"`
	Keys      string               `json:"keys,omitempty"`
	Groups    []string             `json:"groups"` // never null
	Tokens    map[string]tokenInfo `json:"tokens"` // null without tokens (Proxmox)
}

// User field parameters of create and update (schema of API2/User.pm).
var (
	pUserEnable    = Param{Name: "enable", Type: TBoolean, Optional: true}
	pUserExpire    = Param{Name: "expire", Type: TInteger, Optional: true, Min: Int64(0)}
	pUserFirstname = Param{Name: "firstname", Optional: true, MaxLength: 1024}
	pUserLastname  = Param{Name: "lastname", Optional: true, MaxLength: 1024}
	pUserEmail     = Param{Name: "email", Optional: true, MaxLength: 254, Format: fmtEmailOpt}
	pUserComment   = Param{Name: "comment", Optional: true, MaxLength: 2048}
	pUserKeys      = Param{Name: "keys", Optional: true, Pattern: accKeysRE, Format: fmtKeysLen}
	pUserGroups    = Param{Name: "groups", Optional: true, Format: accListOf(fmtGroupid), List: true}
	pUserPassword  = Param{Name: "password", Optional: true, MinLength: 8, MaxLength: 64}
	pUserAppend    = Param{Name: "append", Type: TBoolean, Optional: true}
)

var userPrivsList = []string{"User.Modify", "Sys.Audit"}

// accRequires is JSONSchema's "requires": name may only be given with other.
func accRequires(r *Request, name, other string) error {
	if r.Params.Has(name) && !r.Params.Has(other) {
		return ParamErr(other, fmt.Sprintf("missing property - '%s' requires this property", name))
	}
	return nil
}

func (s *AccessState) userEndpoints() []Endpoint {
	declCreate := &perm.Decl{Check: perm.And(perm.UseridParam(perm.UseridRealmAllocateUser),
		perm.UseridGroup([]string{"User.Modify"}, perm.GroupsParam("create")))}
	declRead := &perm.Decl{Check: perm.UseridGroup(userPrivsList)}
	declUpdate := &perm.Decl{Check: perm.UseridGroup([]string{"User.Modify"}, perm.GroupsParam("update"))}
	declDelete := &perm.Decl{Check: perm.And(perm.UseridParam(perm.UseridRealmAllocateUser),
		perm.UseridGroup([]string{"User.Modify"}))}
	preUpdate := func(r *Request) error { return accRequires(r, "append", "groups") }

	return []Endpoint{
		{Method: "GET", Path: "/access/users", Check: s.check(declAll, nil),
			Params:      []Param{{Name: "enabled", Type: TBoolean, Optional: true}, {Name: "full", Type: TBoolean, Optional: true}},
			Description: "List users: all with User.Modify or Sys.Audit on /access/groups, else yourself and members of groups where you have one of them on /access/groups/<group>.",
			Handler:     s.listUsers},
		{Method: "POST", Path: "/access/users", Check: s.check(declCreate, nil),
			Params: []Param{pUserid, pUserEnable, pUserExpire, pUserFirstname, pUserLastname, pUserEmail,
				pUserComment, pUserKeys, pUserGroups, pUserPassword},
			Description: "Create a user (and/or set its initial password, hashed on the receiving node).",
			Handler:     s.createUser},
		{Method: "GET", Path: "/access/users/{userid}", Check: s.check(declRead, nil), Params: []Param{pUserid},
			Description: "Read a user: groups as an array, tokens as an object (null without tokens).",
			Handler:     s.readUser},
		{Method: "PUT", Path: "/access/users/{userid}", Check: s.check(declUpdate, preUpdate),
			Params: []Param{pUserid, pUserEnable, pUserExpire, pUserFirstname, pUserLastname, pUserEmail,
				pUserComment, pUserKeys, pUserGroups, pUserAppend},
			Description: "Update a user; groups replaces the memberships unless append is set.",
			Handler: func(r *Request) (any, error) {
				if err := preUpdate(r); err != nil {
					return nil, err
				}
				return s.updateUser(r)
			}},
		{Method: "DELETE", Path: "/access/users/{userid}", Check: s.check(declDelete, nil), Params: []Param{pUserid},
			Description: "Delete a user with its tokens, memberships, ACL entries and password.",
			Handler:     s.deleteUser},
	}
}

// listUsers is GET /access/users.
func (s *AccessState) listUsers(r *Request) (any, error) {
	cfg, eng, err := s.read(r)
	if err != nil {
		return nil, err
	}
	dom, err := s.Domains()
	if err != nil {
		return nil, err
	}
	me := accAuthid(r)
	all := r.Auth.Root() || eng.Check(me, "/access/groups", userPrivsList, true)
	var allowed map[string]bool
	if !all {
		allowed = map[string]bool{}
		for _, g := range eng.FilterGroups(me, userPrivsList, true) {
			for _, u := range eng.GroupMembers(g) {
				allowed[u] = true
			}
		}
	}
	full := r.Params.Bool("full", false)
	ids := make([]string, 0, cfg.Users.Len())
	for id := range cfg.Users.Keys() {
		if all || id == me || allowed[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]userListEntry, 0, len(ids))
	for _, id := range ids {
		u := cfg.User(id)
		if r.Params.Has("enabled") && u.Enable != r.Params.Bool("enabled", false) {
			continue
		}
		e := userListEntry{Userid: id, Enable: accBool01(u.Enable), Expire: u.Expire, Firstname: u.Firstname,
			Lastname: u.Lastname, Email: u.Email, Comment: u.Comment, Keys: u.Keys, RealmType: realmType(dom, id)}
		if full {
			g := strings.Join(u.Groups.Sorted(), ",")
			e.Groups = &g
			e.Tokens = tokenList(u)
		}
		out = append(out, e)
	}
	return out, nil
}

// realmType is the type of the realm of a user id, "" if the realm is not
// configured.
func realmType(d *domains.Domains, userid string) string {
	if r, ok := d.Realm(ident.Userid(userid).Realm().String()); ok {
		return r.Type()
	}
	return ""
}

// accLookupUser returns a user or Proxmox's "no such user ('X')" (500).
func accLookupUser(cfg *usercfg.Config, userid string) (*usercfg.User, error) {
	u := cfg.User(userid)
	if u == nil {
		return nil, accDie("no such user ('%s')", userid)
	}
	return u, nil
}

// readUser is GET /access/users/{userid}.
func (s *AccessState) readUser(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	u, err := accLookupUser(cfg, r.Params.Get("userid"))
	if err != nil {
		return nil, err
	}
	d := userData{Enable: accBool01(u.Enable), Expire: u.Expire, Firstname: u.Firstname, Lastname: u.Lastname,
		Email: u.Email, Comment: u.Comment, Keys: u.Keys, Groups: u.Groups.Sorted()}
	if d.Groups == nil {
		d.Groups = []string{}
	}
	if u.Tokens.Len() > 0 {
		d.Tokens = make(map[string]tokenInfo, u.Tokens.Len())
		for sub, t := range u.Tokens.All() {
			d.Tokens[sub] = newTokenInfo(t)
		}
	}
	return d, nil
}

// accOptString returns a pointer to a given parameter, nil if absent.
func accOptString(p Params, name string) *string {
	if v, ok := p[name]; ok {
		return &v
	}
	return nil
}

func accOptBool(p Params, name string) *bool {
	if _, ok := p[name]; ok {
		v := p.Bool(name, false)
		return &v
	}
	return nil
}

func accOptInt(p Params, name string) *int64 {
	if _, ok := p[name]; ok {
		v := p.Int(name, 0)
		return &v
	}
	return nil
}

// createUser is POST /access/users.
func (s *AccessState) createUser(r *Request) (any, error) {
	p := r.Params
	body := mutate.UserCreate{Userid: p.Get("userid"), Enable: accOptBool(p, "enable"), Expire: p.Int("expire", 0),
		Firstname: p.Get("firstname"), Lastname: p.Get("lastname"), Email: p.Get("email"),
		Comment: p.Get("comment"), Keys: p.Get("keys"), Groups: ident.SplitList(p.Get("groups"))}
	locks := []string{LockUserCfg}
	if pw, ok := p["password"]; ok {
		salt, err := shadow.NewSalt()
		if err != nil {
			return nil, accDie("create user failed: unable to generate salt: %v", err)
		}
		body.PasswordHash = shadow.Hash(pw, salt)
		locks = append(locks, LockShadowCfg)
	}
	_, err := s.apply(r, accMutation{op: mutate.OpUserCreate, body: body, locks: locks, prefix: "create user failed"})
	return nil, err
}

// updateUser is PUT /access/users/{userid}.
func (s *AccessState) updateUser(r *Request) (any, error) {
	p := r.Params
	body := mutate.UserUpdate{Userid: p.Get("userid"), Enable: accOptBool(p, "enable"), Expire: accOptInt(p, "expire"),
		Firstname: accOptString(p, "firstname"), Lastname: accOptString(p, "lastname"), Email: accOptString(p, "email"),
		Comment: accOptString(p, "comment"), Keys: accOptString(p, "keys"), Append: p.Bool("append", false)}
	if p.Has("groups") {
		g := ident.SplitList(p.Get("groups"))
		if g == nil {
			g = []string{}
		}
		body.Groups = &g
	}
	_, err := s.apply(r, accMutation{op: mutate.OpUserUpdate, body: body, locks: []string{LockUserCfg}, prefix: "update user failed"})
	return nil, err
}

// deleteUser is DELETE /access/users/{userid}.
func (s *AccessState) deleteUser(r *Request) (any, error) {
	body := mutate.UserDelete{Userid: r.Params.Get("userid")}
	_, err := s.apply(r, accMutation{op: mutate.OpUserDelete, body: body,
		locks: []string{LockUserCfg, LockTokenCfg, LockShadowCfg}, prefix: "delete user failed"})
	return nil, err
}
