package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/cfs"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// tokenStore returns the current token.cfg model.
func (e *accEnv) tokenStore() *tokens.Store {
	e.t.Helper()
	m, _, err := e.tree.Model(tokens.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.(*tokens.Store)
}

func TestAccessTokenCreate(t *testing.T) {
	cases := []struct {
		name, as, path string
		params         []string
		json           string
		info           map[string]any
	}{
		{name: "defaults", as: "root@pam", path: "/access/users/dave@pve/token/ci",
			info: map[string]any{"privsep": 1.0}},
		{name: "all fields", as: "root@pam", path: "/access/users/dave@pve/token/ci",
			params: []string{"privsep", "0", "expire", "1900000000", "comment", "CI pipeline"},
			info:   map[string]any{"privsep": 0.0, "expire": 1900000000.0, "comment": "CI pipeline"}},
		{name: "go-proxmox JSON with tokenid repeated", as: "root@pam", path: "/access/users/dave@pve/token/ci",
			json: `{"tokenid":"ci","comment":"e2e token","privsep":false}`,
			info: map[string]any{"privsep": 0.0, "comment": "e2e token"}},
		{name: "self", as: "dave@pve", path: "/access/users/dave@pve/token/ci",
			info: map[string]any{"privsep": 1.0}},
		{name: "group delegate", as: "bob@pve", path: "/access/users/carol@pve/token/ci",
			info: map[string]any{"privsep": 1.0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			var r accResp
			if c.json != "" {
				r = e.doJSON("POST", c.path, c.as, c.json)
			} else {
				r = e.do("POST", c.path, c.as, vals(c.params...))
			}
			var got struct {
				Full  string         `json:"full-tokenid"`
				Info  map[string]any `json:"info"`
				Value string         `json:"value"`
			}
			r.decode(t, &got)
			userid := strings.Split(strings.TrimPrefix(c.path, "/access/users/"), "/")[0]
			full := userid + "!ci"
			if got.Full != full || !uuidRE.MatchString(got.Value) || !reflect.DeepEqual(got.Info, c.info) {
				t.Fatalf("answer %+v, want %s, a lower-case UUID and info %v", got, full, c.info)
			}
			// only the hash is stored; the secret verifies against it
			for _, p := range []string{tokens.Path, "user.cfg"} {
				if strings.Contains(e.file(p), got.Value) {
					t.Fatalf("%s holds the clear secret", p)
				}
			}
			st := e.tokenStore()
			if h, _ := st.Hash(full); !tokens.IsHash(h) || !st.Verify(full, got.Value) {
				t.Fatalf("token.cfg entry %q does not verify the secret", h)
			}
			if !strings.Contains(e.file("user.cfg"), "token:"+full+":") {
				t.Fatalf("user.cfg lacks the token:\n%s", e.file("user.cfg"))
			}
		})
	}
}

func TestAccessTokenSecretsDiffer(t *testing.T) {
	e := newAccEnv(t)
	seen := map[string]bool{}
	for _, id := range []string{"a1", "a2", "a3"} {
		var got struct {
			Value string `json:"value"`
		}
		e.do("POST", "/access/users/dave@pve/token/"+id, "root@pam", nil).decode(t, &got)
		if seen[got.Value] {
			t.Fatalf("secret %s handed out twice", got.Value)
		}
		seen[got.Value] = true
	}
}

func TestAccessTokenReadList(t *testing.T) {
	e := newAccEnv(t)
	if r := e.do("POST", "/access/users/alice@pve/token/b2", "root@pam", vals("privsep", "0", "expire", "5")); r.Status != 200 {
		t.Fatal(r.Message)
	}
	var list []map[string]any
	e.do("GET", "/access/users/alice@pve/token", "alice@pve", nil).decode(t, &list)
	want := []map[string]any{
		{"tokenid": "b2", "privsep": 0.0, "expire": 5.0},
		{"tokenid": "tok", "privsep": 1.0, "expire": 0.0, "comment": "alice token"},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("list %v, want %v", list, want)
	}
	e.do("GET", "/access/users/dave@pve/token", "dave@pve", nil).decode(t, &list)
	if list == nil || len(list) != 0 {
		t.Fatalf("dave's tokens %#v, want []", list)
	}
	var one map[string]any
	e.do("GET", "/access/users/alice@pve/token/tok", "root@pam", nil).decode(t, &one)
	if !reflect.DeepEqual(one, map[string]any{"privsep": 1.0, "expire": 0.0, "comment": "alice token"}) {
		t.Fatalf("token %v", one)
	}
}

func TestAccessTokenUpdate(t *testing.T) {
	e := newAccEnv(t)
	oldHash, _ := e.tokenStore().Hash("alice@pve!tok")
	var got map[string]any
	e.do("PUT", "/access/users/alice@pve/token/tok", "alice@pve", vals("privsep", "0", "expire", "7", "comment", "new")).decode(t, &got)
	if !reflect.DeepEqual(got, map[string]any{"privsep": 0.0, "expire": 7.0, "comment": "new"}) {
		t.Fatalf("update answer %v", got)
	}
	if h, _ := e.tokenStore().Hash("alice@pve!tok"); h != oldHash {
		t.Fatal("a plain update changed the secret")
	}
	got = nil // Unmarshal merges into a non-nil map
	e.do("PUT", "/access/users/alice@pve/token/tok", "alice@pve", vals("delete", "comment")).decode(t, &got)
	if _, ok := got["comment"]; ok {
		t.Fatalf("comment survives delete=comment: %v", got)
	}
	got = nil
	e.do("PUT", "/access/users/alice@pve/token/tok", "root@pam", vals("regenerate", "1")).decode(t, &got)
	v, _ := got["value"].(string)
	if !uuidRE.MatchString(v) || got["full-tokenid"] != "alice@pve!tok" {
		t.Fatalf("regenerate answer %v", got)
	}
	st := e.tokenStore()
	if h, _ := st.Hash("alice@pve!tok"); h == oldHash || !st.Verify("alice@pve!tok", v) {
		t.Fatal("regenerate did not store the new secret's hash")
	}
	if strings.Contains(e.file(tokens.Path), v) {
		t.Fatal("token.cfg holds the regenerated clear secret")
	}

	// digest: SHA-1 (Proxmox) or SHA-256 (PBS) of user.cfg as it is now
	digests := map[string]func([]byte) string{
		"sha1":       func(b []byte) string { en, _ := e.tree.Get("user.cfg"); return en.Digest() },
		"sha256":     func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) },
		"sha1 upper": func(b []byte) string { en, _ := e.tree.Get("user.cfg"); return strings.ToUpper(en.Digest()) },
	}
	var stale string
	for i, name := range []string{"sha1", "sha256", "sha1 upper"} {
		en, _ := e.tree.Get("user.cfg")
		stale = en.Digest()
		dg := digests[name](en.Bytes())
		if r := e.do("PUT", "/access/users/alice@pve/token/tok", "root@pam", vals("comment", "d"+string(rune('a'+i)), "digest", dg)); r.Status != 200 {
			t.Fatalf("current %s digest %s refused: %d %q", name, dg, r.Status, r.Message)
		}
	}
	// stale: user.cfg changed with the last update
	before := e.tree.Checksum()
	r := e.do("PUT", "/access/users/alice@pve/token/tok", "root@pam", vals("comment", "e", "digest", stale))
	if r.Status != 500 || r.Message != "updating token info failed: detected modified configuration - file changed by other user? Try again.\n" {
		t.Fatalf("stale digest: %d %q", r.Status, r.Message)
	}
	if e.tree.Checksum() != before {
		t.Fatal("stale digest changed the tree")
	}
}

func TestAccessTokenDelete(t *testing.T) {
	e := newAccEnv(t)
	if r := e.do("PUT", "/access/acl", "root@pam", vals("path", "/vms", "roles", "PVEAuditor", "tokens", "alice@pve!tok")); r.Status != 200 {
		t.Fatal(r.Message)
	}
	if r := e.do("DELETE", "/access/users/alice@pve/token/tok", "alice@pve", nil); r.Status != 200 || string(r.Data) != "null" {
		t.Fatalf("delete: %d %q", r.Status, r.Message)
	}
	if e.tokenStore().Has("alice@pve!tok") || strings.Contains(e.file("user.cfg"), "alice@pve!tok") {
		t.Fatalf("token survives deletion:\n%s", e.file("user.cfg"))
	}
}

func TestAccessTokenErrors(t *testing.T) {
	runAccCases(t, []accCase{
		{name: "create existing", method: "POST", path: "/access/users/alice@pve/token/tok", as: "root@pam",
			status: 400, wantErrs: []string{"tokenid=Token already exists."}},
		{name: "create missing user", method: "POST", path: "/access/users/nobody@pve/token/tt", as: "root@pam",
			status: 500, wantMsg: "no such user ('nobody@pve')"},
		{name: "create bad tokenid", method: "POST", path: "/access/users/dave@pve/token/1x", as: "root@pam",
			status: 400, wantErrs: []string{"tokenid=value does not match the regex pattern"}},
		{name: "create short tokenid", method: "POST", path: "/access/users/dave@pve/token/x", as: "root@pam",
			status: 400, wantErrs: []string{"tokenid"}},
		{name: "create conflicting tokenid", method: "POST", path: "/access/users/dave@pve/token/ab", as: "root@pam",
			params: vals("tokenid", "cd"), status: 400},
		{name: "create bad privsep", method: "POST", path: "/access/users/dave@pve/token/ab", as: "root@pam",
			params: vals("privsep", "2"), status: 400, wantErrs: []string{"privsep"}},
		{name: "create negative expire", method: "POST", path: "/access/users/dave@pve/token/ab", as: "root@pam",
			params: vals("expire", "-5"), status: 400, wantErrs: []string{"expire"}},
		{name: "create unknown param", method: "POST", path: "/access/users/dave@pve/token/ab", as: "root@pam",
			params: vals("value", "x"), status: 400, wantErrs: []string{"value"}},
		{name: "create for another user", method: "POST", path: "/access/users/alice@pve/token/ab", as: "dave@pve",
			status: 403},
		{name: "token may not create for its owner", method: "POST", path: "/access/users/alice@pve/token/ab", as: "alice@pve!tok",
			status: 403},
		{name: "read missing token", method: "GET", path: "/access/users/alice@pve/token/nope", as: "root@pam",
			status: 500, wantMsg: "no such token 'nope' for user 'alice@pve'\n"},
		{name: "list missing user", method: "GET", path: "/access/users/nobody@pve/token", as: "root@pam",
			status: 500, wantMsg: "no such user ('nobody@pve')"},
		{name: "list forbidden", method: "GET", path: "/access/users/alice@pve/token", as: "dave@pve", status: 403},
		{name: "update missing token", method: "PUT", path: "/access/users/alice@pve/token/nope", as: "root@pam",
			params: vals("comment", "x"), status: 500, wantMsg: "no such token 'nope' for user 'alice@pve'\n"},
		{name: "update delete unknown option", method: "PUT", path: "/access/users/alice@pve/token/tok", as: "root@pam",
			params: vals("delete", "expire"), status: 500,
			wantMsg: "updating token info failed: 400 Parameter verification failed.\ndelete: unknown option 'expire'\n"},
		{name: "update delete malformed", method: "PUT", path: "/access/users/alice@pve/token/tok", as: "root@pam",
			params: vals("delete", "com ment!"), status: 400, wantErrs: []string{"delete=invalid format - invalid configuration ID 'ment!'"}},
		{name: "update malformed digest", method: "PUT", path: "/access/users/alice@pve/token/tok", as: "root@pam",
			params: vals("digest", "xyz"), status: 400, wantErrs: []string{"digest"}},
		{name: "update forbidden", method: "PUT", path: "/access/users/alice@pve/token/tok", as: "dave@pve",
			params: vals("regenerate", "1"), status: 403},
		{name: "delete missing", method: "DELETE", path: "/access/users/alice@pve/token/nope", as: "root@pam",
			status: 500, wantMsg: "no such token 'nope' for user 'alice@pve'\n"},
		{name: "delete forbidden", method: "DELETE", path: "/access/users/alice@pve/token/tok", as: "dave@pve", status: 403},
	})
}

// logBackend records every command sent to the log.
type logBackend struct {
	*LocalBackend
	mu  sync.Mutex
	log [][]byte
}

func (b *logBackend) Apply(ctx context.Context, cmd *cfs.Command) (*cfs.Result, error) {
	data, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.log = append(b.log, data)
	b.mu.Unlock()
	return b.LocalBackend.Apply(ctx, cmd)
}

// TestAccessSecretsNeverLogged: token secrets (create, regenerate) and
// passwords appear in no command of the log and in no file of the tree.
func TestAccessSecretsNeverLogged(t *testing.T) {
	e := newAccEnv(t)
	lb := &logBackend{LocalBackend: e.b}
	e.st = NewAccessState(lb)
	e.srv = New(accTestAuth{}, nil)
	e.srv.Handle(AccessEndpoints(e.st)...)

	const password = "pa55word-in-clear"
	var secrets []string
	if r := e.do("POST", "/access/users", "root@pam", vals("userid", "zed@pve", "password", password)); r.Status != 200 {
		t.Fatal(r.Message)
	}
	var c struct {
		Value string `json:"value"`
	}
	e.do("POST", "/access/users/zed@pve/token/t1", "root@pam", nil).decode(t, &c)
	secrets = append(secrets, c.Value)
	c.Value = ""
	e.do("PUT", "/access/users/zed@pve/token/t1", "root@pam", vals("regenerate", "1")).decode(t, &c)
	secrets = append(secrets, c.Value, password)
	if len(lb.log) != 3 {
		t.Fatalf("%d commands logged, want 3", len(lb.log))
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret answered")
		}
		for i, cmd := range lb.log {
			if strings.Contains(string(cmd), s) {
				t.Errorf("command %d holds %q: %s", i, s, cmd)
			}
		}
		for _, p := range e.tree.Paths() {
			if strings.Contains(e.file(p), s) {
				t.Errorf("%s holds %q", p, s)
			}
		}
	}
}
