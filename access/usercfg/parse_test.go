package usercfg

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

const root = "user:root@pam:1:0::::::\n"

// The example of access-control.md §1.4 (actual output of the real writer).
const example14In = `user:root@pam:1:0:::root@example.com:::
user:alice@pve:1:1767225600:Alice:M%C3%BCller:alice@example.com:DB team%3A lead 100%25:x:
user:bob@pve:0:0:Bob::::
user:carol@ldap1:1:0::::synced from LDAP::
token:root@pam!automation:0:0:CI pipeline:
token:alice@pve!monitoring:1798761600:1::
group:admins:alice@pve::
group:dbteam:alice@pve,bob@pve:Database team:
group:ldapusers-ldap1:carol@ldap1::
pool:dev:Development pool:100,101:local-lvm,nfs1:
pool:dev/web:::
role:DBOperator:VM.Audit,VM.Console,VM.PowerMgmt:
role:Auditor2:Sys.Audit:
acl:1:/:@admins:PVEAdmin:
acl:1:/vms:@dbteam:PVEVMUser:
acl:0:/vms/100:bob@pve:DBOperator:
acl:1:/vms/100:alice@pve!monitoring:PVEAuditor:
acl:1:/pool/dev:@dbteam:PVEPoolUser,PVEVMUser:
acl:1:/storage/nfs1:@ldapusers-ldap1:PVEDatastoreUser:
acl:1:/access/realm/ldap1:bob@pve:NoAccess:
acl:1:/:root@pam:Administrator:
acl:1:/:root@pam!automation:PVEVMAdmin:
`

const example14Out = `user:alice@pve:1:1767225600:Alice:M%C3%BCller:alice@example.com:DB team%3A lead 100%25:x:
token:alice@pve!monitoring:1798761600:1::
user:bob@pve:0:0:Bob:::::
user:carol@ldap1:1:0::::synced from LDAP::
user:root@pam:1:0:::root@example.com:::
token:root@pam!automation:0:0:CI pipeline:

group:admins:alice@pve::
group:dbteam:alice@pve,bob@pve:Database team:
group:ldapusers-ldap1:carol@ldap1::

pool:dev:Development pool:100,101:local-lvm,nfs1:
pool:dev/web::::

role:Auditor2:Sys.Audit:
role:DBOperator:VM.Audit,VM.Console,VM.PowerMgmt:

acl:1:/:@admins:PVEAdmin:
acl:1:/:root@pam!automation:PVEVMAdmin:
acl:1:/access/realm/ldap1:bob@pve:NoAccess:
acl:1:/pool/dev:@dbteam:PVEPoolUser,PVEVMUser:
acl:1:/storage/nfs1:@ldapusers-ldap1:PVEDatastoreUser:
acl:1:/vms:@dbteam:PVEVMUser:
acl:0:/vms/100:bob@pve:DBOperator:
acl:1:/vms/100:alice@pve!monitoring:PVEAuditor:
`

func TestReferenceExample(t *testing.T) {
	cfg, warns := Parse([]byte(example14In))
	if len(warns) != 0 {
		t.Errorf("warnings: %q", warns)
	}
	if got := string(cfg.Render()); got != example14Out {
		t.Fatalf("render:\n%s\nwant:\n%s", got, example14Out)
	}
	again, warns := Parse([]byte(example14Out))
	if len(warns) != 0 || string(again.Render()) != example14Out {
		t.Errorf("example does not round-trip unchanged (warnings %q)", warns)
	}
	a := cfg.User("alice@pve")
	if a.Lastname != "Müller" || a.Comment != "DB team: lead 100%" || a.Keys != "x" || a.Expire != 1767225600 ||
		!a.Enable || !reflect.DeepEqual(a.Groups.Sorted(), []string{"admins", "dbteam"}) {
		t.Errorf("alice = %+v", a)
	}
	if tok := a.Token("monitoring"); tok == nil || !tok.Privsep || tok.Expire != 1798761600 {
		t.Errorf("alice token = %+v", tok)
	}
	if p := cfg.Pool("dev/web"); p == nil || p.Parent != "dev" || !cfg.Pool("dev").Pools.Has("dev/web") {
		t.Errorf("nested pool = %+v", p)
	}
	if cfg.VMs.Value("101") != "dev" {
		t.Errorf("VMs = %v", cfg.VMs.SortedKeys())
	}
	if n := cfg.Find("/vms/100"); n == nil || n.Users["bob@pve"]["DBOperator"] || !n.Tokens["alice@pve!monitoring"]["PVEAuditor"] {
		t.Errorf("/vms/100 node = %+v", n)
	}
	if _, ok := cfg.ACL.Users["root@pam"]; ok {
		t.Error("root@pam ACL entry kept")
	}
}

func TestParseQuirks(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		out   string
		warns []string
	}{
		{"comment line", "# hello\n" + root, root + "\n\n\n\n",
			[]string{"user config - ignore config line: # hello"}},
		{"unknown type and colons only", "foo:bar\n:::\n", root + "\n\n\n\n",
			[]string{"user config - ignore config line: foo:bar", "user config - ignore config line: :::"}},
		{"whitespace and CRLF", "  user : a@pve : 1 : 5 : First \r\n\r\n\t\n", "user:a@pve:1:5:First:::::\n" + root + "\n\n\n\n", nil},
		{"enable truthiness", "user:a@pve:00\nuser:b@pve:0\nuser:c@pve: \nuser:d@pve:yes\n",
			"user:a@pve:1:0::::::\nuser:b@pve:0:0::::::\nuser:c@pve:0:0::::::\nuser:d@pve:1:0::::::\n" + root + "\n\n\n\n", nil},
		{"expire", "user:a@pve:1:007\nuser:b@pve:1:abc\nuser:c@pve:1:1.5\nuser:d@pve:1:99999999999999999999\n",
			"user:a@pve:1:7::::::\n" + root + "\n\n\n\n", []string{
				"user config - ignore user 'b@pve' - (illegal characters in expire 'abc')",
				"user config - ignore user 'c@pve' - (illegal characters in expire '1.5')",
				"user config - ignore user 'd@pve' - (illegal characters in expire '99999999999999999999')"}},
		{"invalid user", "user:bob\nuser\nuser:a b@pve\n", root + "\n\n\n\n", []string{
			"user config - ignore user 'bob' - invalid user name",
			"user config - ignore user '' - invalid user name",
			"user config - ignore user 'a b@pve' - invalid user name"}},
		{"false text fields", "user:a@pve:1:0:0:%30:0:%20%20:0:extra:fields\n",
			"user:a@pve:1:0::::::\n" + root + "\n\n\n\n", nil},
		{"text trim", "user:a@pve:1:0:%20Al%20ice%20::a@b.c:%09tab%0A:\n",
			"user:a@pve:1:0:Al ice::a@b.c:%09tab%0A::\n" + root + "\n\n\n\n", nil},
		{"token before user", "token:a@pve!t1:0:1\nuser:a@pve:1\n", "user:a@pve:1:0::::::\n" + root + "\n\n\n\n",
			[]string{"user config - ignore token 'a@pve!t1' - user does not exist"}},
		{"token defaults and errors", "user:a@pve:1\ntoken:a@pve!t1\ntoken:a@pve!x\ntoken:a@pve!t2:x\ntoken:a@pve!t3:0:00:c%3A:\n",
			"user:a@pve:1:0::::::\ntoken:a@pve!t1:0:0::\ntoken:a@pve!t3:0:1:c%3A:\n" + root + "\n\n\n\n", []string{
				"user config - ignore invalid tokenid 'a@pve!x'",
				"user config - ignore token 'a@pve!t2' - (illegal characters in expire 'x')"}},
		{"token repeated keeps comment", "user:a@pve:1\ntoken:a@pve!t1:5:1:first\ntoken:a@pve!t1:6:0\n",
			"user:a@pve:1:0::::::\ntoken:a@pve!t1:6:0:first:\n" + root + "\n\n\n\n", nil},
		{"group before user", "group:g:b@pve,a@pve,bad:Team%20A\nuser:a@pve:1\n",
			"user:a@pve:1:0::::::\n" + root + "\ngroup:g:a@pve,b@pve:Team A:\n\n\n\n", []string{
				"user config - ignore invalid group member 'b@pve'",
				"user config - ignore invalid group member 'a@pve'",
				"user config - ignore invalid group member 'bad'"}},
		{"group names", "group:0\ngroup:a b\ngroup:\ngroup:g1:;root@pam;;\n",
			root + "\ngroup:g1:root@pam::\n\n\n\n", []string{
				"user config - ignore group '0' - invalid characters in group name",
				"user config - ignore group 'a b' - invalid characters in group name",
				"user config - ignore group '' - invalid characters in group name"}},
		{"NUL separated members", "user:a@pve\ngroup:g:a@pve\x00\x00b,c@pve\x00\x00\n",
			"user:a@pve:0:0::::::\n" + root + "\ngroup:g:a@pve::\n\n\n\n", []string{
				"user config - ignore invalid group member ''",
				"user config - ignore invalid group member 'b,c@pve'"}},
		{"roles", "role:0\nrole:bad!:VM.Audit\nrole:r1:VM.Audit;Bogus VM.Audit\nrole:r1:Sys.Audit\nrole:PVEAuditor:Sys.Modify,Nope\n",
			root + "\n\n\nrole:r1:Sys.Audit,VM.Audit:\n\n", []string{
				"user config - ignore role '0' - invalid characters in role name",
				"user config - ignore role 'bad!' - invalid characters in role name",
				"user config - ignore invalid privilege 'Bogus'",
				"user config - ignore invalid privilege 'Nope'"}},
		{"acl paths", "user:a@pve\nacl:1:0:a@pve:PVEAdmin\nacl:1:0/:a@pve:NoAccess\nacl:1:/a b:a@pve:PVEAdmin\nacl:1::a@pve:PVEAdmin\nacl:0://vms//100/:a@pve:PVEAuditor\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\n\nacl:1:/:a@pve:NoAccess:\nacl:0:/vms/100:a@pve:PVEAuditor:\n", []string{
				"user config - ignore invalid path in acl '0'",
				"user config - ignore invalid path in acl '/a b'",
				"user config - ignore invalid path in acl ''"}},
		{"acl roles", "user:a@pve\nacl:1:/:a@pve:Later,bad!r,0,PVEAdmin\nrole:Later:VM.Audit\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\nrole:Later:VM.Audit:\n\nacl:1:/:a@pve:PVEAdmin:\n", []string{
				"user config - ignore invalid acl role 'Later'",
				"user config - ignore invalid role name 'bad!r' in acl",
				"user config - ignore invalid role name '0' in acl"}},
		{"acl members", "user:a@pve\nacl:1:/:@0,@bad!,foo,@ghost,nobody@pve,a@pve!none,root@pam,@a@pve:PVEAuditor\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\n\nacl:1:/:@a@pve,@ghost,nobody@pve:PVEAuditor:\n", []string{
				"user config - invalid user/group '@0' in acl",
				"user config - invalid user/group '@bad!' in acl",
				"user config - invalid user/group 'foo' in acl",
				"user config - ignore invalid acl group 'ghost'",
				"user config - ignore invalid acl member 'nobody@pve'",
				"user config - ignore invalid acl token 'a@pve!none'",
				"user config - ignore invalid acl member '@a@pve'"}},
		{"acl merge and flags", "user:a@pve\nuser:b@pve\ngroup:g\ntoken:root@pam!tk\n" +
			"acl:1:/:b@pve,a@pve,@g:PVEAuditor,NoAccess\nacl:0:/:a@pve:PVEAdmin\nacl:0:/:root@pam!tk:PVEAdmin\nacl:1:/:a@pve:PVEAuditor\n",
			"user:a@pve:0:0::::::\nuser:b@pve:0:0::::::\n" + root + "token:root@pam!tk:0:0::\n\ngroup:g:::\n\n\n\n" +
				"acl:0:/:a@pve,root@pam!tk:PVEAdmin:\nacl:1:/:@g,a@pve,b@pve:NoAccess,PVEAuditor:\n", nil},
		{"acl tree order", "user:a@pve\nacl:1:/pool/a-b:a@pve:NoAccess\nacl:1:/pool/a/b:a@pve:NoAccess\nacl:1:/pool:a@pve:NoAccess\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\n\nacl:1:/pool:a@pve:NoAccess:\nacl:1:/pool/a/b:a@pve:NoAccess:\nacl:1:/pool/a-b:a@pve:NoAccess:\n", nil},
		{"acl later line overrides flag", "user:a@pve\nacl:1:/:a@pve:NoAccess\nacl:0:/:a@pve:NoAccess\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\n\nacl:0:/:a@pve:NoAccess:\n", nil},
		{"user repeated drops tokens and their ACLs", "user:a@pve:1\ntoken:a@pve!t1:0:1\nacl:1:/vms/100:a@pve!t1:PVEAdmin\nacl:1:/:a@pve!t1:NoAccess\nuser:a@pve:0\n",
			"user:a@pve:0:0::::::\n" + root + "\n\n\n\n", nil},
		{"pools", "pool:0\npool:a/b/c/d\npool:x/y/z:%41ll:0100,100,7,abc:local,1bad,nfs1\npool:x:top:100,0:\n",
			root + "\n\npool:x:top:0::\npool:x/y::::\npool:x/y/z:All:100,7:local,nfs1:\n\n\n", []string{
				"user config - ignore pool '0' - invalid characters in pool name",
				"user config - ignore pool 'a/b/c/d' - invalid characters in pool name",
				"user config - ignore duplicate vmid '100' in pool 'x/y/z'",
				"user config - ignore invalid vmid 'abc' in pool 'x/y/z'",
				"user config - ignore invalid storage '1bad' in pool 'x/y/z'",
				"user config - ignore duplicate vmid '100' in pool 'x'"}},
		{"vmids sort as strings", "pool:p::9,10,100:b-s,a-s:\n", root + "\n\npool:p::10,100,9:a-s,b-s:\n\n\n", nil},
		{"huge vmid", "pool:p::18446744073709551615,18446744073709551616:\n", root + "\n\npool:p::18446744073709551615::\n\n\n",
			[]string{"user config - ignore invalid vmid '18446744073709551616' in pool 'p'"}},
		{"email zero", "user:a@pve:1:0:::0:c\n", "user:a@pve:1:0::::c::\n" + root + "\n\n\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns := Parse([]byte(tt.in))
			if got := string(cfg.Render()); got != tt.out {
				t.Errorf("render:\n got %q\nwant %q", got, tt.out)
			}
			if !reflect.DeepEqual(warns, tt.warns) {
				t.Errorf("warnings:\n got %q\nwant %q", warns, tt.warns)
			}
			checkCanonical(t, cfg)
		})
	}
}

// keptWarning matches the warnings about entries the parser keeps (unknown
// group members, ACL users and groups), which every re-read repeats.
var keptWarning = regexp.MustCompile(`^user config - ignore invalid (group member|acl member|acl group) '[^']*'$`)

// checkCanonical asserts that rendering and re-parsing cfg gives an equal
// model and the same bytes, with no warnings but those about kept entries.
func checkCanonical(t testing.TB, cfg *Config) {
	t.Helper()
	out := cfg.Render()
	again, warns := Parse(out)
	for _, w := range warns {
		if !keptWarning.MatchString(w) {
			t.Errorf("re-parse of rendered output warns: %q\n%s", w, out)
		}
	}
	if !reflect.DeepEqual(normalize(cfg), normalize(again)) {
		t.Errorf("re-parsed model differs\nfirst:  %#v\nsecond: %#v", toJSON(cfg), toJSON(again))
	}
	if out2 := again.Render(); string(out2) != string(out) {
		t.Errorf("second render differs:\n%q\n%q", out, out2)
	}
	checkDerived(t, cfg)
	checkDerived(t, again)
}

// checkDerived asserts that the users' group sets and MemberOf are exactly
// the group member lists seen from the members' side.
func checkDerived(t testing.TB, cfg *Config) {
	t.Helper()
	want := map[string]Set{}
	for gid, g := range cfg.Groups.All() {
		for m := range g.Users {
			if want[m] == nil {
				want[m] = Set{}
			}
			want[m][gid] = struct{}{}
		}
	}
	for id, u := range cfg.Users.All() {
		if got, w := u.Groups.Sorted(), want[id].Sorted(); !slices.Equal(got, w) {
			t.Errorf("user %s groups %q, want %q", id, got, w)
		}
		if cfg.MemberOf.Has(id) {
			t.Errorf("defined user %s in MemberOf", id)
		}
		delete(want, id)
	}
	for id, s := range cfg.MemberOf.All() {
		if got, w := s.Sorted(), want[id].Sorted(); !slices.Equal(got, w) || len(got) == 0 {
			t.Errorf("MemberOf %s = %q, want %q", id, got, w)
		}
		delete(want, id)
	}
	for id := range want {
		t.Errorf("member %s missing from MemberOf", id)
	}
}

// normalize maps empty and nil sets/maps alike so that DeepEqual compares
// content.
func normalize(c *Config) map[string]any { return toJSON(c) }

func TestParseGroupsDerived(t *testing.T) {
	cfg, _ := Parse([]byte("group:g2:a@pve\nuser:a@pve:1\ngroup:g1:a@pve,x@pve\n"))
	if got := cfg.User("a@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"g1", "g2"}) {
		t.Errorf("a@pve groups = %q", got)
	}
	if !cfg.Group("g1").Users.Has("x@pve") {
		t.Error("unknown member x@pve not kept")
	}
	if got := cfg.MemberOf.Value("x@pve").Sorted(); !slices.Equal(got, []string{"g1"}) || cfg.MemberOf.Len() != 1 {
		t.Errorf("MemberOf = %q (%d entries)", got, cfg.MemberOf.Len())
	}
	checkDerived(t, cfg)
	if cfg.User("root@pam").Groups != nil {
		t.Error("root@pam has groups")
	}
}

func TestBuiltinRolesPresent(t *testing.T) {
	cfg, _ := Parse([]byte("role:PVEAuditor:Sys.Modify\nrole:Administrator\n"))
	for name, want := range map[string]int{"Administrator": 47, "NoAccess": 0, "PVEAuditor": 7, "PVEVMAdmin": 23} {
		r := cfg.Role(name)
		if r == nil || len(r.Privs) != want {
			t.Errorf("role %s = %v, want %d privileges", name, r, want)
		}
	}
	if cfg.Role("PVEAuditor").Privs.Has("Sys.Modify") || BuiltinRole("PVEAuditor").Privs.Has("Sys.Modify") {
		t.Error("built-in role modified")
	}
	if cfg.Roles.Len() != 17 {
		t.Errorf("%d roles", cfg.Roles.Len())
	}
}

func TestEmptyAndNil(t *testing.T) {
	for _, in := range [][]byte{nil, {}, []byte("\n \n\t\r\n")} {
		cfg, warns := Parse(in)
		if len(warns) != 0 || string(cfg.Render()) != root+"\n\n\n\n" {
			t.Errorf("Parse(%q) = %q, %q", in, cfg.Render(), warns)
		}
		if u := cfg.User("root@pam"); u == nil || !u.Enable {
			t.Error("root@pam missing or disabled")
		}
	}
	if got := string((&Config{}).Render()); got != "\n\n\n\n" {
		t.Errorf("empty config renders %q", got)
	}
	if got := string(New().Render()); got != root+"\n\n\n\n" {
		t.Errorf("New() renders %q", got)
	}
}

func TestFormat(t *testing.T) {
	f := Format()
	if f.Path != "user.cfg" || f.Parse == nil {
		t.Fatalf("Format() = %+v", f)
	}
	m, warns, err := f.Parse([]byte(example14In))
	if err != nil || len(warns) != 0 {
		t.Fatalf("Parse: %v %q", err, warns)
	}
	if string(m.Render()) != example14Out {
		t.Error("Format().Parse model renders differently")
	}
	_, warns, err = f.Parse([]byte("bogus\n"))
	if err != nil || len(warns) != 1 {
		t.Errorf("bogus: %v %q", err, warns)
	}
}

func fixtureFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.cfg"))
	if err != nil || len(files) != 9 {
		t.Fatalf("fixture .cfg files: %v (%d)", err, len(files))
	}
	return files
}

func TestFixtureConfigs(t *testing.T) {
	for _, f := range fixtureFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg, warns := Parse(data)
		if len(warns) != 0 {
			t.Errorf("%s: warnings %q", filepath.Base(f), warns)
		}
		checkCanonical(t, cfg)
	}
	// test8.cfg: token with an empty privsep field parses as privsep 0.
	data, _ := os.ReadFile(filepath.Join(fixtureDir, "test8.cfg"))
	cfg, _ := Parse(data)
	if tok := cfg.User("carol@pam").Token("token"); tok == nil || tok.Privsep {
		t.Errorf("carol@pam!token = %+v", tok)
	}
}
