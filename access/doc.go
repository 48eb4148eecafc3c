// Package access is the root of pvecfs's access control, a reimplementation
// of Proxmox VE's pve-access-control. It holds no code; the work is done in
// its sub-packages:
//
//   - ident: identifiers (user, realm, token, group, role, pool IDs, VMIDs,
//     storage IDs) and ACL paths, with Proxmox's regexes and error texts;
//   - privs: the 47 privileges and the 17 built-in roles;
//   - usercfg: the immutable model of user.cfg, its parser and writer;
//   - perm: permission calculation (roles and privileges per path, pools,
//     token privilege separation) on a usercfg model;
//   - shadow: priv/shadow.cfg, the password hashes of the pve realm;
//   - tokens: priv/token.cfg, the API token secrets;
//   - domains: domains.cfg, the authentication realms;
//   - mutate: copy-on-write changes to a usercfg model (the API's users,
//     groups, roles, pools, ACLs and tokens);
//   - ticket: authentication tickets and CSRF prevention tokens.
package access
