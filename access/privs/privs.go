// Package privs holds Proxmox VE's privilege names and the 17 built-in
// ("special") roles with their exact privilege sets (reference
// access-control.md §4).
package privs

import "sort"

// All lists the 47 valid privileges in the reference order (byte order).
var All = []string{
	"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
	"Group.Allocate",
	"Mapping.Audit", "Mapping.Modify", "Mapping.Use",
	"Permissions.Modify",
	"Pool.Allocate", "Pool.Audit",
	"Realm.Allocate", "Realm.AllocateUser",
	"SDN.Allocate", "SDN.Audit", "SDN.Use",
	"Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
	"User.Modify",
	"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone",
	"VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
	"VM.Config.Memory", "VM.Config.Network", "VM.Config.Options",
	"VM.Console",
	"VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
	"VM.GuestAgent.Unrestricted",
	"VM.Migrate", "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
}

var vmAdmin = []string{
	"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
	"VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
	"VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead",
	"VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate",
	"VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
}

// BuiltinRoles maps each built-in role to its privileges (sorted). Callers must
// not modify it.
var BuiltinRoles = map[string][]string{
	"Administrator": All,
	"NoAccess":      {},
	"PVEAdmin": {
		"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
		"Group.Allocate", "Mapping.Audit", "Mapping.Use", "Pool.Allocate", "Pool.Audit", "Realm.AllocateUser",
		"SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.Audit", "Sys.Console", "Sys.Syslog", "User.Modify",
		"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
		"VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
		"VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead",
		"VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate",
		"VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
	},
	"PVEAuditor": {
		"Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit", "VM.Audit",
		"VM.GuestAgent.Audit",
	},
	"PVEDatastoreAdmin": {"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit"},
	"PVEDatastoreUser":  {"Datastore.AllocateSpace", "Datastore.Audit"},
	"PVEMappingAdmin":   {"Mapping.Audit", "Mapping.Modify", "Mapping.Use"},
	"PVEMappingUser":    {"Mapping.Audit", "Mapping.Use"},
	"PVEPoolAdmin":      {"Pool.Allocate", "Pool.Audit"},
	"PVEPoolUser":       {"Pool.Audit"},
	"PVESDNAdmin":       {"SDN.Allocate", "SDN.Audit", "SDN.Use"},
	"PVESDNUser":        {"SDN.Audit", "SDN.Use"},
	"PVESysAdmin":       {"Sys.Audit", "Sys.Console", "Sys.Syslog"},
	"PVETemplateUser":   {"VM.Audit", "VM.Clone"},
	"PVEUserAdmin":      {"Group.Allocate", "Realm.AllocateUser", "User.Modify"},
	"PVEVMAdmin":        vmAdmin,
	"PVEVMUser": {
		"VM.Audit", "VM.Backup", "VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.GuestAgent.Audit",
		"VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.PowerMgmt",
	},
}

var valid = func() map[string]struct{} {
	m := make(map[string]struct{}, len(All))
	for _, p := range All {
		m[p] = struct{}{}
	}
	return m
}()

// IsBuiltin reports whether role is one of the 17 built-in (special) roles.
func IsBuiltin(role string) bool {
	_, ok := BuiltinRoles[role]
	return ok
}

// IsValid reports whether priv is one of the 47 valid privilege names.
func IsValid(priv string) bool {
	_, ok := valid[priv]
	return ok
}

// BuiltinNames returns the built-in role names in byte order.
func BuiltinNames() []string {
	out := make([]string, 0, len(BuiltinRoles))
	for r := range BuiltinRoles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
