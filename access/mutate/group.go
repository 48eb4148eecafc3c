package mutate

import (
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// GroupCreate is POST /access/groups.
type GroupCreate struct {
	// Groupid is the new group.
	Groupid string `json:"groupid"`
	// Comment is stored if true in Perl's sense.
	Comment string `json:"comment,omitempty"`
}

// GroupUpdate is PUT /access/groups/{groupid}.
type GroupUpdate struct {
	// Groupid is the group to change.
	Groupid string `json:"groupid"`
	// Comment, if set, replaces the comment ("" clears it).
	Comment *string `json:"comment,omitempty"`
}

// GroupDelete is DELETE /access/groups/{groupid}.
type GroupDelete struct {
	// Groupid is the group to delete.
	Groupid string `json:"groupid"`
}

// CreateGroup adds an empty group. Errors carry "create group failed: ...".
func CreateGroup(cfg *usercfg.Config, r GroupCreate) (*usercfg.Config, error) {
	if err := checkGroupid("groupid", r.Groupid); err != nil {
		return cfg, err
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	if cfg.Group(r.Groupid) != nil {
		return cfg, locked("create group failed", die(cfs.CodeExists, "group '%s' already exists", r.Groupid))
	}
	g := &usercfg.Group{Users: usercfg.Set{}}
	if truthy(r.Comment) {
		g.Comment = canonText(r.Comment)
	}
	e := newEdit(cfg)
	e.putGroup(r.Groupid, g)
	return e.result(), nil
}

// UpdateGroup changes a group's comment. Errors carry "update group failed: ...".
func UpdateGroup(cfg *usercfg.Config, r GroupUpdate) (*usercfg.Config, error) {
	if err := checkGroupid("groupid", r.Groupid); err != nil {
		return cfg, err
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	if cfg.Group(r.Groupid) == nil {
		return cfg, locked("update group failed", die(cfs.CodeNotFound, "group '%s' does not exist", r.Groupid))
	}
	e := newEdit(cfg)
	if r.Comment != nil {
		e.group(r.Groupid).Comment = canonText(*r.Comment)
	}
	return e.result(), nil
}

// DeleteGroup removes a group, its members' memberships and every ACL entry
// of the group. Errors carry "delete group failed: ...".
func DeleteGroup(cfg *usercfg.Config, r GroupDelete) (*usercfg.Config, error) {
	if err := checkGroupid("groupid", r.Groupid); err != nil {
		return cfg, err
	}
	if cfg == nil {
		cfg = usercfg.New()
	}
	g := cfg.Group(r.Groupid)
	if g == nil {
		return cfg, locked("delete group failed", die(cfs.CodeNotFound, "group '%s' does not exist", r.Groupid))
	}
	e := newEdit(cfg)
	for uid := range g.Users {
		u := cfg.User(uid)
		if u == nil {
			e.memberOfRemove(uid, r.Groupid)
			continue
		}
		if u.Groups.Has(r.Groupid) {
			nu := e.user(uid)
			delete(nu.Groups, r.Groupid)
			if len(nu.Groups) == 0 {
				nu.Groups = nil
			}
		}
	}
	e.deleteGroup(r.Groupid)
	e.purge(aclFilter{group: r.Groupid})
	return e.result(), nil
}
