package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestAccessRoleList(t *testing.T) {
	e := newAccEnv(t)
	var list []map[string]any
	e.do("GET", "/access/roles", "dave@pve", nil).decode(t, &list)
	if len(list) != 18 {
		t.Fatalf("%d roles, want 17 built-in + Custom", len(list))
	}
	byID := map[string]map[string]any{}
	for i, r := range list {
		byID[r["roleid"].(string)] = r
		if i > 0 && list[i-1]["roleid"].(string) >= r["roleid"].(string) {
			t.Errorf("roles not sorted at %v", r["roleid"])
		}
	}
	if want := map[string]any{"roleid": "Custom", "privs": "Sys.Audit,VM.Audit", "special": 0.0}; !reflect.DeepEqual(byID["Custom"], want) {
		t.Errorf("Custom = %v, want %v", byID["Custom"], want)
	}
	if want := map[string]any{"roleid": "NoAccess", "privs": "", "special": 1.0}; !reflect.DeepEqual(byID["NoAccess"], want) {
		t.Errorf("NoAccess = %v, want %v", byID["NoAccess"], want)
	}
	if byID["PVEAuditor"]["privs"] != "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,VM.Audit,VM.GuestAgent.Audit" {
		t.Errorf("PVEAuditor privs %v", byID["PVEAuditor"]["privs"])
	}
}

func TestAccessRoleRead(t *testing.T) {
	e := newAccEnv(t)
	var got map[string]any
	e.do("GET", "/access/roles/Custom", "dave@pve", nil).decode(t, &got)
	if !reflect.DeepEqual(got, map[string]any{"Sys.Audit": 1.0, "VM.Audit": 1.0}) {
		t.Fatalf("Custom = %v", got)
	}
	r := e.do("GET", "/access/roles/NoAccess", "dave@pve", nil)
	if r.Status != 200 || string(r.Data) != "{}" {
		t.Fatalf("NoAccess = %d %s", r.Status, r.Data)
	}
}

func TestAccessRoleLifecycle(t *testing.T) {
	e := newAccEnv(t)
	if r := e.do("POST", "/access/roles", "alice@pve", vals("roleid", "E2EAuditor", "privs", "VM.Audit;Sys.Audit")); r.Status != 200 {
		t.Fatalf("create: %d %q %v", r.Status, r.Message, r.Errors)
	}
	if !strings.Contains(e.file("user.cfg"), "role:E2EAuditor:Sys.Audit,VM.Audit:") {
		t.Fatalf("user.cfg:\n%s", e.file("user.cfg"))
	}
	steps := []struct {
		params []string
		want   string
	}{
		{[]string{"privs", "Datastore.Audit", "append", "1"}, "Datastore.Audit,Sys.Audit,VM.Audit"},
		{[]string{"privs", "Pool.Audit"}, "Pool.Audit"},
		{[]string{}, ""},
	}
	for _, s := range steps {
		if r := e.do("PUT", "/access/roles/E2EAuditor", "root@pam", vals(s.params...)); r.Status != 200 {
			t.Fatalf("update %v: %d %q", s.params, r.Status, r.Message)
		}
		if !strings.Contains(e.file("user.cfg"), "role:E2EAuditor:"+s.want+":") {
			t.Fatalf("after %v:\n%s", s.params, e.file("user.cfg"))
		}
	}
	if r := e.do("DELETE", "/access/roles/E2EAuditor", "root@pam", nil); r.Status != 200 {
		t.Fatalf("delete: %d %q", r.Status, r.Message)
	}
	if strings.Contains(e.file("user.cfg"), "E2EAuditor") {
		t.Fatal("role survives deletion")
	}
}

func TestAccessRoleErrors(t *testing.T) {
	runAccCases(t, []accCase{
		{name: "create PVE prefix", method: "POST", path: "/access/roles", as: "root@pam", params: vals("roleid", "pveMine"),
			status: 400, wantErrs: []string{"roleid=cannot use role ID starting with the (case-insensitive) 'PVE' namespace"}},
		{name: "create PVE prefix before permissions", method: "POST", path: "/access/roles", as: "dave@pve", params: vals("roleid", "PVEx"),
			status: 400, wantErrs: []string{"roleid"}},
		{name: "create bad roleid", method: "POST", path: "/access/roles", as: "root@pam", params: vals("roleid", "a/b"),
			status: 400, wantErrs: []string{"roleid=invalid format - role name 'a/b' contains invalid characters\n"}},
		{name: "create bad privilege", method: "POST", path: "/access/roles", as: "root@pam", params: vals("roleid", "R", "privs", "VM.Audit,VM.Fly"),
			status: 400, wantErrs: []string{"privs=invalid format - invalid privilege 'VM.Fly'\n"}},
		{name: "create existing built-in", method: "POST", path: "/access/roles", as: "root@pam", params: vals("roleid", "Administrator"),
			status: 500, wantMsg: "create role failed: role 'Administrator' already exists\n"},
		{name: "create existing", method: "POST", path: "/access/roles", as: "root@pam", params: vals("roleid", "Custom"),
			status: 500, wantMsg: "create role failed: role 'Custom' already exists\n"},
		{name: "create forbidden", method: "POST", path: "/access/roles", as: "erin@pve", params: vals("roleid", "R"),
			status: 403, wantMsg: "Permission check failed (/access, Sys.Modify)\n"},
		{name: "read missing", method: "GET", path: "/access/roles/Nope", as: "dave@pve",
			status: 500, wantMsg: "role 'Nope' does not exist\n"},
		{name: "update built-in", method: "PUT", path: "/access/roles/PVEAdmin", as: "root@pam", params: vals("privs", "VM.Audit"),
			status: 500, wantMsg: "auto-generated role 'PVEAdmin' cannot be modified\n"},
		{name: "update append without privs", method: "PUT", path: "/access/roles/Custom", as: "root@pam", params: vals("append", "1"),
			status: 400, wantErrs: []string{"privs=missing property - 'append' requires this property"}},
		{name: "update missing", method: "PUT", path: "/access/roles/Nope", as: "root@pam", params: vals("privs", "VM.Audit"),
			status: 500, wantMsg: "update role failed: role 'Nope' does not exist\n"},
		{name: "update forbidden", method: "PUT", path: "/access/roles/Custom", as: "dave@pve", params: vals("privs", "VM.Audit"),
			status: 403},
		{name: "delete built-in", method: "DELETE", path: "/access/roles/NoAccess", as: "root@pam",
			status: 500, wantMsg: "auto-generated role 'NoAccess' cannot be deleted\n"},
		{name: "delete missing", method: "DELETE", path: "/access/roles/Nope", as: "root@pam",
			status: 500, wantMsg: "delete role failed: role 'Nope' does not exist\n"},
		{name: "delete forbidden", method: "DELETE", path: "/access/roles/Custom", as: "bob@pve", status: 403},
	})
}
