package privs

import (
	"reflect"
	"sort"
	"testing"
)

// privgroups is $privgroups of AccessControl.pm (reference §4.1), used to
// derive the built-in roles independently of the literal table.
var privgroups = map[string]map[string][]string{
	"VM": {
		"root": {},
		"admin": {"VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.HWType",
			"VM.Config.Options", "VM.Allocate", "VM.Clone", "VM.GuestAgent.Unrestricted", "VM.Migrate",
			"VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback"},
		"user": {"VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup", "VM.GuestAgent.FileRead",
			"VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.PowerMgmt"},
		"audit": {"VM.Audit", "VM.GuestAgent.Audit"},
	},
	"Sys": {"root": {"Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"},
		"admin": {"Sys.Console", "Sys.Syslog"}, "user": {}, "audit": {"Sys.Audit"}},
	"Datastore": {"root": {}, "admin": {"Datastore.Allocate", "Datastore.AllocateTemplate"},
		"user": {"Datastore.AllocateSpace"}, "audit": {"Datastore.Audit"}},
	"SDN": {"root": {}, "admin": {"SDN.Allocate", "SDN.Audit"}, "user": {"SDN.Use"}, "audit": {"SDN.Audit"}},
	"User": {"root": {"Realm.Allocate"}, "admin": {"User.Modify", "Group.Allocate", "Realm.AllocateUser"},
		"user": {}, "audit": {}},
	"Pool":    {"root": {}, "admin": {"Pool.Allocate"}, "user": {"Pool.Audit"}, "audit": {"Pool.Audit"}},
	"Mapping": {"root": {}, "admin": {"Mapping.Modify"}, "user": {"Mapping.Use"}, "audit": {"Mapping.Audit"}},
}

func sortedKeys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func derive() map[string][]string {
	roles := map[string][]string{}
	admin, audit := map[string]bool{}, map[string]bool{}
	all := map[string]bool{"Permissions.Modify": true}
	for cat, g := range privgroups {
		ca := map[string]bool{}
		for _, k := range []string{"admin", "user", "audit"} {
			for _, p := range g[k] {
				ca[p] = true
				admin[p] = true
			}
		}
		for _, k := range []string{"root", "admin", "user", "audit"} {
			for _, p := range g[k] {
				all[p] = true
			}
		}
		for _, p := range g["audit"] {
			audit[p] = true
		}
		roles["PVE"+cat+"Admin"] = sortedKeys(ca)
		if len(g["user"]) > 0 {
			cu := map[string]bool{}
			for _, k := range []string{"user", "audit"} {
				for _, p := range g[k] {
					cu[p] = true
				}
			}
			roles["PVE"+cat+"User"] = sortedKeys(cu)
		}
	}
	delete(admin, "Mapping.Modify")
	roles["PVEAdmin"] = sortedKeys(admin)
	roles["PVEAuditor"] = sortedKeys(audit)
	roles["PVETemplateUser"] = []string{"VM.Audit", "VM.Clone"}
	roles["NoAccess"] = []string{}
	roles["Administrator"] = sortedKeys(all)
	return roles
}

func TestBuiltinRolesMatchDerivation(t *testing.T) {
	want := derive()
	if len(BuiltinRoles) != 17 || len(want) != 17 {
		t.Fatalf("got %d built-in roles, derived %d, want 17", len(BuiltinRoles), len(want))
	}
	for name, w := range want {
		got, ok := BuiltinRoles[name]
		if !ok {
			t.Errorf("missing role %s", name)
			continue
		}
		if !sort.StringsAreSorted(got) {
			t.Errorf("%s: privileges not sorted", name)
		}
		if !reflect.DeepEqual(append([]string{}, got...), w) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, w)
		}
	}
}

func TestRoleSizes(t *testing.T) {
	sizes := map[string]int{"Administrator": 47, "NoAccess": 0, "PVEAdmin": 40, "PVEAuditor": 7,
		"PVEDatastoreAdmin": 4, "PVEDatastoreUser": 2, "PVEMappingAdmin": 3, "PVEMappingUser": 2,
		"PVEPoolAdmin": 2, "PVEPoolUser": 1, "PVESDNAdmin": 3, "PVESDNUser": 2, "PVESysAdmin": 3,
		"PVETemplateUser": 2, "PVEUserAdmin": 3, "PVEVMAdmin": 23, "PVEVMUser": 10}
	for r, n := range sizes {
		if got := len(BuiltinRoles[r]); got != n {
			t.Errorf("%s: %d privileges, want %d", r, got, n)
		}
	}
}

func TestAll(t *testing.T) {
	if len(All) != 47 {
		t.Fatalf("len(All) = %d", len(All))
	}
	if !sort.StringsAreSorted(All) {
		t.Error("All is not in byte order")
	}
	for _, p := range All {
		for _, r := range BuiltinRoles {
			for _, q := range r {
				if !IsValid(q) {
					t.Errorf("role privilege %q not valid", q)
				}
			}
		}
		if !IsValid(p) {
			t.Errorf("IsValid(%q) = false", p)
		}
	}
}

func TestIsValidIsBuiltin(t *testing.T) {
	tests := []struct {
		name    string
		valid   bool
		builtin bool
	}{
		{"VM.Audit", true, false},
		{"vm.audit", false, false},
		{"VM.Invalid", false, false},
		{"", false, false},
		{"Permissions.Modify", true, false},
		{"PVEAdmin", false, true},
		{"NoAccess", false, true},
		{"PVESysUser", false, false},
		{"pveadmin", false, false},
	}
	for _, tt := range tests {
		if got := IsValid(tt.name); got != tt.valid {
			t.Errorf("IsValid(%q) = %v", tt.name, got)
		}
		if got := IsBuiltin(tt.name); got != tt.builtin {
			t.Errorf("IsBuiltin(%q) = %v", tt.name, got)
		}
	}
	if n := BuiltinNames(); len(n) != 17 || n[0] != "Administrator" {
		t.Errorf("BuiltinNames() = %v", n)
	}
}
