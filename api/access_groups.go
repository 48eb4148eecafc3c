package api

import (
	"sort"
	"strings"

	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
)

// /access/groups (API2/Group.pm).

// groupListEntry is one element of GET /access/groups.
type groupListEntry struct {
	Groupid string `json:"groupid"`
	Comment string `json:"comment,omitempty"`
	Users   string `json:"users"` // sorted comma list ("" for none)
}

// groupData is GET /access/groups/{groupid}.
type groupData struct {
	Members []string `json:"members"`
	Comment string   `json:"comment,omitempty"`
}

var groupListPrivs = []string{"User.Modify", "Sys.Audit", "Group.Allocate"}

func (s *AccessState) groupEndpoints() []Endpoint {
	allocate := s.check(&perm.Decl{Check: perm.Perm("/access/groups", []string{"Group.Allocate"})}, nil)
	read := s.check(&perm.Decl{Check: perm.Perm("/access/groups", []string{"Sys.Audit", "Group.Allocate"}, perm.Any())}, nil)
	pComment := Param{Name: "comment", Optional: true}
	return []Endpoint{
		{Method: "GET", Path: "/access/groups", Check: s.check(declAll, nil),
			Description: "List groups where you have User.Modify, Sys.Audit or Group.Allocate on /access/groups/<group>.",
			Handler:     s.listGroups},
		{Method: "POST", Path: "/access/groups", Check: allocate, Params: []Param{pGroupid, pComment},
			Description: "Create a group (Group.Allocate on /access/groups).",
			Handler: func(r *Request) (any, error) {
				body := mutate.GroupCreate{Groupid: r.Params.Get("groupid"), Comment: r.Params.Get("comment")}
				_, err := s.apply(r, accMutation{op: mutate.OpGroupCreate, body: body, locks: []string{LockUserCfg}, prefix: "create group failed"})
				return nil, err
			}},
		{Method: "GET", Path: "/access/groups/{groupid}", Check: read, Params: []Param{pGroupid},
			Description: "Read a group (Sys.Audit or Group.Allocate on /access/groups).",
			Handler:     s.readGroup},
		{Method: "PUT", Path: "/access/groups/{groupid}", Check: allocate, Params: []Param{pGroupid, pComment},
			Description: "Update a group's comment (Group.Allocate on /access/groups).",
			Handler: func(r *Request) (any, error) {
				body := mutate.GroupUpdate{Groupid: r.Params.Get("groupid"), Comment: accOptString(r.Params, "comment")}
				_, err := s.apply(r, accMutation{op: mutate.OpGroupUpdate, body: body, locks: []string{LockUserCfg}, prefix: "update group failed"})
				return nil, err
			}},
		{Method: "DELETE", Path: "/access/groups/{groupid}", Check: allocate, Params: []Param{pGroupid},
			Description: "Delete a group with its memberships and ACL entries (Group.Allocate on /access/groups).",
			Handler: func(r *Request) (any, error) {
				body := mutate.GroupDelete{Groupid: r.Params.Get("groupid")}
				_, err := s.apply(r, accMutation{op: mutate.OpGroupDelete, body: body, locks: []string{LockUserCfg}, prefix: "delete group failed"})
				return nil, err
			}},
	}
}

// listGroups is GET /access/groups.
func (s *AccessState) listGroups(r *Request) (any, error) {
	cfg, eng, err := s.read(r)
	if err != nil {
		return nil, err
	}
	me := accAuthid(r)
	ids := make([]string, 0, cfg.Groups.Len())
	for id := range cfg.Groups.Keys() {
		if r.Auth.Root() || eng.Check(me, "/access/groups/"+id, groupListPrivs, true) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := make([]groupListEntry, 0, len(ids))
	for _, id := range ids {
		g := cfg.Group(id)
		out = append(out, groupListEntry{Groupid: id, Comment: g.Comment, Users: strings.Join(g.Users.Sorted(), ",")})
	}
	return out, nil
}

// readGroup is GET /access/groups/{groupid}.
func (s *AccessState) readGroup(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	id := r.Params.Get("groupid")
	g := cfg.Group(id)
	if g == nil {
		return nil, accDie("group '%s' does not exist", id)
	}
	m := g.Users.Sorted()
	if m == nil {
		m = []string{}
	}
	return groupData{Members: m, Comment: g.Comment}, nil
}
