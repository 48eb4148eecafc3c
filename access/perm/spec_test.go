package perm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestSchemaDeclsRoundTrip reads every permission declaration of the Proxmox
// API schema for /access and /cluster, and renders it back unchanged.
func TestSchemaDeclsRoundTrip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "reference", "pve-api-schema-access-cluster.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, methods := range schema {
		for method, raw := range methods {
			var m struct {
				Permissions json.RawMessage `json:"permissions"`
			}
			if err := json.Unmarshal(raw, &m); err != nil || m.Permissions == nil {
				continue
			}
			var d Decl
			if err := json.Unmarshal(m.Permissions, &d); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			json.Unmarshal(m.Permissions, &want)
			json.Unmarshal(out, &got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: round trip\n got %s\nwant %s", method, path, out, m.Permissions)
			}
			n++
		}
	}
	if n < 40 {
		t.Errorf("only %d declarations found", n)
	}
}

func TestParseCheckErrors(t *testing.T) {
	for _, in := range []string{
		`[]`, `"perm"`, `[""]`, `["bogus"]`, `["perm"]`, `["perm", "/", "Sys.Audit"]`,
		`["perm", "/", ["No.Such"]]`, `["perm", "/", ["Sys.Audit"], "any"]`, `["perm", "/", ["Sys.Audit"], "x", 1]`,
		`["userid-param"]`, `["userid-param", "other"]`, `["userid-group"]`, `["userid-group", ["User.Modify"], "x", "y"]`,
		`["perm-modify"]`, `["and", ["bogus"]]`, `["or", 1]`,
	} {
		var v any
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatal(err)
		}
		if c, err := ParseCheck(v); err == nil {
			t.Errorf("ParseCheck(%s) = %v, want error", in, c.Spec())
		}
	}
	var d Decl
	if err := json.Unmarshal([]byte(`{"user":"nobody"}`), &d); err == nil {
		t.Errorf("unknown user accepted")
	}
}

// TestParsedCheckEvaluates makes sure parsed declarations behave like built ones.
func TestParsedCheckEvaluates(t *testing.T) {
	e := checkFixture()
	var d Decl
	src := `{"check":["or",["userid-param","self"],["and",["userid-param","Realm.AllocateUser"],["userid-group",["User.Modify"]]]]}`
	if err := json.Unmarshal([]byte(src), &d); err != nil {
		t.Fatal(err)
	}
	runCheckCases(t, e, []checkCase{
		{"delegated", "umgr@pve", p("userid", "bob@pve"), &d, 0, ""},
		{"and raises", "umgr@pve", p("userid", "carol@ldap"), &d, 403, "Permission check failed (/access/realm/ldap, Realm.AllocateUser)"},
	})
	var any1 Decl
	if err := json.Unmarshal([]byte(`{"check":["perm","/access/groups",["Sys.Audit","Group.Allocate"],"any",1]}`), &any1); err != nil {
		t.Fatal(err)
	}
	runCheckCases(t, e, []checkCase{
		{"any parsed", "aud@pve", nil, &any1, 0, ""},
		{"any parsed fails", "dave@pve", nil, &any1, 403, "Permission check failed (/access/groups, Sys.Audit|Group.Allocate)"},
	})
}
