package perm

import "github.com/pvecfs/pvecfs/access/privs"

// ValidPrivilege reports whether name is one of Proxmox's 47 privileges.
func ValidPrivilege(name string) bool { return privs.IsValid(name) }
