package api

import (
	"reflect"
	"testing"
)

func TestAccessPermissions(t *testing.T) {
	vmAdmin := map[string]any{}
	for _, p := range []string{"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
		"VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
		"VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
		"VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate",
		"VM.Snapshot", "VM.Snapshot.Rollback"} {
		vmAdmin[p] = 1.0
	}
	cases := []struct {
		name, as string
		params   []string
		want     map[string]any
	}{
		{"nothing", "dave@pve", nil, map[string]any{}},
		{"one path without privileges", "dave@pve", []string{"path", "/nothing"}, map[string]any{"/nothing": map[string]any{}}},
		{"own path", "bob@pve", []string{"path", "/vms"}, map[string]any{"/vms": vmAdmin}},
		{"auditor reads another user", "erin@pve", []string{"userid", "bob@pve", "path", "/vms"}, map[string]any{"/vms": vmAdmin}},
		{"root reads another user", "root@pam", []string{"userid", "bob@pve", "path", "/vms/100"}, map[string]any{"/vms/100": vmAdmin}},
		{"owner reads own token", "alice@pve", []string{"userid", "alice@pve!tok"}, map[string]any{}},
		{"token reads itself", "alice@pve!tok", []string{"path", "/"}, map[string]any{"/": map[string]any{}}},
		{"realm path", "bob@pve", []string{"path", "/access/realm/pve"},
			map[string]any{"/access/realm/pve": map[string]any{"Sys.Audit": 1.0, "VM.Audit": 1.0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			var got map[string]any
			e.do("GET", "/access/permissions", c.as, vals(c.params...)).decode(t, &got)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestAccessPermissionsWhole(t *testing.T) {
	e := newAccEnv(t)
	var got map[string]map[string]int
	e.do("GET", "/access/permissions", "erin@pve", nil).decode(t, &got)
	for _, p := range []string{"/", "/access", "/vms", "/storage"} {
		if got[p]["Sys.Audit"] != 1 {
			t.Errorf("erin lacks propagated Sys.Audit on %s: %v", p, got[p])
		}
	}
}

func TestAccessPermissionsErrors(t *testing.T) {
	runAccCases(t, []accCase{
		{name: "other user without Sys.Audit", method: "GET", path: "/access/permissions", as: "dave@pve",
			params: vals("userid", "alice@pve"), status: 403, wantMsg: "Permission check failed (/access, Sys.Audit)\n"},
		{name: "foreign token", method: "GET", path: "/access/permissions", as: "bob@pve",
			params: vals("userid", "alice@pve!tok"), status: 403},
		{name: "token reading its owner", method: "GET", path: "/access/permissions", as: "alice@pve!tok",
			params: vals("userid", "alice@pve"), status: 403},
		{name: "malformed userid", method: "GET", path: "/access/permissions", as: "root@pam",
			params: vals("userid", "nobody"), status: 400, wantErrs: []string{"userid=value does not match the regex pattern"}},
		{name: "unknown param", method: "GET", path: "/access/permissions", as: "root@pam",
			params: vals("user", "x@pve"), status: 400, wantErrs: []string{"user"}},
		{name: "anonymous", method: "GET", path: "/access/permissions", status: 401},
	})
}
