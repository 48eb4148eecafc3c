// Package usercfg is the model of /etc/pve/user.cfg with its parser and
// byte-exact writer (reference access-control.md §1).
//
// # Model
//
// Parse returns a *Config whose top-level maps, a user's tokens and an ACL
// node's children are persistent sorted maps (pmap.Map: Get, Len, Set and
// Delete returning a new map, All in key order):
//
//	Config.Users   userid -> *User{Enable, Expire, Firstname, Lastname, Email,
//	                        Comment, Keys, Groups Set, Tokens pmap[sub]*Token}
//	Config.Groups  groupid -> *Group{Users Set, Comment}
//	Config.Roles   roleid -> *Role{Privs Set}   (the 17 built-in roles included;
//	                        they share package-level values)
//	Config.Pools   poolid -> *Pool{Comment, Parent, VMs, Storage, Pools Set}
//	Config.VMs     vmid -> poolid (reverse map)
//	Config.MemberOf member -> Set of groups, for group members that are not
//	                        defined users (derived, like User.Groups)
//	Config.ACL     root *ACLNode{Users, Groups, Tokens map[id]RoleMap,
//	                        Children pmap[component]*ACLNode}
//
// RoleMap maps a role to its propagate flag. Group members and ACL user and
// group entries may name users and groups that are not defined (Proxmox keeps
// them); ACL token entries always name existing tokens, ACL roles existed
// when the ACL line was read. Text fields hold decoded text; Email and Keys
// are raw.
//
// A Config is immutable once built. A change copies what it touches
// (copy-on-write): a top-level map's Set or Delete copies only the O(log n)
// path to the key, so changing one user costs the same whatever the number
// of users; User.Clone, Group.Clone, Pool.Clone, Role.Clone and ACLNode.Clone
// copy one level, and the changed copy replaces the original pointer in the
// copied parent (Config.Clone is a plain struct copy).
//
// # Parser
//
// Parse reproduces parse_user_config: whitespace trimming, Perl split
// semantics (missing trailing fields), truthiness of enable/privsep/propagate,
// order dependence (a token needs its user line before it, an ACL its roles
// and tokens before it), unknown users and groups kept, unknown tokens and
// roles dropped, nested pools, duplicate VMIDs, and the warnings word for
// word. The result is canonical: Render followed by Parse gives the same
// model. Where Perl's in-memory result would change on its own next
// write-and-read, Parse returns the value after that cycle:
//
//   - User.Groups lists every group that names the user, wherever the user
//     line stands (Perl sets it only for users defined above the group line);
//   - text fields lose leading and trailing spaces, and "0" reads as empty;
//     an e-mail of "0" reads as empty;
//   - ACL entries for root@pam are dropped (the writer never writes them);
//   - a role: line naming a built-in role has no effect (upstream it changes
//     the built-in role for the whole process);
//   - when a user line is repeated after its tokens, ACL entries of the lost
//     tokens are dropped;
//   - list items that contain ',' or ';' (possible only in NUL-separated
//     lists) are refused as members;
//   - expire values above 2^63-1 and VMIDs above 2^64-1, which Perl would
//     turn into floats, are refused with the usual warning.
//
// Perl's "Use of uninitialized value" diagnostics are not reproduced.
//
// # Writer
//
// Config.Render is write_user_config: users with their tokens, groups, pools,
// non-built-in roles, then ACLs in tree order; see Render.
package usercfg
