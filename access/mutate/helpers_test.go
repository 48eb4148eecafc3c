package mutate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

const baseUserCfg = `user:root@pam:1:0:::root@example.com:::
user:alice@pve:1:0:Alice:Smith:alice@example.com:lead::
token:alice@pve!ci:0:1:CI:
token:alice@pve!mon:0:0::
user:bob@pve:1:0:::::
user:carol@ldap1:1:0::::::
user:dave@pam:1:0::::::
user:erin@ad1:1:0::::::
token:bob@pve!t1:0:1::
group:admins:alice@pve::
group:ops:alice@pve,bob@pve,ghost@pve:Operators:
role:Custom:VM.Audit,VM.Console:
acl:1:/:@admins:PVEAdmin:
acl:1:/vms:@ops:PVEVMUser:
acl:0:/vms/100:bob@pve:Custom:
acl:1:/vms/100:alice@pve!ci:PVEAuditor:
acl:1:/storage/local:alice@pve:PVEDatastoreUser:
acl:1:/pool/dev:alice@pve!mon:Custom:
acl:1:/nodes:ghost@pve:PVEAuditor:
acl:1:/nodes/n1:bob@pve!t1:Custom:
`

const baseDomains = `pve: pve
	comment Proxmox VE authentication server

pam: pam
	comment Linux PAM standard authentication

ldap: ldap1
	base_dn dc=example,dc=com
	server1 ldap.example.com
	user_attr uid
	case-sensitive 0

ad: ad1
	domain example.com
	server1 ad.example.com
`

var (
	hashA = tokens.HashSecret("aaaaaaaa-1111-4111-8111-111111111111")
	hashB = tokens.HashSecret("bbbbbbbb-2222-4222-8222-222222222222")
	pwA   = shadow.Hash("secret-password", "saltsalt")
	pwB   = shadow.Hash("other-password", "pepperpe")
)

func mustParse(t testing.TB, text string) *usercfg.Config {
	t.Helper()
	c, w := usercfg.Parse([]byte(text))
	for _, x := range w {
		if !strings.Contains(x, "ghost@pve") {
			t.Fatalf("fixture warning: %s", x)
		}
	}
	return c
}

func baseModels(t testing.TB) Models {
	t.Helper()
	d, w := domains.Parse([]byte(baseDomains))
	if len(w) > 0 {
		t.Fatalf("domains fixture: %v", w)
	}
	st, _ := tokens.Parse([]byte("alice@pve!ci " + hashA + "\nalice@pve!mon " + hashB + "\nbob@pve!t1 " + hashA + "\n"))
	sh, _ := shadow.Parse([]byte("alice:" + pwA + ":\nbob:" + pwB + ":\n"))
	ps, _ := shadow.Parse([]byte("dave:" + pwA + ":\n"))
	return Models{Users: mustParse(t, baseUserCfg), Tokens: st, Shadow: sh, PAMShadow: ps, Domains: d}
}

func ptr[T any](v T) *T { return &v }

// dump is a deterministic text of everything in a user.cfg model, including
// what Render does not show directly (users' group sets, built-in roles).
func dump(c *usercfg.Config) string {
	var b strings.Builder
	for id, u := range c.Users.All() {
		fmt.Fprintf(&b, "user %s %v %d %q %q %q %q %q groups=%v\n", id, u.Enable, u.Expire, u.Firstname, u.Lastname, u.Email, u.Comment, u.Keys, u.Groups.Sorted())
		for tid, tk := range u.Tokens.All() {
			fmt.Fprintf(&b, "  token %s %v %d %q\n", tid, tk.Privsep, tk.Expire, tk.Comment)
		}
	}
	for id, g := range c.Groups.All() {
		fmt.Fprintf(&b, "group %s %v %q\n", id, g.Users.Sorted(), g.Comment)
	}
	for id, r := range c.Roles.All() {
		fmt.Fprintf(&b, "role %s %v\n", id, r.Privs.Sorted())
	}
	for id, p := range c.Pools.All() {
		fmt.Fprintf(&b, "pool %s %q %q %v %v %v\n", id, p.Comment, p.Parent, p.VMs.Sorted(), p.Storage.Sorted(), p.Pools.Sorted())
	}
	for id, pool := range c.VMs.All() {
		fmt.Fprintf(&b, "vm %s %s\n", id, pool)
	}
	for id, groups := range c.MemberOf.All() {
		fmt.Fprintf(&b, "memberof %s %v\n", id, groups.Sorted())
	}
	c.ACL.Walk(func(path string, n *usercfg.ACLNode) {
		fmt.Fprintf(&b, "acl %s", path)
		for _, kind := range []struct {
			p string
			m map[string]usercfg.RoleMap
		}{{"u:", n.Users}, {"g:", n.Groups}, {"t:", n.Tokens}} {
			for _, m := range keys(kind.m) {
				rm := kind.m[m]
				fmt.Fprintf(&b, " %s%s{", kind.p, m)
				for _, r := range keys(rm) {
					fmt.Fprintf(&b, "%s=%v,", r, rm[r])
				}
				b.WriteString("}")
			}
		}
		if path != "/" && n.IsEmpty() {
			b.WriteString(" EMPTY")
		}
		b.WriteString("\n")
	})
	return b.String()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkCanonical verifies that the model equals what its rendered bytes
// parse to, and that rendering that again gives the same bytes.
func checkCanonical(t testing.TB, c *usercfg.Config) {
	t.Helper()
	out := c.Render()
	again, _ := usercfg.Parse(out)
	if d1, d2 := dump(c), dump(again); d1 != d2 {
		t.Errorf("model is not canonical\nmodel:\n%s\nre-parsed:\n%s", d1, d2)
	}
	if out2 := again.Render(); string(out2) != string(out) {
		t.Errorf("second render differs:\n%s\n---\n%s", out, out2)
	}
}

// snap records a Models' content to check that it was not modified.
type snap struct{ users, dump, tokens, shadow, pam, domains string }

func takeSnap(m Models) snap {
	s := snap{}
	if m.Users != nil {
		s.users, s.dump = string(m.Users.Render()), dump(m.Users)
	}
	s.tokens = string(m.Tokens.Render())
	s.shadow = string(m.Shadow.Render())
	s.pam = string(m.PAMShadow.Render())
	if m.Domains != nil {
		s.domains = string(m.Domains.Render())
	}
	return s
}

// wantErr describes an expected error: exact message, HTTP status and code;
// for a parameter error, the parameter map.
type wantErr struct {
	msg    string
	status int
	code   string
	params map[string]string
}

func checkErr(t testing.TB, err error, w *wantErr) {
	t.Helper()
	if w == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", w.msg)
	}
	if w.params != nil {
		pe, ok := AsParamError(err)
		if !ok {
			t.Fatalf("error %v (%T) is not a parameter error", err, err)
		}
		if fmt.Sprint(pe.Errors) != fmt.Sprint(w.params) {
			t.Fatalf("param errors = %q, want %q", pe.Errors, w.params)
		}
		return
	}
	var ce *cfs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *cfs.Error", err, err)
	}
	if ce.Message != w.msg {
		t.Fatalf("message = %q, want %q", ce.Message, w.msg)
	}
	st := w.status
	if st == 0 {
		st = 500
	}
	if ce.Status != st || ce.Code != w.code {
		t.Fatalf("status/code = %d/%q, want %d/%q", ce.Status, ce.Code, st, w.code)
	}
}

func e500(msg string) *wantErr { return &wantErr{msg: msg} }
func e500c(code, msg string) *wantErr {
	return &wantErr{msg: msg, code: code}
}
func eParam(kv ...string) *wantErr {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &wantErr{params: m}
}
func e400(msg string) *wantErr { return &wantErr{msg: msg, status: 400, code: cfs.CodeInvalid} }

// runModels runs a Models mutation and checks the common rules: the input
// is never modified; a failure returns the input unchanged; a success
// yields canonical models.
func runModels(t *testing.T, m Models, w *wantErr, fn func(Models) (Models, error)) Models {
	t.Helper()
	before := takeSnap(m)
	n, err := fn(m)
	if after := takeSnap(m); after != before {
		t.Fatalf("input models modified")
	}
	checkErr(t, err, w)
	if err != nil {
		if takeSnap(n) != before {
			t.Fatalf("failed mutation returned changed models")
		}
		return n
	}
	checkCanonical(t, n.Users)
	return n
}

// runCfg is runModels for mutations of user.cfg alone.
func runCfg(t *testing.T, c *usercfg.Config, w *wantErr, fn func(*usercfg.Config) (*usercfg.Config, error)) *usercfg.Config {
	t.Helper()
	n := runModels(t, Models{Users: c}, w, func(m Models) (Models, error) {
		var err error
		m.Users, err = fn(m.Users)
		return m, err
	})
	return n.Users
}

func hasACL(c *usercfg.Config, path, kind, member, role string) (bool, bool) {
	n := c.Find(path)
	if n == nil {
		return false, false
	}
	var m map[string]usercfg.RoleMap
	switch kind {
	case "u":
		m = n.Users
	case "g":
		m = n.Groups
	default:
		m = n.Tokens
	}
	p, ok := m[member][role]
	return ok, p
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
