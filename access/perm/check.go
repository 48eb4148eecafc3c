package perm

import (
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
)

// Ctx is what an API permission declaration is evaluated against.
type Ctx struct {
	// Engine is the compiled access-control configuration.
	Engine *Engine
	// AuthID is the authenticated user or API token, "" when unauthenticated.
	AuthID string
	// Params are the request's API parameters (path, query and body); list
	// values are joined with ",". A key present with any value is "defined".
	Params map[string]string
}

// Check is one node of Proxmox's permission check language (the "check"
// array of an API method's permissions). Build checks with Perm, And, Or,
// UseridParam, UseridGroup and PermModify, or read them with ParseCheck.
type Check interface {
	// Eval runs the check: nil when it passes, otherwise the *Error Proxmox
	// raises (403 "Permission check failed ...", or 400/500, see Error).
	Eval(ctx *Ctx) error
	// Spec returns the check in Proxmox's array form, as the API schema shows it.
	Spec() []any
	// eval runs the check; with noerr a plain permission failure is (false,
	// nil) instead of an error, but errors Proxmox raises regardless still
	// come back as errors.
	eval(ctx *Ctx, noerr bool) (bool, error)
}

// Decl is an API method's permission declaration (the "permissions" key of
// its schema). A nil *Decl means the method declares none: root@pam only.
type Decl struct {
	// User is "all" (any authenticated user or token), "world" (no
	// authentication at all) or "".
	User string
	// Check is the check to run when User does not already decide.
	Check Check
	// Description is the schema's human-readable explanation.
	Description string
}

// Authorize is Proxmox's check_api2_permissions: it decides whether the
// caller in ctx may call a method declaring d. Order: "world" methods pass
// (Proxmox never authenticates requests to them); an unauthenticated caller
// fails with "user != null"; root@pam (exactly; not its tokens) passes; a
// method without declaration fails with "user != root@pam"; "all" passes;
// otherwise the declared check decides.
func Authorize(ctx *Ctx, d *Decl) error {
	if d != nil && d.User == "world" {
		return nil
	}
	if ctx == nil || ctx.AuthID == "" {
		return permError("user != null")
	}
	if ctx.AuthID == RootUser {
		return nil
	}
	if d == nil {
		return permError("user != root@pam")
	}
	if d.User == "all" {
		return nil
	}
	if d.Check != nil {
		return d.Check.Eval(ctx)
	}
	return permError("")
}

// run is the common top-level evaluation of a check.
func run(c Check, ctx *Ctx) error {
	if ctx == nil || ctx.Engine == nil {
		return dieError("permission check without access control configuration")
	}
	ok, err := c.eval(ctx, false)
	if err != nil {
		return err
	}
	if !ok {
		return permError("")
	}
	return nil
}

// soft turns a 403 into a plain "no" when noerr is set.
func soft(err error, noerr bool) (bool, error) {
	if err == nil {
		return true, nil
	}
	if noerr && IsPermissionDenied(err) {
		return false, nil
	}
	return false, err
}

func (ctx *Ctx) param(name string) (string, bool) {
	v, ok := ctx.Params[name]
	return v, ok
}

// ---- and / or ----

type andCheck struct{ subs []Check }

// And passes when every sub-check passes. Sub-checks run in order and the
// first failure raises its own error, even inside an Or (as in Proxmox).
func And(checks ...Check) Check { return &andCheck{subs: checks} }

// Eval runs the check (see Check).
func (c *andCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *andCheck) Spec() []any { return specList("and", c.subs) }
func (c *andCheck) eval(ctx *Ctx, _ bool) (bool, error) {
	for _, s := range c.subs {
		if s == nil {
			return false, dieError("no permission test specified")
		}
		if _, err := s.eval(ctx, false); err != nil {
			return false, err
		}
	}
	return true, nil
}

type orCheck struct{ subs []Check }

// Or passes when one sub-check passes, trying them in order; when none does
// it fails with a bare "Permission check failed".
func Or(checks ...Check) Check { return &orCheck{subs: checks} }

// Eval runs the check (see Check).
func (c *orCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *orCheck) Spec() []any { return specList("or", c.subs) }
func (c *orCheck) eval(ctx *Ctx, noerr bool) (bool, error) {
	for _, s := range c.subs {
		if s == nil {
			return false, dieError("no permission test specified")
		}
		ok, err := s.eval(ctx, true)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	if noerr {
		return false, nil
	}
	return false, permError("")
}

func specList(op string, subs []Check) []any {
	res := []any{op}
	for _, s := range subs {
		if s == nil {
			res = append(res, nil)
			continue
		}
		res = append(res, s.Spec())
	}
	return res
}

// ---- perm ----

type permCheck struct {
	path         string
	privs        []string
	any          bool
	requireParam string
}

// PermOption modifies a Perm check.
type PermOption func(*permCheck)

// Any makes a Perm check pass with any one of its privileges instead of all.
func Any() PermOption { return func(c *permCheck) { c.any = true } }

// RequireParam makes a Perm check fail unless the named parameter is present.
func RequireParam(name string) PermOption { return func(c *permCheck) { c.requireParam = name } }

// Perm checks privileges on a path. Each "{name}" in path is replaced by the
// parameter's value ("-" when it is missing, empty or "0"), the result is
// normalized as an ACL path, then all privs are required (any of them with
// Any). The failure names the path and the first missing privilege, or all
// of them joined with "|" for Any.
func Perm(path string, privs []string, opts ...PermOption) Check {
	c := &permCheck{path: path, privs: append([]string(nil), privs...)}
	if privs != nil && c.privs == nil {
		c.privs = []string{}
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Eval runs the check (see Check).
func (c *permCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *permCheck) Spec() []any {
	res := []any{"perm", c.path, stringsAny(c.privs)}
	if c.any {
		res = append(res, "any", 1)
	}
	if c.requireParam != "" {
		res = append(res, "require_param", c.requireParam)
	}
	return res
}

func (c *permCheck) eval(ctx *Ctx, noerr bool) (bool, error) {
	if c.path == "" || c.privs == nil {
		return false, dieError("missing parameters")
	}
	if c.requireParam != "" {
		if _, ok := ctx.param(c.requireParam); !ok {
			return soft(permError(""), noerr)
		}
	}
	path, ok := ident.NormalizePath(templateReplace(c.path, ctx.Params))
	e := ctx.Engine
	var p grant
	if ok {
		p = e.privsFor(ctx.AuthID, path)
	} // else: Proxmox checks against an undefined path, which grants nothing
	return soft(e.require(p, path, c.privs, c.any), noerr)
}

func stringsAny(ss []string) []any {
	res := make([]any, len(ss))
	for i, s := range ss {
		res[i] = s
	}
	return res
}

// ---- userid-param ----

// Sub-tests of UseridParam.
const (
	// UseridSelf passes when the caller is the user named by the userid parameter.
	UseridSelf = "self"
	// UseridRealmAllocateUser requires Realm.AllocateUser on /access/realm/<realm of userid>.
	UseridRealmAllocateUser = "Realm.AllocateUser"
)

type useridParamCheck struct{ sub string }

// UseridParam checks the userid parameter: UseridSelf or
// UseridRealmAllocateUser. A missing or malformed userid is a 400 parameter
// error; a token id is not a user id, so a token is never "self".
func UseridParam(subtest string) Check { return &useridParamCheck{sub: subtest} }

// Eval runs the check (see Check).
func (c *useridParamCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *useridParamCheck) Spec() []any { return []any{"userid-param", c.sub} }

func (c *useridParamCheck) eval(ctx *Ctx, noerr bool) (bool, error) {
	userid, err := useridParam(ctx)
	if err != nil {
		return false, err
	}
	e := ctx.Engine
	switch c.sub {
	case "":
		return false, dieError("missing parameters")
	case UseridSelf:
		if !e.UserExists(userid) {
			if noerr {
				return false, nil
			}
			return false, dieError("no such user ('" + userid + "')")
		}
		if ctx.AuthID == userid {
			return true, nil
		}
		return soft(permError(""), noerr)
	case UseridRealmAllocateUser:
		path := "/access/realm/" + ident.Userid(userid).Realm().String()
		return soft(e.Require(ctx.AuthID, path, []string{"Realm.AllocateUser"}, false), noerr)
	}
	return false, dieError("unknown userid-param test")
}

// useridParam returns the userid parameter, or the 400 error for a missing
// or malformed one (pvecfs answers these with the parameter error for every
// caller, where Proxmox lets the user name check die with a 500).
func useridParam(ctx *Ctx) (string, error) {
	userid, ok := ctx.param("userid")
	if !ok {
		return "", paramError("userid", "property is missing and it is not optional")
	}
	if err := ident.VerifyUsername(userid); err != nil {
		return "", paramError("userid", "invalid format - "+err.Error()+"\n")
	}
	return userid, nil
}

// ---- userid-group ----

type useridGroupCheck struct {
	privs       []string
	groupsParam string
}

// GroupOption modifies a UseridGroup check.
type GroupOption func(*useridGroupCheck)

// GroupsParam names the mode of the "groups" parameter: "create" (the user
// need not exist yet) or "update"; with either, every group listed in the
// groups parameter must be allowed.
func GroupsParam(mode string) GroupOption {
	return func(c *useridGroupCheck) { c.groupsParam = mode }
}

// UseridGroup checks group-delegated user administration: the user named by
// the userid parameter must exist (unless GroupsParam("create")); the caller
// passes with any of privs on /access/groups; otherwise every group of the
// groups parameter (when GroupsParam is set; it must name at least one) and
// some group of the user must be one where the caller has any of privs on
// /access/groups/<group>.
func UseridGroup(privs []string, opts ...GroupOption) Check {
	c := &useridGroupCheck{privs: append([]string(nil), privs...)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Eval runs the check (see Check).
func (c *useridGroupCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *useridGroupCheck) Spec() []any {
	res := []any{"userid-group", stringsAny(c.privs)}
	if c.groupsParam != "" {
		res = append(res, "groups_param", c.groupsParam)
	}
	return res
}

func (c *useridGroupCheck) eval(ctx *Ctx, noerr bool) (bool, error) {
	e := ctx.Engine
	checkExisting := c.groupsParam != "create"
	var userid string
	if checkExisting {
		u, err := useridParam(ctx)
		if err != nil {
			return false, err
		}
		if !e.UserExists(u) {
			if noerr {
				return false, nil
			}
			return false, dieError("no such user ('" + u + "')")
		}
		userid = u
	}
	err := e.Require(ctx.AuthID, "/access/groups", c.privs, true)
	if err == nil {
		return true, nil
	}
	if !IsPermissionDenied(err) {
		return false, err
	}
	what := strings.Join(c.privs, "|")
	allowed := func(g string) bool {
		return e.GroupExists(g) && e.Check(ctx.AuthID, "/access/groups/"+g, c.privs, true)
	}
	if c.groupsParam != "" {
		v, _ := ctx.param("groups")
		list := ident.SplitList(v)
		if len(list) == 0 {
			return false, permError("/access/groups, " + what) // raised even under Or
		}
		for _, g := range list {
			if !allowed(g) {
				return false, permError("/access/groups/" + g + ", " + what)
			}
		}
	}
	if checkExisting {
		_, s := e.lookup(userid)
		for _, g := range s.groups {
			if allowed(e.groupNameByID(g)) {
				return true, nil
			}
		}
		return soft(permError(""), noerr)
	}
	return true, nil
}

// groupNameByID returns the name of an interned group id.
func (e *Engine) groupNameByID(id int32) string { return e.groupByID[id] }

// ---- perm-modify ----

type permModifyCheck struct{ path string }

// PermModify checks the right to change ACLs on the path template (see
// Engine.CheckPermModify). A path that does not normalize is a 400 error on
// the "path" parameter.
func PermModify(path string) Check { return &permModifyCheck{path: path} }

// Eval runs the check (see Check).
func (c *permModifyCheck) Eval(ctx *Ctx) error { return run(c, ctx) }

// Spec returns the check's array form (see Check).
func (c *permModifyCheck) Spec() []any { return []any{"perm-modify", c.path} }

func (c *permModifyCheck) eval(ctx *Ctx, noerr bool) (bool, error) {
	raw := templateReplace(c.path, ctx.Params)
	path, ok := ident.NormalizePath(raw)
	if !ok {
		if noerr {
			return false, nil
		}
		return false, paramError("path", "invalid ACL path '"+raw+"'")
	}
	return soft(ctx.Engine.CheckPermModify(ctx.AuthID, path), noerr)
}

// ---- helpers shared with the REST layer ----

// perlFalse reports Perl's falseness of a defined string.
func perlFalse(s string) bool { return s == "" || s == "0" }

// templateReplace is PVE::Tools::template_replace: every "{name}" becomes
// the parameter's value, or "-" when it is missing or false.
func templateReplace(tmpl string, params map[string]string) string {
	if perlFalse(tmpl) || !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if tmpl[i] != '{' {
			j := strings.IndexByte(tmpl[i:], '{')
			if j < 0 {
				j = len(tmpl) - i
			}
			b.WriteString(tmpl[i : i+j])
			i += j
			continue
		}
		end := strings.IndexByte(tmpl[i+1:], '}')
		if end <= 0 { // "{" without a name and closing brace is dropped
			i++
			continue
		}
		v := params[tmpl[i+1:i+1+end]]
		if perlFalse(v) {
			v = "-"
		}
		b.WriteString(v)
		i += end + 2
	}
	return b.String()
}
