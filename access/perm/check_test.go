package perm

import (
	"net/http"
	"testing"
)

// checkFixture is a delegated-administration setup for the check language.
func checkFixture() *Engine {
	c := newTestConfig().
		user("alice@pve", "admins").
		user("bob@pve", "dbteam").
		user("carol@ldap", "dbteam").
		user("dave@pve").
		user("umgr@pve").
		user("gadmin@pve").
		user("aud@pve").
		user("vmadm@pve").
		user("stor@pve").
		user("pmod@pve").
		user("eve@pve").
		token("eve@pve!sep", true).
		token("eve@pve!nosep", false).
		token("root@pam!sep", true).
		token("root@pam!nosep", false).
		role("PermMod", "Permissions.Modify").
		acl(true, "/access/groups/dbteam", "umgr@pve", "PVEUserAdmin").
		acl(true, "/access/realm/pve", "umgr@pve", "PVEUserAdmin").
		acl(true, "/access/groups", "gadmin@pve", "PVEUserAdmin").
		acl(true, "/", "aud@pve", "PVEAuditor").
		acl(true, "/vms/100", "vmadm@pve,eve@pve!sep", "PVEVMAdmin").
		acl(true, "/storage", "stor@pve", "PVEDatastoreAdmin").
		acl(true, "/access", "pmod@pve", "PermMod").
		acl(true, "/vms", "eve@pve", "PVEAuditor").
		acl(true, "/vms/100", "root@pam!sep", "PVEAuditor")
	return Compile(c.Config)
}

type checkCase struct {
	name   string
	authid string
	params map[string]string
	decl   *Decl
	code   int    // 0: passes
	msg    string // Error() of the failure
}

func runCheckCases(t *testing.T, e *Engine, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Authorize(&Ctx{Engine: e, AuthID: tc.authid, Params: tc.params}, tc.decl)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			pe, ok := err.(*Error)
			if !ok {
				t.Fatalf("want *Error %d %q, got %v", tc.code, tc.msg, err)
			}
			if pe.Code != tc.code || pe.Error() != tc.msg {
				t.Fatalf("got %d %q, want %d %q", pe.Code, pe.Error(), tc.code, tc.msg)
			}
			if pe.Message != pe.Error()+"\n" {
				t.Fatalf("message %q lacks Proxmox's trailing newline", pe.Message)
			}
		})
	}
}

func p(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestAuthorizeUserField(t *testing.T) {
	e := checkFixture()
	all := &Decl{User: "all"}
	world := &Decl{User: "world"}
	checked := &Decl{Check: Perm("/", []string{"Sys.Audit"})}
	runCheckCases(t, e, []checkCase{
		{"no decl root", "root@pam", nil, nil, 0, ""},
		{"no decl user", "alice@pve", nil, nil, 403, "Permission check failed (user != root@pam)"},
		{"no decl root token", "root@pam!nosep", nil, nil, 403, "Permission check failed (user != root@pam)"},
		{"no decl anonymous", "", nil, nil, 403, "Permission check failed (user != null)"},
		{"world anonymous", "", nil, world, 0, ""},
		{"world user", "dave@pve", nil, world, 0, ""},
		{"all anonymous", "", nil, all, 403, "Permission check failed (user != null)"},
		{"all user", "dave@pve", nil, all, 0, ""},
		{"all token", "eve@pve!sep", nil, all, 0, ""},
		{"all unknown", "ghost@pve", nil, all, 0, ""},
		{"check root", "root@pam", nil, checked, 0, ""},
		{"check auditor", "aud@pve", nil, checked, 0, ""},
		{"check other", "dave@pve", nil, checked, 403, "Permission check failed (/, Sys.Audit)"},
		{"root nosep token checked", "root@pam!nosep", nil, checked, 0, ""},
		{"root sep token checked", "root@pam!sep", nil, checked, 403, "Permission check failed (/, Sys.Audit)"},
		{"empty decl", "dave@pve", nil, &Decl{}, 403, "Permission check failed"},
	})
}

func TestPermCheck(t *testing.T) {
	e := checkFixture()
	vmAudit := &Decl{Check: Perm("/vms/{vmid}", []string{"VM.Audit"})}
	vmTwo := &Decl{Check: Perm("/vms/{vmid}", []string{"VM.Audit", "VM.Allocate"})}
	groupsAny := &Decl{Check: Perm("/access/groups", []string{"Sys.Audit", "Group.Allocate"}, Any())}
	reqParam := &Decl{Check: Perm("/vms/{vmid}", []string{"VM.Audit"}, RequireParam("vmid"))}
	badPriv := &Decl{Check: Perm("/", []string{"Sys.Audit", "No.Such"})}
	runCheckCases(t, e, []checkCase{
		{"vm admin", "vmadm@pve", p("vmid", "100"), vmAudit, 0, ""},
		{"vm admin other vm", "vmadm@pve", p("vmid", "101"), vmAudit, 403, "Permission check failed (/vms/101, VM.Audit)"},
		{"missing param becomes -", "vmadm@pve", nil, vmAudit, 403, "Permission check failed (/vms/-, VM.Audit)"},
		{"zero param becomes -", "vmadm@pve", p("vmid", "0"), vmAudit, 403, "Permission check failed (/vms/-, VM.Audit)"},
		{"first missing named", "eve@pve", p("vmid", "100"), vmTwo, 403, "Permission check failed (/vms/100, VM.Allocate)"},
		{"all present", "vmadm@pve", p("vmid", "100"), vmTwo, 0, ""},
		{"any one", "aud@pve", nil, groupsAny, 0, ""},
		{"any none", "dave@pve", nil, groupsAny, 403, "Permission check failed (/access/groups, Sys.Audit|Group.Allocate)"},
		{"require param missing", "vmadm@pve", nil, reqParam, 403, "Permission check failed"},
		{"require param present", "vmadm@pve", p("vmid", "100"), reqParam, 0, ""},
		{"invalid priv reached", "aud@pve", nil, badPriv, 500, "invalid privilege 'No.Such'"},
		{"invalid priv not reached", "dave@pve", nil, badPriv, 403, "Permission check failed (/, Sys.Audit)"},
		{"privsep token intersect", "eve@pve!sep", p("vmid", "100"), vmTwo, 403, "Permission check failed (/vms/100, VM.Allocate)"},
		{"privsep token audit", "eve@pve!sep", p("vmid", "100"), vmAudit, 0, ""},
		{"nosep token = owner", "eve@pve!nosep", p("vmid", "100"), vmAudit, 0, ""},
		{"path normalized", "vmadm@pve", p("vmid", "100/"), vmAudit, 0, ""},
		{"bad path grants nothing", "vmadm@pve", p("vmid", "1 00"), vmAudit, 403, "Permission check failed (, VM.Audit)"},
	})
}

func TestUseridChecks(t *testing.T) {
	e := checkFixture()
	self := &Decl{Check: UseridParam(UseridSelf)}
	realm := &Decl{Check: UseridParam(UseridRealmAllocateUser)}
	group := &Decl{Check: UseridGroup([]string{"User.Modify"})}
	create := &Decl{Check: And(UseridParam(UseridRealmAllocateUser), UseridGroup([]string{"User.Modify"}, GroupsParam("create")))}
	update := &Decl{Check: UseridGroup([]string{"User.Modify"}, GroupsParam("update"))}
	password := &Decl{Check: Or(UseridParam(UseridSelf), And(UseridParam(UseridRealmAllocateUser), UseridGroup([]string{"User.Modify"})))}
	tokenish := &Decl{Check: Or(UseridParam(UseridSelf), UseridGroup([]string{"User.Modify"}))}
	runCheckCases(t, e, []checkCase{
		{"self", "dave@pve", p("userid", "dave@pve"), self, 0, ""},
		{"self other", "dave@pve", p("userid", "bob@pve"), self, 403, "Permission check failed"},
		{"self token is not its user", "eve@pve!nosep", p("userid", "eve@pve"), self, 403, "Permission check failed"},
		{"self missing user", "dave@pve", p("userid", "zz@pve"), self, 500, "no such user ('zz@pve')"},
		{"self malformed", "dave@pve", p("userid", "bad"), self, 400, "Parameter verification failed."},
		{"self token id", "dave@pve", p("userid", "dave@pve!x1"), self, 400, "Parameter verification failed."},
		{"self no userid", "dave@pve", nil, self, 400, "Parameter verification failed."},
		{"realm ok", "umgr@pve", p("userid", "new@pve"), realm, 0, ""},
		{"realm other", "umgr@pve", p("userid", "new@ldap"), realm, 403, "Permission check failed (/access/realm/ldap, Realm.AllocateUser)"},

		{"group all groups", "gadmin@pve", p("userid", "dave@pve"), group, 0, ""},
		{"group via member group", "umgr@pve", p("userid", "bob@pve"), group, 0, ""},
		{"group not member", "umgr@pve", p("userid", "alice@pve"), group, 403, "Permission check failed"},
		{"group missing user", "umgr@pve", p("userid", "zz@pve"), group, 500, "no such user ('zz@pve')"},
		{"group nobody", "dave@pve", p("userid", "bob@pve"), group, 403, "Permission check failed"},

		{"create in allowed group", "umgr@pve", p("userid", "new@pve", "groups", "dbteam"), create, 0, ""},
		{"create without groups", "umgr@pve", p("userid", "new@pve"), create, 403, "Permission check failed (/access/groups, User.Modify)"},
		{"create empty groups", "umgr@pve", p("userid", "new@pve", "groups", " , "), create, 403, "Permission check failed (/access/groups, User.Modify)"},
		{"create foreign group", "umgr@pve", p("userid", "new@pve", "groups", "dbteam;admins"), create, 403, "Permission check failed (/access/groups/admins, User.Modify)"},
		{"create unknown group", "umgr@pve", p("userid", "new@pve", "groups", "nope"), create, 403, "Permission check failed (/access/groups/nope, User.Modify)"},
		{"create wrong realm", "umgr@pve", p("userid", "new@ldap", "groups", "dbteam"), create, 403, "Permission check failed (/access/realm/ldap, Realm.AllocateUser)"},
		{"create gadmin needs realm", "gadmin@pve", p("userid", "new@pve"), create, 403, "Permission check failed (/access/realm/pve, Realm.AllocateUser)"},
		{"create existing user fine", "umgr@pve", p("userid", "bob@pve", "groups", "dbteam"), create, 0, ""},

		{"update allowed", "umgr@pve", p("userid", "bob@pve", "groups", "dbteam"), update, 0, ""},
		{"update user outside", "umgr@pve", p("userid", "alice@pve", "groups", "dbteam"), update, 403, "Permission check failed"},
		{"update no groups", "umgr@pve", p("userid", "bob@pve"), update, 403, "Permission check failed (/access/groups, User.Modify)"},
		{"update gadmin", "gadmin@pve", p("userid", "alice@pve"), update, 0, ""},

		{"password self", "dave@pve", p("userid", "dave@pve"), password, 0, ""},
		{"password delegated", "umgr@pve", p("userid", "bob@pve"), password, 0, ""},
		{"password and raises inner", "umgr@pve", p("userid", "carol@ldap"), password, 403, "Permission check failed (/access/realm/ldap, Realm.AllocateUser)"},
		{"password stranger", "dave@pve", p("userid", "bob@pve"), password, 403, "Permission check failed (/access/realm/pve, Realm.AllocateUser)"},
		{"password not in group", "umgr@pve", p("userid", "alice@pve"), password, 403, "Permission check failed"},
		{"password missing user", "umgr@pve", p("userid", "zz@pve"), password, 500, "no such user ('zz@pve')"},

		{"or self", "dave@pve", p("userid", "dave@pve"), tokenish, 0, ""},
		{"or group", "umgr@pve", p("userid", "bob@pve"), tokenish, 0, ""},
		{"or none", "dave@pve", p("userid", "bob@pve"), tokenish, 403, "Permission check failed"},
		{"or missing user is soft", "dave@pve", p("userid", "zz@pve"), tokenish, 403, "Permission check failed"},
		{"or malformed is 400", "dave@pve", p("userid", "zz"), tokenish, 400, "Parameter verification failed."},
	})
}

func TestPermModifyCheck(t *testing.T) {
	e := checkFixture()
	d := &Decl{Check: PermModify("{path}")}
	runCheckCases(t, e, []checkCase{
		{"vm allocate", "vmadm@pve", p("path", "/vms/100"), d, 0, ""},
		{"vm allocate not on parent", "vmadm@pve", p("path", "/vms"), d, 403, "Permission check failed (/vms, Permissions.Modify)"},
		{"datastore allocate", "stor@pve", p("path", "/storage/local"), d, 0, ""},
		{"datastore not on /storage", "stor@pve", p("path", "/storage"), d, 403, "Permission check failed (/storage, Permissions.Modify)"},
		{"pool", "dave@pve", p("path", "/pool/x"), d, 403, "Permission check failed (/pool/x, Permissions.Modify|Pool.Allocate)"},
		{"permissions modify", "pmod@pve", p("path", "/access/groups"), d, 0, ""},
		{"normalized", "vmadm@pve", p("path", "//vms//100/"), d, 0, ""},
		{"invalid path", "pmod@pve", p("path", "/a b"), d, 400, "Parameter verification failed."},
		{"missing path is /-", "pmod@pve", nil, d, 403, "Permission check failed (/-, Permissions.Modify)"},
	})
	if err := e.CheckPermModify("pmod@pve", ""); err != nil {
		t.Errorf("CheckPermModify(pmod, \"\") = %v", err)
	}
	if err := e.CheckPermModify("dave@pve", ""); err == nil || err.Error() != "Permission check failed (/access, Permissions.Modify)" {
		t.Errorf("CheckPermModify(dave, \"\") = %v", err)
	}
}

func TestAndOr(t *testing.T) {
	e := checkFixture()
	a := Perm("/", []string{"Sys.Audit"})
	b := Perm("/vms/100", []string{"VM.Allocate"})
	runCheckCases(t, e, []checkCase{
		{"and both", "root@pam!nosep", nil, &Decl{Check: And(a, b)}, 0, ""},
		{"and first fails", "vmadm@pve", nil, &Decl{Check: And(a, b)}, 403, "Permission check failed (/, Sys.Audit)"},
		{"and second fails", "aud@pve", nil, &Decl{Check: And(a, b)}, 403, "Permission check failed (/vms/100, VM.Allocate)"},
		{"and empty", "dave@pve", nil, &Decl{Check: And()}, 0, ""},
		{"or first", "aud@pve", nil, &Decl{Check: Or(a, b)}, 0, ""},
		{"or second", "vmadm@pve", nil, &Decl{Check: Or(a, b)}, 0, ""},
		{"or none", "dave@pve", nil, &Decl{Check: Or(a, b)}, 403, "Permission check failed"},
		{"or empty", "dave@pve", nil, &Decl{Check: Or()}, 403, "Permission check failed"},
		{"or with failing and first", "vmadm@pve", nil, &Decl{Check: Or(And(a), b)}, 403, "Permission check failed (/, Sys.Audit)"},
		{"nested or in and", "vmadm@pve", nil, &Decl{Check: And(Or(a, b), b)}, 0, ""},
		{"unknown userid-param test", "dave@pve", p("userid", "dave@pve"), &Decl{Check: UseridParam("bogus")}, 500, "unknown userid-param test"},
		{"perm without privs", "dave@pve", nil, &Decl{Check: Perm("/", nil)}, 500, "missing parameters"},
	})
	// a check evaluated without context does not panic
	if err := a.Eval(nil); err == nil || err.(*Error).Code != http.StatusInternalServerError {
		t.Errorf("Eval(nil) = %v", err)
	}
}

func TestTemplateReplace(t *testing.T) {
	for _, tc := range []struct{ tmpl, want string }{
		{"/vms/{vmid}", "/vms/100"},
		{"/x/{missing}/y", "/x/-/y"},
		{"{a}{b}", "100-"},
		{"/plain", "/plain"},
		{"/open{brace", "/openbrace"},
		{"", ""},
	} {
		if got := templateReplace(tc.tmpl, map[string]string{"vmid": "100", "a": "100", "b": ""}); got != tc.want {
			t.Errorf("templateReplace(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}
