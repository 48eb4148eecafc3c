package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestAccessGroupList(t *testing.T) {
	cases := []struct {
		as   string
		want []map[string]any
	}{
		{"root@pam", []map[string]any{
			{"groupid": "admins", "comment": "Administrators", "users": "alice@pve"},
			{"groupid": "devs", "comment": "Developers", "users": "bob@pve,carol@pve"},
			{"groupid": "ops", "users": ""},
		}},
		{"bob@pve", []map[string]any{{"groupid": "devs", "comment": "Developers", "users": "bob@pve,carol@pve"}}},
		{"dave@pve", []map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.as, func(t *testing.T) {
			e := newAccEnv(t)
			var got []map[string]any
			e.do("GET", "/access/groups", c.as, nil).decode(t, &got)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestAccessGroupLifecycle(t *testing.T) {
	e := newAccEnv(t)
	if r := e.do("POST", "/access/groups", "alice@pve", vals("groupid", "qa", "comment", "Quality: 100%")); r.Status != 200 || string(r.Data) != "null" {
		t.Fatalf("create: %d %q", r.Status, r.Message)
	}
	if !strings.Contains(e.file("user.cfg"), "group:qa::Quality%3A 100%25:") {
		t.Fatalf("user.cfg:\n%s", e.file("user.cfg"))
	}
	var g map[string]any
	e.do("GET", "/access/groups/devs", "erin@pve", nil).decode(t, &g)
	if !reflect.DeepEqual(g, map[string]any{"members": []any{"bob@pve", "carol@pve"}, "comment": "Developers"}) {
		t.Fatalf("read: %v", g)
	}
	g = nil
	e.do("GET", "/access/groups/qa", "root@pam", nil).decode(t, &g)
	if m, ok := g["members"].([]any); !ok || len(m) != 0 {
		t.Fatalf("empty group members %#v, want []", g["members"])
	}
	if r := e.do("PUT", "/access/groups/qa", "root@pam", vals("comment", "QA")); r.Status != 200 {
		t.Fatalf("update: %d %q", r.Status, r.Message)
	}
	if r := e.do("PUT", "/access/acl", "root@pam", vals("path", "/vms", "roles", "PVEAuditor", "groups", "qa")); r.Status != 200 {
		t.Fatal(r.Message)
	}
	if r := e.do("DELETE", "/access/groups/qa", "root@pam", nil); r.Status != 200 {
		t.Fatalf("delete: %d %q", r.Status, r.Message)
	}
	if strings.Contains(e.file("user.cfg"), "qa") {
		t.Fatalf("group or its ACL survives deletion:\n%s", e.file("user.cfg"))
	}
}

func TestAccessGroupErrors(t *testing.T) {
	runAccCases(t, []accCase{
		{name: "create missing groupid", method: "POST", path: "/access/groups", as: "root@pam",
			status: 400, wantErrs: []string{"groupid=property is missing and it is not optional"}},
		{name: "create bad groupid", method: "POST", path: "/access/groups", as: "root@pam", params: vals("groupid", "a b"),
			status: 400, wantErrs: []string{"groupid=invalid format - group name 'a b' contains invalid characters\n"}},
		{name: "create unknown param", method: "POST", path: "/access/groups", as: "root@pam", params: vals("groupid", "x", "members", "a"),
			status: 400, wantErrs: []string{"members"}},
		{name: "create existing", method: "POST", path: "/access/groups", as: "root@pam", params: vals("groupid", "devs"),
			status: 500, wantMsg: "create group failed: group 'devs' already exists\n"},
		{name: "create forbidden", method: "POST", path: "/access/groups", as: "bob@pve", params: vals("groupid", "x"),
			status: 403, wantMsg: "Permission check failed (/access/groups, Group.Allocate)\n"},
		{name: "read missing", method: "GET", path: "/access/groups/nope", as: "root@pam",
			status: 500, wantMsg: "group 'nope' does not exist\n"},
		{name: "read forbidden", method: "GET", path: "/access/groups/devs", as: "dave@pve",
			status: 403, wantMsg: "Permission check failed (/access/groups, Sys.Audit|Group.Allocate)\n"},
		{name: "update missing", method: "PUT", path: "/access/groups/nope", as: "root@pam", params: vals("comment", "x"),
			status: 500, wantMsg: "update group failed: group 'nope' does not exist\n"},
		{name: "update forbidden", method: "PUT", path: "/access/groups/devs", as: "erin@pve", params: vals("comment", "x"),
			status: 403},
		{name: "delete missing", method: "DELETE", path: "/access/groups/nope", as: "root@pam",
			status: 500, wantMsg: "delete group failed: group 'nope' does not exist\n"},
		{name: "delete forbidden", method: "DELETE", path: "/access/groups/devs", as: "dave@pve", status: 403},
		{name: "delete with body param", method: "DELETE", path: "/access/groups/devs", as: "root@pam", params: vals("force", "1"),
			status: 400, wantErrs: []string{"force"}},
	})
}
