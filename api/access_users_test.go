package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/shadow"
)

func TestAccessUserListShape(t *testing.T) {
	e := newAccEnv(t)
	var raw []map[string]any
	e.do("GET", "/access/users", "root@pam", nil).decode(t, &raw)
	if len(raw) != 6 {
		t.Fatalf("root sees %d users, want 6", len(raw))
	}
	var ids []string
	for _, u := range raw {
		ids = append(ids, u["userid"].(string))
		if _, ok := u["groups"]; ok {
			t.Errorf("%v: groups without full", u["userid"])
		}
		if _, ok := u["tokens"]; ok {
			t.Errorf("%v: tokens without full", u["userid"])
		}
		if _, ok := u["enable"].(float64); !ok {
			t.Errorf("%v: enable %#v is not a number", u["userid"], u["enable"])
		}
		if _, ok := u["expire"].(float64); !ok {
			t.Errorf("%v: expire %#v is not a number", u["userid"], u["expire"])
		}
		if u["realm-type"] == nil {
			t.Errorf("%v: no realm-type", u["userid"])
		}
	}
	want := []string{"alice@pve", "bob@pve", "carol@pve", "dave@pve", "erin@pve", "root@pam"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("users %v, want sorted %v", ids, want)
	}
	alice := raw[0]
	for k, v := range map[string]any{"enable": 1.0, "expire": 0.0, "firstname": "Alice", "lastname": "Smith",
		"email": "alice@example.com", "comment": "admin", "realm-type": "pve"} {
		if alice[k] != v {
			t.Errorf("alice %s = %#v, want %#v", k, alice[k], v)
		}
	}
	if _, ok := raw[3]["email"]; ok {
		t.Error("empty e-mail is not omitted")
	}

	e.do("GET", "/access/users", "root@pam", vals("full", "1")).decode(t, &raw)
	if raw[0]["groups"] != "admins" {
		t.Errorf("full: alice groups %#v, want \"admins\"", raw[0]["groups"])
	}
	toks, ok := raw[0]["tokens"].([]any)
	if !ok || len(toks) != 1 {
		t.Fatalf("full: alice tokens %#v, want a list of one", raw[0]["tokens"])
	}
	wantTok := map[string]any{"tokenid": "tok", "privsep": 1.0, "expire": 0.0, "comment": "alice token"}
	if !reflect.DeepEqual(toks[0], wantTok) {
		t.Errorf("full: token %#v, want %#v", toks[0], wantTok)
	}
	if raw[3]["groups"] != "" {
		t.Errorf("full: dave groups %#v, want \"\"", raw[3]["groups"])
	}
	if _, ok := raw[3]["tokens"]; ok {
		t.Error("full: dave has a tokens key without tokens")
	}
}

func TestAccessUserListFilter(t *testing.T) {
	cases := []struct {
		name, as string
		params   []string
		want     []string
	}{
		{"root", "root@pam", nil, []string{"alice@pve", "bob@pve", "carol@pve", "dave@pve", "erin@pve", "root@pam"}},
		{"enabled=1", "root@pam", []string{"enabled", "1"}, []string{"alice@pve", "bob@pve", "dave@pve", "erin@pve", "root@pam"}},
		{"enabled=0", "root@pam", []string{"enabled", "0"}, []string{"carol@pve"}},
		{"admin via group", "alice@pve", nil, []string{"alice@pve", "bob@pve", "carol@pve", "dave@pve", "erin@pve", "root@pam"}},
		{"auditor", "erin@pve", nil, []string{"alice@pve", "bob@pve", "carol@pve", "dave@pve", "erin@pve", "root@pam"}},
		{"group delegate", "bob@pve", nil, []string{"bob@pve", "carol@pve"}},
		{"nobody sees only self", "dave@pve", nil, []string{"dave@pve"}},
		{"token without ACLs sees nothing", "alice@pve!tok", nil, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			var list []struct {
				Userid string `json:"userid"`
			}
			e.do("GET", "/access/users", c.as, vals(c.params...)).decode(t, &list)
			got := []string{}
			for _, u := range list {
				got = append(got, u.Userid)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestAccessUserRead(t *testing.T) {
	e := newAccEnv(t)
	var alice map[string]any
	e.do("GET", "/access/users/alice@pve", "root@pam", nil).decode(t, &alice)
	want := map[string]any{"enable": 1.0, "expire": 0.0, "firstname": "Alice", "lastname": "Smith",
		"email": "alice@example.com", "comment": "admin", "groups": []any{"admins"},
		"tokens": map[string]any{"tok": map[string]any{"privsep": 1.0, "expire": 0.0, "comment": "alice token"}}}
	if !reflect.DeepEqual(alice, want) {
		t.Errorf("alice = %#v\nwant %#v", alice, want)
	}
	var dave map[string]any
	e.do("GET", "/access/users/dave%40pve", "root@pam", nil).decode(t, &dave)
	if g, ok := dave["groups"].([]any); !ok || len(g) != 0 {
		t.Errorf("dave groups %#v, want []", dave["groups"])
	}
	if v, ok := dave["tokens"]; !ok || v != nil {
		t.Errorf("dave tokens %#v (present %v), want null", v, ok)
	}
	// the delegate may read members of his group, with or without Sys.Audit
	if r := e.do("GET", "/access/users/carol@pve", "bob@pve", nil); r.Status != 200 {
		t.Errorf("bob reading carol: %d %q", r.Status, r.Message)
	}
	if r := e.do("GET", "/access/users/carol@pve", "erin@pve", nil); r.Status != 200 {
		t.Errorf("erin (Sys.Audit) reading carol: %d %q", r.Status, r.Message)
	}
}

func TestAccessUserErrors(t *testing.T) {
	runAccCases(t, []accCase{
		{name: "read missing (root)", method: "GET", path: "/access/users/nobody@pve", as: "root@pam",
			status: 500, wantMsg: "no such user ('nobody@pve')\n"},
		{name: "read missing (non-root)", method: "GET", path: "/access/users/nobody@pve", as: "alice@pve",
			status: 500, wantMsg: "no such user ('nobody@pve')\n"},
		{name: "read malformed", method: "GET", path: "/access/users/norealm", as: "root@pam",
			status: 400, wantErrs: []string{"userid"}},
		{name: "read unknown param", method: "GET", path: "/access/users/alice@pve", as: "root@pam",
			params: vals("foo", "1"), status: 400, wantErrs: []string{"foo"}},
		{name: "read outside delegation", method: "GET", path: "/access/users/alice@pve", as: "bob@pve",
			status: 403, wantMsg: "Permission check failed"},
		{name: "read forbidden", method: "GET", path: "/access/users/alice@pve", as: "dave@pve", status: 403},
		{name: "list bad boolean", method: "GET", path: "/access/users", as: "root@pam",
			params: vals("full", "maybe"), status: 400, wantErrs: []string{"full"}},
		{name: "anonymous", method: "GET", path: "/access/users", status: 401},

		{name: "create missing userid", method: "POST", path: "/access/users", as: "root@pam",
			status: 400, wantErrs: []string{"userid"}},
		{name: "create no realm", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "no-realm"), status: 400,
			wantErrs: []string{"userid=invalid format - value 'no-realm' does not look like a valid user name\n"},
			wantMsg:  "Parameter verification failed."},
		{name: "create unknown param", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "colour", "red"), status: 400, wantErrs: []string{"colour"}},
		{name: "create bad email", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "email", "not-an-address"), status: 400, wantErrs: []string{"email"}},
		{name: "create short password", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "password", "short"), status: 400, wantErrs: []string{"password"}},
		{name: "create bad expire", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "expire", "-1"), status: 400, wantErrs: []string{"expire"}},
		{name: "create bad keys", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "keys", "a:b"), status: 400, wantErrs: []string{"keys=value does not match the regex pattern"}},
		{name: "create keys too long", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "keys", strings.Repeat("x", 4097)), status: 400, wantErrs: []string{"keys=value does not match the regex pattern"}},
		{name: "create bad group name", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "groups", "ok,b@d"), status: 400,
			wantErrs: []string{"groups=invalid format - group name 'b@d' contains invalid characters\n"}},
		{name: "create long comment", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "comment", strings.Repeat("x", 2049)), status: 400, wantErrs: []string{"comment"}},
		{name: "create existing", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "alice@pve"), status: 500, wantMsg: "create user failed: user 'alice@pve' already exists\n"},
		{name: "create unknown group", method: "POST", path: "/access/users", as: "root@pam",
			params: vals("userid", "new@pve", "groups", "nosuch"), status: 500, wantMsg: "no such group 'nosuch'"},
		{name: "create forbidden", method: "POST", path: "/access/users", as: "dave@pve",
			params: vals("userid", "new@pve"), status: 403, wantMsg: "Permission check failed (/access/realm/pve, Realm.AllocateUser)"},
		{name: "create delegate without groups", method: "POST", path: "/access/users", as: "bob@pve",
			params: vals("userid", "new@pve"), status: 403},
		{name: "create token", method: "POST", path: "/access/users", as: "alice@pve!tok",
			params: vals("userid", "new@pve"), status: 403},

		{name: "update append without groups", method: "PUT", path: "/access/users/dave@pve", as: "root@pam",
			params: vals("append", "1"), status: 400, wantErrs: []string{"groups=missing property - 'append' requires this property"}},
		{name: "update missing user", method: "PUT", path: "/access/users/nobody@pve", as: "root@pam",
			params: vals("comment", "x"), status: 500, wantMsg: "no such user ('nobody@pve')"},
		{name: "update bad enable", method: "PUT", path: "/access/users/dave@pve", as: "root@pam",
			params: vals("enable", "yes please"), status: 400, wantErrs: []string{"enable"}},
		{name: "update conflicting userid", method: "PUT", path: "/access/users/dave@pve", as: "root@pam",
			params: vals("userid", "erin@pve"), status: 400},
		{name: "update forbidden", method: "PUT", path: "/access/users/alice@pve", as: "dave@pve",
			params: vals("comment", "x"), status: 403},
		{name: "update delegate into foreign group", method: "PUT", path: "/access/users/carol@pve", as: "bob@pve",
			params: vals("groups", "admins"), status: 403, wantMsg: "/access/groups/admins"},

		{name: "delete missing", method: "DELETE", path: "/access/users/nobody@pve", as: "root@pam",
			status: 500, wantMsg: "delete user failed: no such user ('nobody@pve')"},
		{name: "delete forbidden", method: "DELETE", path: "/access/users/erin@pve", as: "erin@pve", status: 403},
	})
}

func TestAccessUserCreateUpdateDelete(t *testing.T) {
	e := newAccEnv(t)
	const pw = "correct horse battery"
	r := e.do("POST", "/access/users", "root@pam", vals("userid", "frank@pve", "password", pw, "groups", "devs,ops",
		"firstname", "Frank", "email", "frank@example.com", "expire", "0", "enable", "1"))
	if r.Status != 200 || string(r.Data) != "null" {
		t.Fatalf("create: %d %q %s", r.Status, r.Message, r.Data)
	}
	cfg := e.file("user.cfg")
	for _, want := range []string{"user:frank@pve:1:0:Frank::frank@example.com:::", "group:devs:bob@pve,carol@pve,frank@pve:", "group:ops:frank@pve:"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("user.cfg lacks %q:\n%s", want, cfg)
		}
	}
	sh := e.file(shadow.Path)
	if strings.Contains(sh, pw) || !strings.Contains(sh, "frank:$5$") {
		t.Fatalf("shadow.cfg does not hold a $5$ hash only:\n%s", sh)
	}
	m, _, _ := e.tree.Model(shadow.Path)
	if err := m.(*shadow.Shadow).Check("frank", pw); err != nil {
		t.Fatalf("stored hash does not verify: %v", err)
	}

	// JSON body with JSON booleans (go-proxmox)
	r = e.doJSON("PUT", "/access/users/frank@pve", "root@pam", `{"comment":"updated","enable":false,"groups":"admins","append":true}`)
	if r.Status != 200 {
		t.Fatalf("update: %d %q %v", r.Status, r.Message, r.Errors)
	}
	var u map[string]any
	e.do("GET", "/access/users/frank@pve", "root@pam", nil).decode(t, &u)
	if u["comment"] != "updated" || u["enable"] != 0.0 || !reflect.DeepEqual(u["groups"], []any{"admins", "devs", "ops"}) {
		t.Fatalf("after update: %#v", u)
	}
	// groups without append replaces the memberships; "" leaves none
	if r := e.do("PUT", "/access/users/frank@pve", "root@pam", vals("groups", "")); r.Status != 200 {
		t.Fatalf("clear groups: %d %q", r.Status, r.Message)
	}
	e.do("GET", "/access/users/frank@pve", "root@pam", nil).decode(t, &u)
	if g := u["groups"].([]any); len(g) != 0 {
		t.Fatalf("groups after clearing: %v", g)
	}
	// the group delegate may move a member of his group within it
	if r := e.do("PUT", "/access/users/carol@pve", "bob@pve", vals("groups", "devs", "comment", "by bob")); r.Status != 200 {
		t.Fatalf("delegate update: %d %q", r.Status, r.Message)
	}
	// but creating users needs Realm.AllocateUser on the realm as well
	if r := e.do("POST", "/access/users", "bob@pve", vals("userid", "gina@pve", "groups", "devs")); r.Status != 403 ||
		r.Message != "Permission check failed (/access/realm/pve, Realm.AllocateUser)\n" {
		t.Fatalf("delegate create: %d %q", r.Status, r.Message)
	}

	if r := e.do("DELETE", "/access/users/frank@pve", "root@pam", nil); r.Status != 200 {
		t.Fatalf("delete: %d %q", r.Status, r.Message)
	}
	if strings.Contains(e.file("user.cfg"), "frank@pve") || strings.Contains(e.file(shadow.Path), "frank:") {
		t.Fatalf("frank survives deletion:\n%s\n%s", e.file("user.cfg"), e.file(shadow.Path))
	}
	if r := e.do("GET", "/access/users/frank@pve", "root@pam", nil); r.Status != 500 {
		t.Fatalf("read deleted user: %d", r.Status)
	}
}

func TestAccessUserResponseIsNumbers(t *testing.T) {
	// booleans are answered 0/1 even when sent as JSON true/false
	e := newAccEnv(t)
	if r := e.doJSON("POST", "/access/users", "root@pam", `{"userid":"h@pve","enable":true}`); r.Status != 200 {
		t.Fatalf("create: %d %q %v", r.Status, r.Message, r.Errors)
	}
	r := e.do("GET", "/access/users/h@pve", "root@pam", nil)
	var m map[string]json.RawMessage
	r.decode(t, &m)
	if string(m["enable"]) != "1" {
		t.Fatalf("enable answered as %s", m["enable"])
	}
	if r.Header.Get("Content-Type") != ContentType {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	if r := e.do("GET", "/access/users/h@pve", "root@pam", nil); r.Status != http.StatusOK {
		t.Fatal(r.Message)
	}
}
