package perm

import "github.com/pvecfs/pvecfs/access/privs"

// validPrivilege reports whether name is one of Proxmox's 47 privileges.
func validPrivilege(name string) bool { return privs.IsValid(name) }
