// Package perm is Proxmox VE's permission engine: roles(), permissions(),
// the check helpers of RPCEnvironment, get_effective_permissions, the login
// "cap" object and the check language of API permission declarations
// (reference access-control.md §5, §7.1, §12).
//
// # Compiled structure
//
// Compile turns a usercfg.Config into an immutable Engine once per user.cfg
// version; every request of that version shares it.
//
//   - Subjects: every user and token named anywhere (users section, group
//     member lists, ACLs) is interned to a small integer. A user carries the
//     sorted ids of the groups whose member lists name it; a token carries
//     its owner's id and its privsep flag.
//   - Roles are interned too; each role's privileges are a 128-bit set over
//     the privilege names (Proxmox has 47), so privileges of a role set are a
//     few ORs.
//   - The ACL tree is mirrored node for node. Each node maps subject id to an
//     entry holding two precomputed role lists: all roles (what applies when
//     the node is the checked path) and the propagating ones (what applies
//     below it). Group entries are keyed by group id.
//   - Pools are reduced to a map from the exact member paths /vms/<id> and
//     /storage/<id> to the pools holding them.
//
// A check walks the path's components from the root, doing at each level a
// child look-up and at most a token, a user and a few group look-ups
// (iterating whichever of the user's groups and the node's groups is
// shorter); the deepest level with applicable roles wins, NoAccess masks the
// rest. Only at a pool member path are the pools' /pool/<name> paths walked
// as well. A privilege-separated token is computed twice (token and owner)
// and intersected. The walk uses pooled scratch buffers: a check does not
// allocate.
//
// The Engine keeps no caches and no reference to the Config, so it is safe
// for concurrent use without locks.
//
// # Check language
//
// Decl is an API method's "permissions" declaration: User "all"/"world" or a
// Check built from Perm, And, Or, UseridParam, UseridGroup and PermModify
// (or read from the schema's JSON with ParseCheck / Decl.UnmarshalJSON).
// Authorize evaluates it for a Ctx (engine, caller, parameters) and returns
// nil or an *Error carrying Proxmox's HTTP status and message, e.g. 403
// "Permission check failed (/vms/100, VM.Audit)".
package perm
