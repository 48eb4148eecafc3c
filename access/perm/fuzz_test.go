package perm

import (
	"math/rand"
	"reflect"
	"testing"
)

// FuzzAgainstNaive compares the engine with the direct algorithm for
// arbitrary authids and paths on random configurations; it also makes sure
// no input panics.
func FuzzAgainstNaive(f *testing.F) {
	for _, a := range randomAuthids {
		for _, p := range randomPaths {
			f.Add(int64(len(a)*31+len(p)), a, p)
		}
	}
	f.Fuzz(func(t *testing.T, seed int64, authid, path string) {
		cfg := randomConfig(rand.New(rand.NewSource(seed)))
		e := Compile(cfg)
		if got, want := e.Roles(authid, path), naiveRoles(cfg, authid, path); !reflect.DeepEqual(got, want) {
			t.Fatalf("Roles(%q, %q) = %v, want %v", authid, path, got, want)
		}
		if got, want := e.Permissions(authid, path), naivePermissions(cfg, authid, path); !reflect.DeepEqual(got, want) {
			t.Fatalf("Permissions(%q, %q) = %v, want %v", authid, path, got, want)
		}
		ctx := &Ctx{Engine: e, AuthID: authid, Params: map[string]string{"userid": authid, "path": path, "groups": path}}
		for _, c := range []Check{
			Perm("/vms/{path}", []string{"VM.Audit"}), PermModify("{path}"),
			Or(UseridParam(UseridSelf), UseridGroup([]string{"User.Modify"}, GroupsParam("update"))),
			And(UseridParam(UseridRealmAllocateUser), UseridGroup([]string{"User.Modify"}, GroupsParam("create"))),
		} {
			_ = c.Eval(ctx)
		}
		_, _ = PermissionsFor(e, authid, map[string]string{"userid": path})
	})
}
