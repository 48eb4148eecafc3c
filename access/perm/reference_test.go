package perm

import (
	"reflect"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

// refExample is the configuration of the alice example of access-control.md
// §5.2 (auditor group at /, a deeper user ACL, a privsep token).
const refExample = `user:root@pam:1:0::::::
user:alice@pve:1:0::::::
token:alice@pve!monitoring:0:1::
group:admins:alice@pve::
acl:1:/:@admins:PVEAuditor:
acl:0:/storage/local:alice@pve:PVEDatastoreUser:
acl:1:/vms/100:alice@pve!monitoring:PVEVMUser:
`

func parseEngine(t *testing.T, text string) *Engine {
	t.Helper()
	cfg, warnings := usercfg.Parse([]byte(text))
	if len(warnings) > 0 {
		t.Fatalf("parse warnings: %v", warnings)
	}
	return Compile(cfg)
}

func TestReferenceExamples(t *testing.T) {
	e := parseEngine(t, refExample)
	for _, tc := range []struct {
		authid, path string
		want         map[string]bool
	}{
		// the deeper user ACL replaces the inherited auditor roles
		{"alice@pve", "/storage/local", map[string]bool{"Datastore.AllocateSpace": false, "Datastore.Audit": false}},
		// token PVEVMUser intersected with the owner's PVEAuditor
		{"alice@pve!monitoring", "/vms/100", map[string]bool{"VM.Audit": true, "VM.GuestAgent.Audit": true}},
		{"alice@pve!monitoring", "/vms/101", map[string]bool{}},
		{"alice@pve", "/vms/100/", map[string]bool{"VM.Audit": true, "VM.GuestAgent.Audit": true,
			"Datastore.Audit": true, "Mapping.Audit": true, "Pool.Audit": true, "SDN.Audit": true, "Sys.Audit": true}},
	} {
		if got := e.Permissions(tc.authid, tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Permissions(%s, %s) = %v, want %v", tc.authid, tc.path, got, tc.want)
		}
	}
	// the login cap object of §5.3 is alice's
	wantCap := map[string]map[string]int{
		"access":  {},
		"dc":      {"SDN.Audit": 1, "Sys.Audit": 1},
		"mapping": {"Mapping.Audit": 1},
		"nodes":   {"Sys.Audit": 1},
		"sdn":     {"SDN.Audit": 1},
		"storage": {"Datastore.AllocateSpace": 1, "Datastore.Audit": 1},
		"vms":     {"VM.Audit": 1, "VM.GuestAgent.Audit": 1},
	}
	if got := e.APIPermissions("alice@pve"); !reflect.DeepEqual(got, wantCap) {
		t.Errorf("APIPermissions(alice) =\n %v\nwant %v", got, wantCap)
	}
}

func TestEffectivePermissionsWithPath(t *testing.T) {
	e := parseEngine(t, refExample)
	for _, tc := range []struct {
		authid, path string
		want         map[string]map[string]int
	}{
		{"alice@pve!monitoring", "/nowhere", map[string]map[string]int{"/nowhere": {}}},
		{"nobody@pve", "/", map[string]map[string]int{"/": {}}},
		{"alice@pve", "/storage/local/", map[string]map[string]int{"/storage/local/": {"Datastore.AllocateSpace": 0, "Datastore.Audit": 0}}},
		{"alice@pve!monitoring", "/vms/100", map[string]map[string]int{"/vms/100": {"VM.Audit": 1, "VM.GuestAgent.Audit": 1}}},
	} {
		if got := e.EffectivePermissions(tc.authid, tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("EffectivePermissions(%s, %s) = %v, want %v", tc.authid, tc.path, got, tc.want)
		}
	}
	got, err := PermissionsFor(e, "alice@pve", map[string]string{"userid": "alice@pve!monitoring", "path": "/vms/100"})
	if err != nil || !reflect.DeepEqual(got, map[string]map[string]int{"/vms/100": {"VM.Audit": 1, "VM.GuestAgent.Audit": 1}}) {
		t.Errorf("PermissionsFor(owned token, path) = %v, %v", got, err)
	}
	// alice is an auditor (Sys.Audit on /access through /), so she may read root's
	if _, err := PermissionsFor(e, "alice@pve", map[string]string{"userid": "root@pam"}); err != nil {
		t.Errorf("auditor reading root: %v", err)
	}
	if _, err := PermissionsFor(e, "alice@pve!monitoring", map[string]string{"userid": "root@pam"}); !IsPermissionDenied(err) {
		t.Errorf("token reading root: %v, want 403", err)
	}
}

func TestRootAndTokens(t *testing.T) {
	e := parseEngine(t, `user:root@pam:1:0::::::
token:root@pam!sep:0:1::
token:root@pam!nosep:0:0::
acl:1:/vms:root@pam!sep:PVEAuditor:
`)
	if got := e.Roles("root@pam", "/anything"); !reflect.DeepEqual(got, map[string]bool{"Administrator": true}) {
		t.Errorf("Roles(root) = %v", got)
	}
	if got := e.Roles("root@pam!nosep", "/vms"); !reflect.DeepEqual(got, map[string]bool{"Administrator": true}) {
		t.Errorf("Roles(root!nosep) = %v", got)
	}
	if got := len(e.Permissions("root@pam!nosep", "/x")); got != 47 {
		t.Errorf("root!nosep has %d privileges, want 47", got)
	}
	if got := len(e.Permissions("root@pam", "")); got != 47 {
		t.Errorf("root has %d privileges on '', want 47", got)
	}
	// a privsep root token gets exactly its token ACLs: no intersection
	want := map[string]bool{"Datastore.Audit": true, "Mapping.Audit": true, "Pool.Audit": true, "SDN.Audit": true,
		"Sys.Audit": true, "VM.Audit": true, "VM.GuestAgent.Audit": true}
	if got := e.Permissions("root@pam!sep", "/vms/1"); !reflect.DeepEqual(got, want) {
		t.Errorf("Permissions(root!sep) = %v", got)
	}
	if got := e.Permissions("root@pam!sep", "/"); len(got) != 0 {
		t.Errorf("Permissions(root!sep, /) = %v", got)
	}
	for _, a := range []string{"root@pam!missing", "ghost@pve", "x", "", "a@pve!zz"} {
		if got := e.Permissions(a, "/vms"); len(got) != 0 {
			t.Errorf("Permissions(%q) = %v", a, got)
		}
		if got := e.Roles(a, "/vms"); len(got) != 0 {
			t.Errorf("Roles(%q) = %v", a, got)
		}
	}
	if e.Check("ghost@pve", "/", nil, false) != true || e.Check("ghost@pve", "/", nil, true) != false {
		t.Errorf("empty privilege lists: all passes, any fails")
	}
	if err := e.Require("root@pam", "/", []string{"Bad.Priv"}, false); err == nil || err.Error() != "invalid privilege 'Bad.Priv'" {
		t.Errorf("Require with invalid priv = %v", err)
	}
}

func TestCompileNil(t *testing.T) {
	e := Compile(nil)
	if len(e.Permissions("root@pam", "/")) != 0 {
		t.Errorf("nil config: root has privileges without an Administrator role")
	}
	if len(e.EffectivePermissions("a@pve", "")) != 0 || e.UserExists("root@pam") {
		t.Errorf("nil config is not empty")
	}
}
