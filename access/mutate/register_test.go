package mutate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// testLog applies commands to a tree with increasing index and time.
type testLog struct {
	t     testing.TB
	tree  *cfs.Tree
	index uint64
	clock int64
	time  int64
}

func newTestLog(t testing.TB, pam bool) *testLog {
	t.Helper()
	reg := cfs.NewRegistry()
	formats := []cfs.Format{usercfg.Format(), tokens.Format(), shadow.Format(), domains.Format()}
	if pam {
		formats = append(formats, PAMShadowFormat())
	}
	for _, f := range formats {
		if err := reg.Register(f); err != nil {
			t.Fatal(err)
		}
	}
	h := cfs.NewHandlers()
	if err := Register(h); err != nil {
		t.Fatal(err)
	}
	return &testLog{t: t, tree: cfs.NewTree(reg, h), clock: 1_000_000, time: 1_700_000_000}
}

func (l *testLog) apply(op string, body any) *cfs.Result {
	l.t.Helper()
	c, err := cfs.NewCommand(op, body)
	if err != nil {
		l.t.Fatal(err)
	}
	c.Time, c.Node = l.time, "n1"
	b, err := c.Encode()
	if err != nil {
		l.t.Fatal(err)
	}
	l.index++
	l.clock += 10
	l.time++
	return l.tree.Apply(l.index, l.clock, b)
}

func (l *testLog) ok(op string, body any) *cfs.Result {
	l.t.Helper()
	r := l.apply(op, body)
	if r.Err != nil {
		l.t.Fatalf("%s: %v", op, r.Err)
	}
	return r
}

func (l *testLog) file(p string) string {
	e, ok := l.tree.Get(p)
	if !ok {
		return ""
	}
	return string(e.Bytes())
}

// seed writes the base files as raw puts (parsed by their formats).
func (l *testLog) seed() {
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "user.cfg", Data: []byte(baseUserCfg)})
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "domains.cfg", Data: []byte(baseDomains)})
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "priv/token.cfg", Parents: true,
		Data: []byte("alice@pve!ci " + hashA + "\nalice@pve!mon " + hashB + "\nbob@pve!t1 " + hashA + "\n")})
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "priv/shadow.cfg", Data: []byte("alice:" + pwA + ":\nbob:" + pwB + ":\n")})
}

func TestRegister(t *testing.T) {
	h := cfs.NewHandlers()
	if err := Register(h); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range h.Ops() {
		if strings.HasPrefix(op, "access.") {
			n++
		}
	}
	if n != 17 {
		t.Errorf("%d access ops registered", n)
	}
	if err := Register(h); err == nil {
		t.Error("registering twice succeeded")
	}
}

func TestHandlers(t *testing.T) {
	l := newTestLog(t, true)
	l.seed()

	// A token through the log: only the hash is stored, the answer has no secret.
	r := l.ok(OpTokenCreate, TokenCreate{Userid: "bob@pve", Tokenid: "new", Hash: hashB, Comment: "c"})
	if string(r.Value) != `{"full-tokenid":"bob@pve!new","info":{"privsep":1,"comment":"c"}}` {
		t.Errorf("token create answer = %s", r.Value)
	}
	if !strings.Contains(l.file("priv/token.cfg"), "bob@pve!new "+hashB+"\n") || !strings.Contains(l.file("user.cfg"), "token:bob@pve!new:0:1:c:\n") {
		t.Errorf("files:\n%s\n%s", l.file("priv/token.cfg"), l.file("user.cfg"))
	}

	// A parameter error comes back as 400 with its map.
	sum, ver := l.tree.Checksum(), l.tree.Version()
	r = l.apply(OpTokenCreate, TokenCreate{Userid: "bob@pve", Tokenid: "new", Hash: hashA})
	if r.Err == nil || r.Err.Status != 400 || r.Err.Code != CodeParam {
		t.Fatalf("duplicate token: %+v", r.Err)
	}
	if pe, ok := AsParamError(r.Error()); !ok || pe.Errors["tokenid"] != "Token already exists." || len(pe.Errors) != 1 {
		t.Errorf("param error = %+v", pe)
	}
	if r.Err.Message != "Parameter verification failed.\ntokenid: Token already exists.\n" {
		t.Errorf("message = %q", r.Err.Message)
	}
	if l.tree.Checksum() != sum || l.tree.Version() != ver {
		t.Error("failed command changed the tree")
	}

	// A die keeps Proxmox's status and text.
	r = l.apply(OpUserCreate, UserCreate{Userid: "alice@pve"})
	if r.Err == nil || r.Err.Status != 500 || r.Err.Message != "create user failed: user 'alice@pve' already exists\n" {
		t.Fatalf("user create: %+v", r.Err)
	}

	// A bad body.
	c := &cfs.Command{V: cfs.CommandVersion, Op: OpUserCreate, Body: json.RawMessage(`{"userid":5}`)}
	b, _ := c.Encode()
	l.index++
	if r := l.tree.Apply(l.index, l.clock, b); r.Err == nil || r.Err.Status != 400 || r.Err.Code != cfs.CodeInvalid {
		t.Errorf("bad body: %+v", r.Err)
	}

	// Deleting a user cleans every file in one command.
	l.ok(OpUserDelete, UserDelete{Userid: "alice@pve"})
	if strings.Contains(l.file("user.cfg"), "alice") || strings.Contains(l.file("priv/token.cfg"), "alice") || strings.Contains(l.file("priv/shadow.cfg"), "alice") {
		t.Errorf("alice remains:\n%s\n%s\n%s", l.file("user.cfg"), l.file("priv/token.cfg"), l.file("priv/shadow.cfg"))
	}

	// The pam realm password goes to priv/pam-shadow.cfg.
	l.ok(OpPassword, PasswordChange{Userid: "dave@pam", Hash: pwB})
	if l.file(PAMShadowPath) != "dave:"+pwB+":\n" {
		t.Errorf("pam shadow = %q", l.file(PAMShadowPath))
	}

	// Token update answer and regeneration.
	r = l.ok(OpTokenUpdate, TokenUpdate{Userid: "bob@pve", Tokenid: "new", Regenerate: true, Hash: hashA, Delete: []string{"comment"}})
	if string(r.Value) != `{"privsep":1,"expire":0,"full-tokenid":"bob@pve!new"}` {
		t.Errorf("token update answer = %s", r.Value)
	}
	if !strings.Contains(l.file("priv/token.cfg"), "bob@pve!new "+hashA+"\n") {
		t.Error("hash not regenerated")
	}

	// Realm delete removes its bind password files.
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "priv/realm/ldap1.pw", Data: []byte("secret"), Parents: true})
	l.ok(OpRealmDelete, RealmDelete{Realm: "ldap1"})
	if _, ok := l.tree.Get("priv/realm/ldap1.pw"); ok {
		t.Error("bind password file remains")
	}
	if strings.Contains(l.file("domains.cfg"), "ldap1") {
		t.Error("realm remains")
	}

	// Every other op once, through the log.
	for _, step := range []struct {
		op   string
		body any
	}{
		{OpGroupCreate, GroupCreate{Groupid: "g2"}},
		{OpGroupUpdate, GroupUpdate{Groupid: "g2", Comment: ptr("x")}},
		{OpUserUpdate, UserUpdate{Userid: "bob@pve", Groups: &[]string{"g2"}, Append: true}},
		{OpRoleCreate, RoleCreate{Roleid: "R2", Privs: []string{"VM.Audit"}}},
		{OpRoleUpdate, RoleUpdate{Roleid: "R2", Privs: &[]string{"Sys.Audit"}, Append: true}},
		{OpACLUpdate, ACLUpdate{Path: "/vms/101", Roles: []string{"R2"}, Groups: []string{"g2"}, CallerHasPermModify: true}},
		{OpRoleDelete, RoleDelete{Roleid: "R2"}},
		{OpGroupDelete, GroupDelete{Groupid: "g2"}},
		{OpTokenDelete, TokenDelete{Userid: "bob@pve", Tokenid: "new"}},
		{OpRealmCreate, RealmCreate{Params: map[string]string{"realm": "l2", "type": "ldap", "server1": "s", "base_dn": "dc=x", "user_attr": "uid"}}},
		{OpRealmUpdate, RealmUpdate{Params: map[string]string{"realm": "l2", "comment": "x"}}},
	} {
		l.ok(step.op, step.body)
	}
	if got := l.file("user.cfg"); strings.Contains(got, "g2") || strings.Contains(got, "R2") || strings.Contains(got, "bob@pve!new") {
		t.Errorf("user.cfg:\n%s", got)
	}
}

func TestHandlerStampTime(t *testing.T) {
	l := newTestLog(t, true)
	l.seed()
	l.ok(OpUserUpdate, UserUpdate{Userid: "bob@pve", Expire: ptr(l.time + 1)})
	l.ok(OpPassword, PasswordChange{Userid: "bob@pve", Hash: pwA, CheckEnabled: true}) // stamp == expire
	r := l.apply(OpPassword, PasswordChange{Userid: "bob@pve", Hash: pwA, CheckEnabled: true})
	if r.Err == nil || r.Err.Message != "user 'bob@pve' access expired\n" {
		t.Fatalf("err = %+v", r.Err)
	}
}

func TestHandlerPAMUnregistered(t *testing.T) {
	l := newTestLog(t, false)
	l.seed()
	sum := l.tree.Checksum()
	r := l.apply(OpUserCreate, UserCreate{Userid: "x@pam", PasswordHash: pwA})
	if r.Err == nil || !strings.Contains(r.Err.Message, "unknown file type 'priv/pam-shadow.cfg'") {
		t.Fatalf("err = %+v", r.Err)
	}
	if l.tree.Checksum() != sum {
		t.Error("tree changed")
	}
	l.ok(OpUserCreate, UserCreate{Userid: "y@pve", PasswordHash: pwA})
}

// randomCommands builds a reproducible mix of valid and invalid commands.
func randomCommands(seed uint64, n int) []struct {
	op   string
	body any
} {
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	users := []string{"u0@pve", "u1@pve", "u2@pve", "u3@pam", "u4@ldap1", "u5@pve", "u6@pve", "u7@pam", "alice@pve", "bob@pve", "root@pam"}
	groups := []string{"g0", "g1", "g2", "ops", "admins"}
	roles := []string{"R0", "R1", "Custom", "PVEAuditor", "NoAccess", "PVEVMUser"}
	subs := []string{"t0", "t1", "ci"}
	paths := []string{"/", "/vms", "/vms/100", "/vms/101", "/storage/s1", "/pool/p1/sub", "/nodes/n1", "/access/groups/g0"}
	privList := []string{"VM.Audit", "Sys.Audit", "VM.Console", "Datastore.Audit", "Permissions.Modify"}
	some := func(from []string) []string {
		var out []string
		for i := rng.IntN(3); i >= 0; i-- {
			out = append(out, pick(from...))
		}
		return out
	}
	hashes := []string{hashA, hashB}
	var out []struct {
		op   string
		body any
	}
	add := func(op string, body any) {
		out = append(out, struct {
			op   string
			body any
		}{op, body})
	}
	for i := 0; i < n; i++ {
		switch k := rng.IntN(24); {
		case k < 3:
			add(OpUserCreate, UserCreate{Userid: pick(users...), Groups: some(groups[:3]), Comment: pick("", "c", " x "), PasswordHash: pick("", pwA)})
		case k < 6:
			add(OpUserUpdate, UserUpdate{Userid: pick(users...), Groups: &[]string{pick(groups...)}, Append: rng.IntN(2) == 0, Enable: ptr(rng.IntN(2) == 0)})
		case k == 3 || k == 6:
			add(OpUserDelete, UserDelete{Userid: pick(users...)})
		case k == 7:
			add(OpGroupCreate, GroupCreate{Groupid: pick(groups...), Comment: pick("", "gc")})
		case k == 8:
			add(OpGroupDelete, GroupDelete{Groupid: pick(groups...)})
		case k == 9:
			add(OpRoleCreate, RoleCreate{Roleid: pick(roles[:3]...), Privs: some(privList)})
		case k == 10:
			add(OpRoleUpdate, RoleUpdate{Roleid: pick(roles[:3]...), Privs: ptr(some(privList)), Append: rng.IntN(2) == 0})
		case k == 11:
			add(OpRoleDelete, RoleDelete{Roleid: pick(roles...)})
		case k < 17:
			r := ACLUpdate{Path: pick(paths...), Roles: []string{pick(roles...)}, Delete: rng.IntN(3) == 0, Propagate: ptr(rng.IntN(2) == 0)}
			switch rng.IntN(3) {
			case 0:
				r.Users = []string{pick(users...)}
			case 1:
				r.Groups = []string{pick(groups...)}
			default:
				r.Tokens = []string{pick(users...) + "!" + pick(subs...)}
			}
			if rng.IntN(4) == 0 {
				r.CallerPrivs = map[string]bool{"VM.Audit": true, "VM.Console": rng.IntN(2) == 0, "Sys.Audit": true}
			} else {
				r.CallerHasPermModify = true
			}
			add(OpACLUpdate, r)
		case k < 19:
			add(OpTokenCreate, TokenCreate{Userid: pick(users...), Tokenid: pick(subs...), Hash: pick(hashes...), Privsep: ptr(rng.IntN(2) == 0)})
		case k == 20:
			r := TokenUpdate{Userid: pick(users...), Tokenid: pick(subs...), Comment: ptr(pick("", "tc")), Regenerate: rng.IntN(2) == 0}
			if r.Regenerate {
				r.Hash = pick(hashes...)
			}
			add(OpTokenUpdate, r)
		case k == 19 || k == 21:
			add(OpTokenDelete, TokenDelete{Userid: pick(users...), Tokenid: pick(subs...)})
		default:
			add(OpPassword, PasswordChange{Userid: pick(users...), Hash: pick(pwA, pwB), CheckEnabled: rng.IntN(2) == 0})
		}
	}
	return out
}

var treeFiles = []string{"user.cfg", "domains.cfg", "priv/token.cfg", "priv/shadow.cfg", PAMShadowPath}

func TestDeterminism(t *testing.T) {
	cmds := randomCommands(1, 3000)
	a, b := newTestLog(t, true), newTestLog(t, true)
	a.seed()
	b.seed()
	failed := 0
	for i, c := range cmds {
		ra, rb := a.apply(c.op, c.body), b.apply(c.op, c.body)
		ja, _ := json.Marshal(ra)
		jb, _ := json.Marshal(rb)
		if string(ja) != string(jb) {
			t.Fatalf("step %d (%s): results differ\n%s\n%s", i, c.op, ja, jb)
		}
		if ra.Err != nil {
			failed++
		}
		if ra.Err == nil {
			m, _, err := a.tree.Model("user.cfg")
			if err != nil {
				t.Fatal(err)
			}
			checkCanonical(t, m.(*usercfg.Config))
		}
	}
	if a.tree.Checksum() != b.tree.Checksum() {
		t.Fatal("trees differ")
	}
	for _, p := range treeFiles {
		if a.file(p) != b.file(p) {
			t.Errorf("%s differs", p)
		}
	}
	if failed == 0 || failed == len(cmds) {
		t.Errorf("%d of %d commands failed; the mix should have both", failed, len(cmds))
	}
	t.Logf("%d commands, %d failed", len(cmds), failed)

	// A tree restored from the files' bytes (as a snapshot restore parses
	// them) holds the same models.
	c := newTestLog(t, true)
	for _, p := range treeFiles {
		c.ok(cfs.OpWrite, cfs.WriteRequest{Path: p, Data: []byte(a.file(p)), Parents: true, Strict: p != "user.cfg"})
	}
	ma, _, _ := a.tree.Model("user.cfg")
	mc, _, _ := c.tree.Model("user.cfg")
	if dump(ma.(*usercfg.Config)) != dump(mc.(*usercfg.Config)) {
		t.Error("user.cfg model differs after re-parse")
	}
	for _, p := range treeFiles {
		if a.file(p) != c.file(p) {
			t.Errorf("%s differs after re-parse", p)
		}
	}
}

func TestAsParamError(t *testing.T) {
	pe := &ParamError{Errors: map[string]string{"b": "two\n", "a": "one"}}
	if pe.Error() != "Parameter verification failed.\na: one\nb: two\n" {
		t.Errorf("text = %q", pe.Error())
	}
	back, ok := AsParamError(toCfsError(pe))
	if !ok || fmt.Sprint(back.Errors) != fmt.Sprint(map[string]string{"a": "one", "b": "two"}) {
		t.Errorf("round trip = %+v", back)
	}
	if _, ok := AsParamError(&cfs.Error{Status: 500, Message: "x"}); ok {
		t.Error("die read as param error")
	}
	if _, ok := AsParamError(fmt.Errorf("wrapped: %w", pe)); !ok {
		t.Error("wrapped ParamError not found")
	}
}
