package mutate

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// UserCreate is POST /access/users. Text fields are stored only if true in
// Perl's sense (not "" or "0"), as Proxmox does.
type UserCreate struct {
	// Userid is the new user, "name@realm".
	Userid string `json:"userid"`
	// Enable defaults to true.
	Enable *bool `json:"enable,omitempty"`
	// Expire is the expiry in epoch seconds (0 = never).
	Expire int64 `json:"expire,omitempty"`
	// Firstname is the first name.
	Firstname string `json:"firstname,omitempty"`
	// Lastname is the last name.
	Lastname string `json:"lastname,omitempty"`
	// Email is the e-mail address (format email-opt).
	Email string `json:"email,omitempty"`
	// Comment is the comment.
	Comment string `json:"comment,omitempty"`
	// Keys is the two-factor keys field.
	Keys string `json:"keys,omitempty"`
	// Groups lists groups to join; each must exist.
	Groups []string `json:"groups,omitempty"`
	// PasswordHash is the initial password as a crypt(3) hash, made before
	// the log (shadow.Hash); empty for none.
	PasswordHash string `json:"password-hash,omitempty"`
}

// UserUpdate is PUT /access/users/{userid}. A nil field is not changed; a
// set one is stored (an empty string clears the field).
type UserUpdate struct {
	// Userid is the user to change.
	Userid string `json:"userid"`
	// Enable sets the enable flag.
	Enable *bool `json:"enable,omitempty"`
	// Expire sets the expiry (epoch seconds, 0 = never).
	Expire *int64 `json:"expire,omitempty"`
	// Firstname sets the first name.
	Firstname *string `json:"firstname,omitempty"`
	// Lastname sets the last name.
	Lastname *string `json:"lastname,omitempty"`
	// Email sets the e-mail address.
	Email *string `json:"email,omitempty"`
	// Comment sets the comment.
	Comment *string `json:"comment,omitempty"`
	// Keys sets the two-factor keys field.
	Keys *string `json:"keys,omitempty"`
	// Groups, if set, replaces the user's groups (or, with Append, adds to
	// them); an empty list leaves the user in no group.
	Groups *[]string `json:"groups,omitempty"`
	// Append adds Groups instead of replacing; it requires Groups.
	Append bool `json:"append,omitempty"`
}

// UserDelete is DELETE /access/users/{userid}.
type UserDelete struct {
	// Userid is the user to delete.
	Userid string `json:"userid"`
}

func checkGroupList(param string, list []string) error {
	for _, g := range list {
		if err := checkGroupid(param, g); err != nil {
			return err
		}
	}
	return nil
}

// lookupUser finds an existing user the way lookup_username does: exactly,
// or case-insensitively for a realm with case-sensitive 0 (the first match
// in byte order when several exist).
func lookupUser(cfg *usercfg.Config, m Models, id string) (string, bool) {
	if cfg.Users.Has(id) {
		return id, true
	}
	realm, ok := m.domains().Realm(string(ident.Userid(id).Realm()))
	if !ok || realm.CaseSensitive() {
		return "", false
	}
	want := strings.ToLower(id)
	for u := range cfg.Users.Keys() { // in byte order
		if strings.ToLower(u) == want {
			return u, true
		}
	}
	return "", false
}

// setPassword stores a password hash for userid through its realm's plugin:
// pve → priv/shadow.cfg, pam → priv/pam-shadow.cfg, keyed by the bare user
// name; any other realm type cannot store passwords.
func setPassword(m Models, userid, hash string) (Models, error) {
	uid := ident.Userid(userid)
	realmName, name := string(uid.Realm()), uid.Name()
	realm, ok := m.domains().Realm(realmName)
	if !ok {
		return m, die(cfs.CodeNotFound, "auth domain '%s' does not exist", realmName)
	}
	switch realm.Type() {
	case "pve":
		s, err := m.Shadow.With(name, hash)
		if err != nil {
			return m, invalid("%v", err)
		}
		m.Shadow = s
	case "pam":
		s, err := m.PAMShadow.With(name, hash)
		if err != nil {
			return m, invalid("%v", err)
		}
		m.PAMShadow = s
	default:
		return m, die("", "can't set password on auth type '%s'", realm.Type())
	}
	return m, nil
}

// CreateUser adds a user as POST /access/users does: it must not exist yet
// (case-insensitively in a case-insensitive realm), the listed groups must
// exist, and a password hash goes to the realm's shadow file. The user joins
// the listed groups and any group that already names it. Errors carry
// "create user failed: ..." (HTTP 500) or are parameter errors.
func CreateUser(m Models, r UserCreate) (Models, error) {
	exp := r.Expire
	if err := firstErr(
		checkUserid("userid", r.Userid),
		checkExpire("expire", &exp),
		checkMaxLen("firstname", &r.Firstname, maxNameLen),
		checkMaxLen("lastname", &r.Lastname, maxNameLen),
		checkMaxLen("comment", &r.Comment, maxUserCommentLen),
		checkEmail("email", &r.Email),
		checkKeys("keys", &r.Keys),
		checkGroupList("groups", r.Groups),
	); err != nil {
		return m, err
	}
	if r.PasswordHash != "" {
		if err := checkPasswordHash(r.PasswordHash); err != nil {
			return m, err
		}
	}
	fail := func(err error) (Models, error) { return m, locked("create user failed", err) }
	cfg := m.users()
	id := r.Userid
	if existing, ok := lookupUser(cfg, m, id); ok {
		return fail(die(cfs.CodeExists, "user '%s' already exists", existing))
	}
	out := m
	if r.PasswordHash != "" {
		var err error
		if out, err = setPassword(out, id, r.PasswordHash); err != nil {
			return fail(err)
		}
	}
	u := &usercfg.User{Enable: r.Enable == nil || *r.Enable, Expire: r.Expire}
	if truthy(r.Firstname) {
		u.Firstname = canonText(r.Firstname)
	}
	if truthy(r.Lastname) {
		u.Lastname = canonText(r.Lastname)
	}
	if truthy(r.Email) {
		u.Email = canonRaw(r.Email)
	}
	if truthy(r.Comment) {
		u.Comment = canonText(r.Comment)
	}
	if truthy(r.Keys) {
		u.Keys = canonRaw(r.Keys)
	}
	// Groups that already list the name (members need not be defined
	// users) count the new user in, as the next read of the file would;
	// MemberOf has them, so no group is scanned.
	if s := cfg.MemberOf.Value(id); len(s) > 0 {
		u.Groups = s.Clone()
	}
	e := newEdit(cfg)
	e.putUser(id, u)
	e.c.MemberOf = e.c.MemberOf.Delete(id)
	for _, gid := range r.Groups {
		if cfg.Group(gid) == nil {
			return fail(die(cfs.CodeNotFound, "no such group '%s'", gid))
		}
		e.addMember(gid, id)
	}
	out.Users = e.result()
	return out, nil
}

// UpdateUser changes a user as PUT /access/users/{userid} does. Errors carry
// "update user failed: ..." (HTTP 500) or are parameter errors.
func UpdateUser(cfg *usercfg.Config, r UserUpdate) (*usercfg.Config, error) {
	var groups []string
	if r.Groups != nil {
		groups = *r.Groups
	}
	if err := firstErr(
		checkUserid("userid", r.Userid),
		checkExpire("expire", r.Expire),
		checkMaxLen("firstname", r.Firstname, maxNameLen),
		checkMaxLen("lastname", r.Lastname, maxNameLen),
		checkMaxLen("comment", r.Comment, maxUserCommentLen),
		checkEmail("email", r.Email),
		checkKeys("keys", r.Keys),
		checkGroupList("groups", groups),
	); err != nil {
		return cfg, err
	}
	if r.Append && r.Groups == nil {
		return cfg, paramErr("groups", "missing property - 'append' requires this property")
	}
	fail := func(err error) (*usercfg.Config, error) { return cfg, locked("update user failed", err) }
	if cfg == nil {
		cfg = usercfg.New()
	}
	id := r.Userid
	old := cfg.User(id)
	if old == nil {
		return fail(die(cfs.CodeNotFound, "no such user ('%s')", id))
	}
	e := newEdit(cfg)
	u := e.user(id)
	if r.Enable != nil {
		u.Enable = *r.Enable
	}
	if r.Expire != nil {
		u.Expire = *r.Expire
	}
	if r.Groups != nil && !r.Append {
		for gid := range old.Groups {
			e.removeMember(gid, id)
		}
	}
	for _, gid := range groups {
		if cfg.Group(gid) == nil {
			return fail(die(cfs.CodeNotFound, "no such group '%s'", gid))
		}
		e.addMember(gid, id)
	}
	if r.Firstname != nil {
		u.Firstname = canonText(*r.Firstname)
	}
	if r.Lastname != nil {
		u.Lastname = canonText(*r.Lastname)
	}
	if r.Email != nil {
		u.Email = canonRaw(*r.Email)
	}
	if r.Comment != nil {
		u.Comment = canonText(*r.Comment)
	}
	if r.Keys != nil {
		u.Keys = canonRaw(*r.Keys)
	}
	return e.result(), nil
}

// DeleteUser removes a user as DELETE /access/users/{userid} does, and with
// it everything that names it: its group memberships, its ACL entries and
// those of its tokens, its token secrets in token.cfg and, for the pve
// realm, its password in shadow.cfg. Deleting root@pam resets it to the
// default entry (enabled, no fields, no tokens), which is what Proxmox's
// next read of the file yields. Errors carry "delete user failed: ...".
func DeleteUser(m Models, r UserDelete) (Models, error) {
	if err := checkUserid("userid", r.Userid); err != nil {
		return m, err
	}
	cfg := m.users()
	id := r.Userid
	u := cfg.User(id)
	if u == nil {
		return m, locked("delete user failed", die(cfs.CodeNotFound, "no such user ('%s')", id))
	}
	e := newEdit(cfg)
	for gid := range u.Groups {
		e.removeMember(gid, id)
	}
	f := aclFilter{user: id}
	for sub := range u.Tokens.Keys() {
		f.tokens = append(f.tokens, id+"!"+sub)
	}
	e.purge(f)
	if id == "root@pam" {
		e.putUser(id, &usercfg.User{Enable: true})
	} else {
		e.deleteUser(id)
	}
	out := m
	out.Users = e.result()
	out.Tokens = m.Tokens.WithoutUser(id)
	uid := ident.Userid(id)
	if realm, ok := m.domains().Realm(string(uid.Realm())); ok && realm.Type() == "pve" {
		out.Shadow = m.Shadow.Without(uid.Name())
	}
	return out, nil
}
