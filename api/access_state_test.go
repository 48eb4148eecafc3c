package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// Test fixture of the /access endpoint tests:
//
//	alice@pve  member of admins (Administrator on /), privsep token "tok" without ACLs
//	bob@pve    PVEUserAdmin on /access/groups/devs, PVEVMAdmin on /vms, Custom on /access/realm
//	carol@pve  disabled, member of devs
//	dave@pve   no rights at all
//	erin@pve   PVEAuditor on / (Sys.Audit everywhere)
const accFixture = `user:root@pam:1:0::::::
user:alice@pve:1:0:Alice:Smith:alice@example.com:admin::
token:alice@pve!tok:0:1:alice token:
user:bob@pve:1:1893456000:::::
user:carol@pve:0:0:::::
user:dave@pve:1:0:::::
user:erin@pve:1:0:::::

group:admins:alice@pve:Administrators:
group:devs:bob@pve,carol@pve:Developers:
group:ops:::

role:Custom:Sys.Audit,VM.Audit:

acl:1:/:@admins:Administrator:
acl:1:/:erin@pve:PVEAuditor:
acl:1:/access/groups/devs:bob@pve:PVEUserAdmin:
acl:1:/access/realm:bob@pve:Custom:
acl:1:/vms:bob@pve:PVEVMAdmin:
`

// accEnv is a single-node backend with every access format and command
// registered, an API server in front of it, and a test authenticator that
// takes the caller from the X-Test-Authid header.
type accEnv struct {
	t    *testing.T
	tree *cfs.Tree
	b    *LocalBackend
	st   *AccessState
	srv  *Server
}

type accTestAuth struct{}

func (accTestAuth) Authenticate(_ context.Context, r *http.Request) (*Identity, error) {
	id := r.Header.Get("X-Test-Authid")
	if id == "" {
		return nil, nil
	}
	return &Identity{Authid: id, IsToken: strings.Contains(id, "!")}, nil
}

func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	reg := cfs.NewRegistry()
	for _, f := range []cfs.Format{usercfg.Format(), tokens.Format(), shadow.Format(), domains.Format(), mutate.PAMShadowFormat()} {
		if err := reg.Register(f); err != nil {
			t.Fatalf("register %s: %v", f.Path, err)
		}
	}
	h := cfs.NewHandlers()
	if err := mutate.Register(h); err != nil {
		t.Fatalf("register mutate handlers: %v", err)
	}
	tree := cfs.NewTree(reg, h)
	b := NewLocalBackend("node1", tree)
	e := &accEnv{t: t, tree: tree, b: b, st: NewAccessState(b), srv: New(accTestAuth{}, nil)}
	e.srv.FailDelay = 0
	e.srv.Handle(AccessEndpoints(e.st)...)
	e.write(mutate.UserCfgPath, accFixture)
	return e
}

// write stores a file through the log.
func (e *accEnv) write(path, content string) {
	e.t.Helper()
	cmd, err := cfs.NewCommand(cfs.OpWrite, cfs.WriteRequest{Path: path, Data: []byte(content), Parents: true})
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.b.Apply(context.Background(), cmd)
	if err != nil || res.Err != nil {
		e.t.Fatalf("write %s: %v %v", path, err, res.Err)
	}
}

// file returns a file's rendered content ("" if absent).
func (e *accEnv) file(path string) string {
	if en, ok := e.tree.Get(path); ok {
		return string(en.Bytes())
	}
	return ""
}

// accResp is a decoded API answer.
type accResp struct {
	Status  int
	Data    json.RawMessage
	Message string
	Errors  map[string]string
	Header  http.Header
}

// do sends a request as authid ("" for anonymous). params go into the query
// for GET and DELETE, into a form body otherwise.
func (e *accEnv) do(method, path, authid string, params url.Values) accResp {
	e.t.Helper()
	target := Prefix + path
	var body *strings.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			target += "?" + params.Encode()
		}
		body = strings.NewReader("")
	} else {
		body = strings.NewReader(params.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if method != http.MethodGet && method != http.MethodDelete {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return e.send(req, authid)
}

// doJSON sends a JSON body.
func (e *accEnv) doJSON(method, path, authid, body string) accResp {
	e.t.Helper()
	req := httptest.NewRequest(method, Prefix+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.send(req, authid)
}

func (e *accEnv) send(req *http.Request, authid string) accResp {
	e.t.Helper()
	if authid != "" {
		req.Header.Set("X-Test-Authid", authid)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	var env struct {
		Data    json.RawMessage   `json:"data"`
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		e.t.Fatalf("%s %s: undecodable answer %q: %v", req.Method, req.URL, rec.Body.String(), err)
	}
	return accResp{Status: rec.Code, Data: env.Data, Message: env.Message, Errors: env.Errors, Header: rec.Header()}
}

// decode unmarshals the data of a 200 answer.
func (r accResp) decode(t *testing.T, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d (%q %v), want 200", r.Status, r.Message, r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// accCase is one request with its expected outcome. wantMsg is a substring
// of the message; wantErrs the parameters a 400 must name, each as "param"
// or "param=substring of its message"; a request that is not answered 200
// must leave the tree unchanged.
type accCase struct {
	name     string
	method   string
	path     string
	as       string
	params   url.Values
	status   int
	wantMsg  string
	wantErrs []string
}

func runAccCases(t *testing.T, cases []accCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			before := e.tree.Checksum()
			r := e.do(c.method, c.path, c.as, c.params)
			if r.Status != c.status {
				t.Fatalf("status %d (%q %v), want %d", r.Status, r.Message, r.Errors, c.status)
			}
			if c.wantMsg != "" && !strings.Contains(r.Message, c.wantMsg) {
				t.Errorf("message %q, want it to contain %q", r.Message, c.wantMsg)
			}
			for _, w := range c.wantErrs {
				p, sub, _ := strings.Cut(w, "=")
				if msg, ok := r.Errors[p]; !ok || !strings.Contains(msg, sub) {
					t.Errorf("errors %q do not name %q with %q", r.Errors, p, sub)
				}
			}
			if c.status != http.StatusOK {
				if len(c.wantErrs) == 0 && len(r.Errors) > 0 {
					t.Errorf("unexpected parameter errors %v", r.Errors)
				}
				if after := e.tree.Checksum(); after != before {
					t.Errorf("a failed request changed the tree")
				}
			} else if c.method == http.MethodGet {
				if after := e.tree.Checksum(); after != before {
					t.Errorf("a read changed the tree")
				}
			}
		})
	}
}

func TestAccessEngineCachedPerVersion(t *testing.T) {
	e := newAccEnv(t)
	_, e1, err := e.st.UserConfig()
	if err != nil {
		t.Fatal(err)
	}
	_, e2, _ := e.st.UserConfig()
	if e1 != e2 {
		t.Fatal("engine compiled twice for one user.cfg version")
	}
	if r := e.do("POST", "/access/groups", "root@pam", vals("groupid", "new")); r.Status != 200 {
		t.Fatalf("create group: %d %q", r.Status, r.Message)
	}
	_, e3, _ := e.st.UserConfig()
	if e3 == e1 {
		t.Fatal("engine not recompiled after a user.cfg change")
	}
	if !e3.GroupExists("new") {
		t.Fatal("new engine does not see the new group")
	}
}

func TestAccessEngineMissingUserCfg(t *testing.T) {
	reg := cfs.NewRegistry()
	if err := reg.Register(usercfg.Format()); err != nil {
		t.Fatal(err)
	}
	st := NewAccessState(NewLocalBackend("n", cfs.NewTree(reg, nil)))
	cfg, eng, err := st.UserConfig()
	if err != nil || cfg == nil || eng == nil {
		t.Fatalf("missing user.cfg: %v %v %v", cfg, eng, err)
	}
	if !cfg.Users.Has("root@pam") {
		t.Fatal("default user.cfg lacks root@pam")
	}
	_, eng2, _ := st.UserConfig()
	if eng2 != eng {
		t.Fatal("engine of the missing file compiled twice")
	}
}

// TestAccessLockTimeout: while an outside holder keeps file-user_cfg, every
// user.cfg mutation waits, then fails with Proxmox's lock timeout text and
// changes nothing; realm changes wait for file-domains_cfg.
func TestAccessLockTimeout(t *testing.T) {
	old := AccessLockTimeout
	AccessLockTimeout = 150 * time.Millisecond
	defer func() { AccessLockTimeout = old }()
	cases := []struct {
		lock, method, path, prefix string
		params                     url.Values
	}{
		{LockUserCfg, "POST", "/access/groups", "create group failed", vals("groupid", "g1")},
		{LockUserCfg, "POST", "/access/users", "create user failed", vals("userid", "new@pve", "password", "secret-pass")},
		{LockUserCfg, "PUT", "/access/users/dave@pve", "update user failed", vals("comment", "x")},
		{LockUserCfg, "DELETE", "/access/users/dave@pve", "delete user failed", nil},
		{LockUserCfg, "POST", "/access/roles", "create role failed", vals("roleid", "R1")},
		{LockUserCfg, "PUT", "/access/acl", "ACL update failed", vals("path", "/", "roles", "Custom", "users", "dave@pve")},
		{LockUserCfg, "POST", "/access/users/dave@pve/token/t1", "generating token failed", nil},
		{LockTokenCfg, "DELETE", "/access/users/alice@pve/token/tok", "deleting token failed", nil},
		{LockDomainsCfg, "DELETE", "/access/domains/pve", "delete auth server failed", nil},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			e := newAccEnv(t)
			cmd, err := cfs.NewCommand(cfs.OpLockAcquire, cfs.LockRequest{ID: c.lock, Owner: "editor", LeaseMs: 60_000})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := e.b.Apply(context.Background(), cmd); err != nil || res.Err != nil {
				t.Fatalf("acquire: %v %v", err, res.Err)
			}
			before := e.tree.Checksum()
			start := time.Now()
			r := e.do(c.method, c.path, "root@pam", c.params)
			want := c.prefix + ": cfs-lock '" + c.lock + "' error: got lock request timeout\n"
			if r.Status != 500 || r.Message != want {
				t.Fatalf("got %d %q, want 500 %q", r.Status, r.Message, want)
			}
			if time.Since(start) < AccessLockTimeout {
				t.Errorf("gave up after %v, before the timeout", time.Since(start))
			}
			if e.tree.Checksum() != before {
				t.Error("the refused mutation changed the tree")
			}
		})
	}
}

func TestAccessLockReleasedWhileWaiting(t *testing.T) {
	old := AccessLockTimeout
	AccessLockTimeout = 5 * time.Second
	defer func() { AccessLockTimeout = old }()
	e := newAccEnv(t)
	cmd, _ := cfs.NewCommand(cfs.OpLockAcquire, cfs.LockRequest{ID: LockUserCfg, Owner: "editor", LeaseMs: 60_000})
	res, err := e.b.Apply(context.Background(), cmd)
	if err != nil || res.Err != nil {
		t.Fatalf("acquire: %v %v", err, res.Err)
	}
	var g cfs.LockGrant
	if err := res.Decode(&g); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		rel, _ := cfs.NewCommand(cfs.OpLockRelease, cfs.LockRequest{ID: LockUserCfg, Owner: "editor", Fence: g.Fence})
		_, _ = e.b.Apply(context.Background(), rel)
	}()
	if r := e.do("POST", "/access/groups", "root@pam", vals("groupid", "waited")); r.Status != 200 {
		t.Fatalf("got %d %q after the release", r.Status, r.Message)
	}
	if !strings.Contains(e.file("user.cfg"), "group:waited:") {
		t.Fatal("group not created")
	}
}

func TestAccessErrMapping(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
		params []string
	}{
		{"nil", nil, 0, "", nil},
		{"cfs", &cfs.Error{Status: 500, Message: "boom\n"}, 500, "boom\n", nil},
		{"cfs param", &cfs.Error{Status: 400, Code: mutate.CodeParam, Message: "Parameter verification failed.\nx: bad\n"}, 400, ParamMessage, []string{"x"}},
		{"domains param", &domains.ParamError{Errors: map[string]string{"port": "bad"}}, 400, ParamMessage, []string{"port"}},
		{"plain", context.DeadlineExceeded, 500, "context deadline exceeded\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := accessErr(c.err)
			if c.err == nil {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			ae, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %T", err)
			}
			if ae.Status != c.status || ae.Message != c.msg {
				t.Errorf("got %d %q, want %d %q", ae.Status, ae.Message, c.status, c.msg)
			}
			for _, p := range c.params {
				if _, ok := ae.Errors[p]; !ok {
					t.Errorf("errors %v lack %q", ae.Errors, p)
				}
			}
		})
	}
}

// barrierBackend counts linearizable reads and can fail them.
type barrierBackend struct {
	*LocalBackend
	n    atomic.Int32
	fail error
}

func (b *barrierBackend) LinearizableRead(context.Context) error {
	b.n.Add(1)
	return b.fail
}

// TestAccessReadBarrier: every read endpoint waits for a linearizable read
// when the client asks for one, and fails when that cannot be had.
func TestAccessReadBarrier(t *testing.T) {
	gets := []string{"/access/users", "/access/users/alice@pve", "/access/users/alice@pve/token",
		"/access/users/alice@pve/token/tok", "/access/groups", "/access/groups/devs", "/access/roles",
		"/access/roles/Custom", "/access/acl", "/access/domains", "/access/domains/pve", "/access/permissions"}
	for _, fail := range []error{nil, context.DeadlineExceeded} {
		e := newAccEnv(t)
		bb := &barrierBackend{LocalBackend: e.b, fail: fail}
		e.st = NewAccessState(bb)
		e.srv = New(accTestAuth{}, nil)
		e.srv.Handle(AccessEndpoints(e.st)...)
		// root skips the permission check; alice's check runs the barrier
		// and the handler does not repeat it
		for _, as := range []string{"root@pam", "alice@pve"} {
			for _, p := range gets {
				req := httptest.NewRequest("GET", Prefix+p, nil)
				req.Header.Set("X-Pvecfs-Consistency", "linearizable")
				before := bb.n.Load()
				r := e.send(req, as)
				if bb.n.Load() != before+1 {
					t.Errorf("%s as %s: %d linearizable reads, want 1", p, as, bb.n.Load()-before)
				}
				if want := map[bool]int{true: 200, false: 500}[fail == nil]; r.Status != want {
					t.Errorf("%s as %s (barrier error %v): status %d, want %d", p, as, fail, r.Status, want)
				}
				before = bb.n.Load()
				e.do("GET", p, as, nil)
				if bb.n.Load() != before {
					t.Errorf("%s: linearizable read without the header", p)
				}
			}
		}
	}
}
