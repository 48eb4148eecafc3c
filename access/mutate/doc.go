// Package mutate is every access-control change the REST API makes, as
// deterministic, copy-on-write functions on the file models and as cfs
// command handlers that run them inside the Raft FSM.
//
// # Commands
//
// Register adds one handler per op; the body is the JSON of the request
// struct, the result (if any) the JSON of the result struct:
//
//	access.user.create   UserCreate      POST   /access/users
//	access.user.update   UserUpdate      PUT    /access/users/{userid}
//	access.user.delete   UserDelete      DELETE /access/users/{userid}
//	access.group.create  GroupCreate     POST   /access/groups
//	access.group.update  GroupUpdate     PUT    /access/groups/{groupid}
//	access.group.delete  GroupDelete     DELETE /access/groups/{groupid}
//	access.role.create   RoleCreate      POST   /access/roles
//	access.role.update   RoleUpdate      PUT    /access/roles/{roleid}
//	access.role.delete   RoleDelete      DELETE /access/roles/{roleid}
//	access.acl.update    ACLUpdate       PUT    /access/acl
//	access.token.create  TokenCreate     POST   /access/users/{userid}/token/{tokenid}  -> TokenCreateResult
//	access.token.update  TokenUpdate     PUT    /access/users/{userid}/token/{tokenid}  -> TokenUpdateResult
//	access.token.delete  TokenDelete     DELETE /access/users/{userid}/token/{tokenid}
//	access.realm.create  RealmCreate     POST   /access/domains
//	access.realm.update  RealmUpdate     PUT    /access/domains/{realm}
//	access.realm.delete  RealmDelete     DELETE /access/domains/{realm}
//	access.password      PasswordChange  PUT    /access/password
//
// A handler reads the models it needs from the transaction (user.cfg,
// priv/token.cfg, priv/shadow.cfg, priv/pam-shadow.cfg, domains.cfg), runs
// the pure function and stores the models that changed with PutModel. An
// error discards the whole transaction, so a command changes all its files
// or none.
//
// # What the REST layer does before the log
//
// Authentication and the permission check (DESIGN §1); generating token
// secrets and password salts (§3): the commands carry tokens.HashSecret and
// shadow.Hash values, never clear secrets, and the REST layer adds the clear
// token value to the answer after the apply; computing the caller's
// privileges on the ACL path for the superset rule of access.acl.update
// (ACLUpdate.CallerPrivs), which the handler then evaluates against the
// command's data; splitting list parameters; mapping JSON booleans.
//
// # Errors
//
// Errors use Proxmox's texts. A plain die is a *cfs.Error with status 500
// and the text with its trailing newline, prefixed as lock_user_config does
// ("create user failed: user 'x@pve' already exists\n"). A parameter error
// is a *ParamError; through a handler it becomes a *cfs.Error with status
// 400 and Code CodeParam, which AsParamError reads back into the
// per-parameter map. Errors Proxmox raises as parameter errors inside its
// lock (the ACL superset rule, token "delete") keep Proxmox's form: status
// 500 and "<prefix>: 400 Parameter verification failed.\n<param>: <msg>\n".
//
// # Copy-on-write and cost
//
// The input models are never modified. A mutation copies only what it
// touches: the changed entry (user, group, role, ACL nodes on the path) and
// a shallow copy of the top-level map holding it; everything else is shared
// with the old model. token.cfg and shadow.cfg are persistent radix trees,
// changed in O(log n). Nothing is rendered or parsed. Removing a user, group,
// token or role also removes its ACL entries, which walks the ACL tree once.
//
// The one size-dependent step is the shallow copy of the touched map
// (usercfg keeps plain Go maps): maps.Clone of the users map, or of an ACL
// node's children, is a block copy of about 40 bytes per entry, some 0.1 ms
// at 10,000 users. All map writes go through edit (cow.go), so persistent
// maps in usercfg would make every mutation O(log n) without other changes.
//
// # Canonical models
//
// The models the mutations build are what the files' parsers would read back
// from their rendered bytes (text fields trimmed, "0" as empty, no empty ACL
// nodes, no root@pam ACL entries, group membership in both directions), so a
// snapshot restore, which parses the files again, yields the same models.
//
// # Deliberate differences from Proxmox
//
// Deleting a user removes its token secrets from token.cfg and the ACL
// entries of the user and its tokens; deleting a group or a token removes
// its ACL entries; deleting a role removes it from all ACL entries (upstream
// the next read drops them). Deleting a user that does not exist is an
// error for every caller.
package mutate
