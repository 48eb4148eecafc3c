package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"

	"github.com/pvecfs/pvecfs/cli"
)

func s(name string) cli.Opt { return cli.Opt{Name: name, Type: cli.String} }
func b(name string) cli.Opt { return cli.Opt{Name: name, Type: cli.Bool} }
func i(name string) cli.Opt { return cli.Opt{Name: name, Type: cli.Int} }
func l(name string) cli.Opt { return cli.Opt{Name: name, Type: cli.List} }

// names returns the names of opts.
func names(opts []cli.Opt) []string {
	out := make([]string, len(opts))
	for k, o := range opts {
		out[k] = o.Name
	}
	return out
}

// params returns the command's options as API parameters plus extra pairs.
func params(c *cli.Ctx, opts []cli.Opt, extra ...string) url.Values {
	v := c.Opts.Form(names(opts)...)
	for k := 0; k+1 < len(extra); k += 2 {
		v.Set(extra[k], extra[k+1])
	}
	return v
}

// call sends one request and prints its answer.
func call(c *cli.Ctx, method, path string, p url.Values, schema cli.Schema) error {
	data, err := c.Call(method, path, p)
	if err != nil {
		return err
	}
	return c.Print(data, schema)
}

func esc(v string) string { return cli.PathEscape(v) }

var (
	userCommon = []cli.Opt{s("comment"), s("email"), b("enable"), i("expire"), s("firstname"), l("groups"), s("keys"), s("lastname")}
	userAdd    = append(append([]cli.Opt(nil), userCommon...), s("password"))
	userMod    = append(append([]cli.Opt(nil), userCommon...), b("append"))
	tokenAdd   = []cli.Opt{s("comment"), i("expire"), b("privsep")}
	tokenMod   = []cli.Opt{s("comment"), l("delete"), i("expire"), b("privsep"), b("regenerate")}
	aclOpts    = []cli.Opt{l("roles"), l("users"), l("groups"), l("tokens"), b("propagate")}
	realmProps = []cli.Opt{s("acr-values"), b("autocreate"), s("base_dn"), s("bind_dn"), s("capath"), b("case-sensitive"),
		s("cert"), s("certkey"), b("check-connection"), s("client-id"), s("client-key"), s("comment"), b("default"),
		s("domain"), s("filter"), s("group_classes"), s("group_dn"), s("group_filter"), s("group_name_attr"),
		b("groups-autocreate"), s("groups-claim"), b("groups-overwrite"), s("issuer-url"), s("mode"), s("password"),
		i("port"), s("prompt"), b("query-userinfo"), s("scopes"), b("secure"), s("server1"), s("server2"),
		s("sslversion"), s("sync-defaults-options"), s("sync_attributes"), s("tfa"), s("user_attr"), s("user_classes"),
		s("username-claim"), b("verify")}
	realmAdd  = append(append([]cli.Opt(nil), realmProps...), s("type"))
	realmMod  = append(append([]cli.Opt(nil), realmProps...), l("delete"), s("digest"))
	realmSync = []cli.Opt{b("dry-run"), b("enable-new"), b("full"), b("purge"), s("remove-vanished"), s("scope")}
)

// Result columns, ordered as Proxmox's CLI orders schema properties
// (required sorted, then optional sorted).
var (
	userColumns = cli.Columns(cli.Column{Name: "userid"},
		cli.Column{Name: "comment", Optional: true}, cli.Column{Name: "email", Optional: true},
		cli.Column{Name: "enable", Type: cli.TBoolean, Optional: true}, cli.Column{Name: "expire", Type: cli.TInteger, Optional: true},
		cli.Column{Name: "firstname", Optional: true}, cli.Column{Name: "groups", Optional: true}, cli.Column{Name: "keys", Optional: true},
		cli.Column{Name: "lastname", Optional: true}, cli.Column{Name: "realm-type", Optional: true},
		cli.Column{Name: "tfa-locked-until", Type: cli.TInteger, Optional: true}, cli.Column{Name: "tokens", Optional: true},
		cli.Column{Name: "totp-locked", Type: cli.TBoolean, Optional: true})
	tokenColumns = cli.Columns(cli.Column{Name: "tokenid"}, cli.Column{Name: "comment", Optional: true},
		cli.Column{Name: "expire", Type: cli.TInteger, Optional: true}, cli.Column{Name: "privsep", Type: cli.TBoolean, Optional: true})
	groupColumns = cli.Columns(cli.Column{Name: "groupid"}, cli.Column{Name: "comment", Optional: true}, cli.Column{Name: "users", Optional: true})
	roleColumns  = cli.Columns(cli.Column{Name: "roleid"}, cli.Column{Name: "privs", Optional: true},
		cli.Column{Name: "special", Type: cli.TBoolean, Optional: true})
	aclColumns = cli.Columns(cli.Column{Name: "path"}, cli.Column{Name: "roleid"}, cli.Column{Name: "type"}, cli.Column{Name: "ugid"},
		cli.Column{Name: "propagate", Type: cli.TBoolean, Optional: true})
	realmColumns = cli.Columns(cli.Column{Name: "realm"}, cli.Column{Name: "type"}, cli.Column{Name: "comment", Optional: true},
		cli.Column{Name: "tfa", Optional: true})
	tokenAddKeys = []cli.Column{{Name: "full-tokenid"}, {Name: "info"}, {Name: "value"}}
)

func list(cols []cli.Column) cli.Schema { return cli.Schema{Kind: cli.KindList, Columns: cols} }

var none = cli.Schema{Kind: cli.KindNull}

func commands() []*cli.Command {
	return []*cli.Command{
		{Name: "user", Sub: []*cli.Command{
			{Name: "add", Help: "Create new user.", Args: []string{"userid"}, Opts: userAdd, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPost, "/access/users", params(c, userAdd, "userid", c.Arg(0)), none)
			}},
			{Name: "modify", Help: "Update user configuration.", Args: []string{"userid"}, Opts: userMod, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/users/"+esc(c.Arg(0)), params(c, userMod), none)
			}},
			{Name: "delete", Help: "Delete user.", Args: []string{"userid"}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodDelete, "/access/users/"+esc(c.Arg(0)), nil, none)
			}},
			{Name: "list", Help: "User index.", Opts: []cli.Opt{b("enabled"), b("full")}, Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/access/users", c.Opts.Form("enabled", "full"), list(userColumns))
			}},
			{Name: "permissions", Help: "Retrieve effective permissions of given user/token.", OptArgs: []string{"userid"},
				Opts: []cli.Opt{s("path")}, Output: true, Run: func(c *cli.Ctx) error {
					p := c.Opts.Form("path")
					if c.Arg(0) != "" {
						p.Set("userid", c.Arg(0))
					}
					return permissions(c, p)
				}},
			{Name: "tfa", Sub: []*cli.Command{
				{Name: "unlock", Help: "Unlock a user's TFA authentication.", Args: []string{"userid"}, Run: func(c *cli.Ctx) error {
					return call(c, http.MethodPut, "/access/users/"+esc(c.Arg(0))+"/unlock-tfa", nil, none)
				}},
			}},
			{Name: "token", Sub: []*cli.Command{
				{Name: "add", Help: "Generate a new API token for a specific user.", Args: []string{"userid", "tokenid"}, Opts: tokenAdd,
					Output: true, Run: func(c *cli.Ctx) error {
						return call(c, http.MethodPost, tokenPath(c), params(c, tokenAdd), cli.Schema{Kind: cli.KindObject, Columns: tokenAddKeys})
					}},
				{Name: "modify", Help: "Update API token for a specific user.", Args: []string{"userid", "tokenid"}, Opts: tokenMod,
					Output: true, Run: func(c *cli.Ctx) error {
						return call(c, http.MethodPut, tokenPath(c), params(c, tokenMod), cli.Schema{Kind: cli.KindObject})
					}},
				{Name: "delete", Aliases: []string{"remove"}, Help: "Remove API token for a specific user.", Args: []string{"userid", "tokenid"},
					Output: true, Run: func(c *cli.Ctx) error {
						return call(c, http.MethodDelete, tokenPath(c), nil, none)
					}},
				{Name: "list", Help: "Get user API tokens.", Args: []string{"userid"}, Output: true, Run: func(c *cli.Ctx) error {
					return call(c, http.MethodGet, "/access/users/"+esc(c.Arg(0))+"/token", nil, list(tokenColumns))
				}},
				{Name: "permissions", Help: "Retrieve effective permissions of given token.", Args: []string{"userid", "tokenid"},
					Opts: []cli.Opt{s("path")}, Output: true, Run: func(c *cli.Ctx) error {
						p := c.Opts.Form("path")
						p.Set("userid", c.Arg(0)+"!"+c.Arg(1))
						return permissions(c, p)
					}},
			}},
		}},
		{Name: "group", Sub: []*cli.Command{
			{Name: "add", Help: "Create new group.", Args: []string{"groupid"}, Opts: []cli.Opt{s("comment")}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPost, "/access/groups", params(c, []cli.Opt{s("comment")}, "groupid", c.Arg(0)), none)
			}},
			{Name: "modify", Help: "Update group data.", Args: []string{"groupid"}, Opts: []cli.Opt{s("comment")}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/groups/"+esc(c.Arg(0)), c.Opts.Form("comment"), none)
			}},
			{Name: "delete", Help: "Delete group.", Args: []string{"groupid"}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodDelete, "/access/groups/"+esc(c.Arg(0)), nil, none)
			}},
			{Name: "list", Help: "Group index.", Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/access/groups", nil, list(groupColumns))
			}},
		}},
		{Name: "role", Sub: []*cli.Command{
			{Name: "add", Help: "Create new role.", Args: []string{"roleid"}, Opts: []cli.Opt{l("privs")}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPost, "/access/roles", params(c, []cli.Opt{l("privs")}, "roleid", c.Arg(0)), none)
			}},
			{Name: "modify", Help: "Update an existing role.", Args: []string{"roleid"}, Opts: []cli.Opt{l("privs"), b("append")}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/roles/"+esc(c.Arg(0)), c.Opts.Form("privs", "append"), none)
			}},
			{Name: "delete", Help: "Delete role.", Args: []string{"roleid"}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodDelete, "/access/roles/"+esc(c.Arg(0)), nil, none)
			}},
			{Name: "list", Help: "Role index.", Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/access/roles", nil, list(roleColumns))
			}},
		}},
		{Name: "acl", Sub: []*cli.Command{
			{Name: "modify", Help: "Update Access Control List (add permissions).", Args: []string{"path"}, Opts: aclOpts, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/acl", params(c, aclOpts, "path", c.Arg(0), "delete", "0"), none)
			}},
			{Name: "delete", Help: "Update Access Control List (remove permissions).", Args: []string{"path"}, Opts: aclOpts, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/acl", params(c, aclOpts, "path", c.Arg(0), "delete", "1"), none)
			}},
			{Name: "list", Help: "Get Access Control List (ACLs).", Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/access/acl", nil, list(aclColumns))
			}},
		}},
		{Name: "realm", Sub: []*cli.Command{
			{Name: "add", Help: "Add an authentication server (--type ad|ldap|openid|pam|pve).", Args: []string{"realm"}, Opts: realmAdd,
				Run: func(c *cli.Ctx) error {
					return call(c, http.MethodPost, "/access/domains", params(c, realmAdd, "realm", c.Arg(0)), none)
				}},
			{Name: "modify", Help: "Update authentication server settings.", Args: []string{"realm"}, Opts: realmMod, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodPut, "/access/domains/"+esc(c.Arg(0)), params(c, realmMod), none)
			}},
			{Name: "delete", Help: "Delete an authentication server.", Args: []string{"realm"}, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodDelete, "/access/domains/"+esc(c.Arg(0)), nil, none)
			}},
			{Name: "list", Help: "Authentication domain index.", Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/access/domains", nil, list(realmColumns))
			}},
			{Name: "sync", Help: "Sync users and/or groups from the configured LDAP to user.cfg.", Args: []string{"realm"}, Opts: realmSync,
				Run: func(c *cli.Ctx) error {
					return call(c, http.MethodPost, "/access/domains/"+esc(c.Arg(0))+"/sync", params(c, realmSync), none)
				}},
		}},
		{Name: "passwd", Help: "Change user password (asks twice on the terminal, or reads PVECFS_NEW_PASSWORD).", Args: []string{"userid"},
			Opts: []cli.Opt{{Name: "password", Type: cli.Secret}, s("confirmation-password")}, Run: passwd},
		{Name: "useradd", AliasOf: []string{"user", "add"}},
		{Name: "usermod", AliasOf: []string{"user", "modify"}},
		{Name: "userdel", AliasOf: []string{"user", "delete"}},
		{Name: "groupadd", AliasOf: []string{"group", "add"}},
		{Name: "groupmod", AliasOf: []string{"group", "modify"}},
		{Name: "groupdel", AliasOf: []string{"group", "delete"}},
		{Name: "roleadd", AliasOf: []string{"role", "add"}},
		{Name: "rolemod", AliasOf: []string{"role", "modify"}},
		{Name: "roledel", AliasOf: []string{"role", "delete"}},
		{Name: "aclmod", AliasOf: []string{"acl", "modify"}},
		{Name: "acldel", AliasOf: []string{"acl", "delete"}},
	}
}

func tokenPath(c *cli.Ctx) string {
	return "/access/users/" + esc(c.Arg(0)) + "/token/" + esc(c.Arg(1))
}

// permissions prints GET /access/permissions as Proxmox's pveum does: in
// text, a table of "ACL path" and "Permissions" (one privilege per line,
// " (*)" when it propagates) and a legend line.
func permissions(c *cli.Ctx, p url.Values) error {
	data, err := c.Call(http.MethodGet, "/access/permissions", p)
	if err != nil {
		return err
	}
	if c.Format.Output != cli.FormatText {
		return c.Print(data, cli.Schema{Kind: cli.KindObject})
	}
	if c.Format.Quiet {
		return nil
	}
	var perms map[string]map[string]json.Number
	if err := json.Unmarshal(data, &perms); err != nil {
		return err
	}
	paths := make([]string, 0, len(perms))
	for path := range perms {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	rows := make([]map[string]any, 0, len(paths))
	for _, path := range paths {
		privs := make([]string, 0, len(perms[path]))
		for priv := range perms[path] {
			privs = append(privs, priv)
		}
		sort.Strings(privs)
		text := ""
		for k, priv := range privs {
			if k > 0 {
				text += "\n"
			}
			text += priv
			if f, err := perms[path][priv].Float64(); err == nil && f != 0 {
				text += " (*)"
			}
		}
		rows = append(rows, map[string]any{"path": path, "permissions": text})
	}
	out := ""
	if len(rows) > 0 {
		out = c.Format.Table(rows, []cli.Column{{Name: "path", Title: "ACL path"}, {Name: "permissions", Title: "Permissions"}}, true)
	}
	out += "Permissions marked with '(*)' have the 'propagate' flag set.\n"
	_, err = c.Stdout.Write([]byte(out))
	return err
}

// passwd changes a password: --password, PVECFS_NEW_PASSWORD, or asked twice.
func passwd(c *cli.Ctx) error {
	pw := c.Opts.Get("password")
	if pw == "" {
		var err error
		if pw, err = c.NewPassword("PVECFS_NEW_PASSWORD"); err != nil {
			return err
		}
	}
	p := url.Values{"userid": {c.Arg(0)}, "password": {pw}}
	if c.Opts.Has("confirmation-password") {
		p.Set("confirmation-password", c.Opts.Get("confirmation-password"))
	} else if cl, err := c.Client(); err == nil && cl.Password() != "" {
		// a --user login re-confirms with its own password, as the GUI does
		p.Set("confirmation-password", cl.Password())
	}
	return call(c, http.MethodPut, "/access/password", p, none)
}
