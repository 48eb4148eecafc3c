package domains

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/cfs"
)

const (
	builtins = "pve: pve\n\tcomment Proxmox VE authentication server\n\n" +
		"pam: pam\n\tcomment Linux PAM standard authentication\n\n"
	// The example of access-control.md §2.3, as Proxmox's writer produces it.
	refExample = builtins +
		"ldap: corp\n" +
		"\tbase_dn dc=example,dc=com\n" +
		"\tserver1 ldap1.example.com\n" +
		"\tuser_attr uid\n" +
		"\tbind_dn cn=readonly,dc=example,dc=com\n" +
		"\tdefault 1\n" +
		"\tmode ldaps\n" +
		"\tsync-defaults-options enable-new=1,remove-vanished=acl;entry;properties,scope=both\n" +
		"\n" +
		"openid: sso\n" +
		"\tclient-id pve\n" +
		"\tissuer-url https://idp.example.com/realms/main\n" +
		"\tautocreate 1\n" +
		"\tusername-claim email\n" +
		"\n"
	ldapMin = "ldap: corp\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n\n"
	prefix  = "file /etc/pve/domains.cfg line "
)

func TestParseRender(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string
		warnings []string
	}{
		{"empty file", "", builtins, nil},
		{"reference example round trip", refExample, refExample, nil},
		{"builtins appended after other realms, pve first",
			ldapMin,
			ldapMin + builtins, nil},
		{"only pam present: pve appended",
			"pam: pam\n\tcomment my pam\n",
			"pam: pam\n\tcomment my pam\n\npve: pve\n\tcomment Proxmox VE authentication server\n\n", nil},
		{"writer order: comment, required sorted, optional sorted; values canonical",
			builtins + "LDAP: corp\n" +
				"  verify\n" +
				"\tuser_classes inetorgperson, person\n" +
				"\tport +0389\n" +
				"\tcase-sensitive 0\n" +
				"\tcomment Corp   directory  \n" +
				"\tuser_attr uid\n" +
				"\tserver2 10.0.0.2\n" +
				"\tbase_dn dc=x\n" +
				"\tcapath /etc/ssl/certs\n" +
				"\tserver1 ldap.x\n" +
				"\n",
			builtins + "ldap: corp\n" +
				"\tcomment Corp   directory\n" +
				"\tbase_dn dc=x\n" +
				"\tserver1 ldap.x\n" +
				"\tuser_attr uid\n" +
				"\tcapath /etc/ssl/certs\n" +
				"\tcase-sensitive 0\n" +
				"\tport 389\n" +
				"\tserver2 10.0.0.2\n" +
				"\tuser_classes inetorgperson, person\n" +
				"\tverify 1\n" +
				"\n", nil},
		{"comment encoding",
			"pve: pve\n\tcomment DB team%3A lead 100%25 M%C3%BCller\n\n",
			"pve: pve\n\tcomment DB team%3A lead 100%25 M%C3%BCller\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\n", nil},
		{"comment normalised to what reads back",
			"ad: a1\n\tdomain x.example\n\tserver1 dc1\n\tcomment %20x%09\n\n" +
				"ad: a2\n\tdomain x.example\n\tserver1 dc1\n\tcomment %30\n\n" +
				"ad: a3\n\tdomain x.example\n\tserver1 dc1\n\tcomment %20\n\n" +
				"ad: a4\n\tdomain x.example\n\tserver1 dc1\n\tcomment 0\n\n",
			"ad: a1\n\tcomment x%09\n\tdomain x.example\n\tserver1 dc1\n\n" +
				"ad: a2\n\tdomain x.example\n\tserver1 dc1\n\n" +
				"ad: a3\n\tdomain x.example\n\tserver1 dc1\n\n" +
				"ad: a4\n\tdomain x.example\n\tserver1 dc1\n\n" + builtins, nil},
		{"builtin comment falls back to default",
			"pam: pam\n\tcomment 0\n\tdefault 1\n\n",
			"pam: pam\n\tcomment Linux PAM standard authentication\n\tdefault 1\n\n" +
				"pve: pve\n\tcomment Proxmox VE authentication server\n\n", nil},
		{"builtin type forced, foreign options dropped",
			"ldap: pve\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n\ttfa type=oath\n\n",
			"pve: pve\n\tcomment Proxmox VE authentication server\n\ttfa type=oath\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\n", nil},
		{"only the first default survives",
			"pve: pve\n\tdefault 1\n\npam: pam\n\tdefault 1\n\n" + ldapMin[:len(ldapMin)-1] + "\tdefault 0\n\n",
			"pve: pve\n\tcomment Proxmox VE authentication server\n\tdefault 1\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\n" +
				"ldap: corp\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n\tdefault 0\n\n", nil},
		{"later duplicate section replaces and moves",
			ldapMin + builtins + "ldap: corp\n\tbase_dn dc=y\n\tserver1 ldap.y\n\tuser_attr cn\n\n",
			builtins + "ldap: corp\n\tbase_dn dc=y\n\tserver1 ldap.y\n\tuser_attr cn\n\n", nil},
		{"comment lines anywhere, type line accepted",
			"# header\npve: pve\n# inside\n\ttype pve\n\tcomment x\n\n",
			"pve: pve\n\tcomment x\n\npam: pam\n\tcomment Linux PAM standard authentication\n\n", nil},
		{"openid with everything",
			"openid: sso\n\tissuer-url https://idp\n\tclient-id c\n\tclient-key k\n\tgroups-claim groups\n" +
				"\tprompt login\n\tscopes openid email\n\tacr-values urn:x\n\tquery-userinfo 0\n\tgroups-autocreate\n\n",
			"openid: sso\n\tclient-id c\n\tissuer-url https://idp\n\tacr-values urn:x\n\tclient-key k\n" +
				"\tgroups-autocreate 1\n\tgroups-claim groups\n\tprompt login\n\tquery-userinfo 0\n\tscopes openid email\n\n" + builtins, nil},
		{"IPv6 server, ldap-simple-attr-list, sync attributes",
			"ldap: l6\n\tbase_dn o=x\n\tserver1 2001:db8::1\n\tuser_attr uid\n\tgroup_classes groupOfNames;group\n" +
				"\tsync_attributes email=mail, firstname=givenName\n\tgroup_name_attr cn\n\n",
			"ldap: l6\n\tbase_dn o=x\n\tserver1 2001:db8::1\n\tuser_attr uid\n\tgroup_classes groupOfNames;group\n" +
				"\tgroup_name_attr cn\n\tsync_attributes email=mail, firstname=givenName\n\n" + builtins, nil},

		// Warnings, in Proxmox's words.
		{"unsupported type skips the section",
			"foo: bar\n\tkey value\n\n",
			builtins, []string{prefix + "1 (skip section 'bar'): unsupported type 'foo'"}},
		{"invalid realm id",
			"ldap: 1x\n\tbase_dn dc=x\n\n",
			builtins, []string{prefix + "1 (skip section '1x'): value does not look like a valid realm"}},
		{"top-level garbage",
			"garbage\n  \n" + builtins,
			builtins, []string{prefix + "1 - ignore config line: garbage", prefix + "2 - ignore config line:   "}},
		{"section garbage and a header without blank line",
			"pve: pve\n\tcomment a\npam: pam\n\tcomment b\n\n",
			"pve: pve\n\tcomment a\n\npam: pam\n\tcomment Linux PAM standard authentication\n\n",
			[]string{prefix + "3 (section 'pve') - ignore config line: pam: pam",
				prefix + "4 (section 'pve') - unable to parse value of 'comment': duplicate attribute"}},
		{"a line \"0\" ends a section",
			"pve: pve\n0\n\tcomment x\n\n",
			builtins, []string{prefix + "3 - ignore config line: \tcomment x"}},
		{"value errors",
			"ldap: corp\n" +
				"\tbase_dn dc=x\n" + // 2
				"\tserver1 ldap_x\n" + // 3
				"\tserver1 ldap.x\n" + // 4
				"\tuser_attr u\n" + // 5
				"\tuser_attr uid\n" + // 6
				"\tuser_attr uid2\n" + // 7
				"\tfoo bar\n" + // 8
				"\tissuer-url https://x\n" + // 9
				"\tport 70000\n" + // 10
				"\tport 12a\n" + // 11
				"\tmode ldapx\n" + // 12
				"\tdefault yes\n" + // 13
				"\tcomment\n" + // 14
				"\ttfa type=foo\n" + // 15
				"\tsync-defaults-options scope=all,bogus=1\n" + // 16
				"\ttype ad\n" + // 17
				"\tuser_classes a-b\n" + // 18
				"\tsslversion tlsv1_2\n" + // 19
				"\n",
			"ldap: corp\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n\tsslversion tlsv1_2\n\n" + builtins,
			[]string{
				prefix + "3 (section 'corp') - unable to parse value of 'server1': invalid format - value does not look like a valid address: ldap_x",
				prefix + "5 (section 'corp') - unable to parse value of 'user_attr': value does not match the regex pattern",
				prefix + "7 (section 'corp') - unable to parse value of 'user_attr': duplicate attribute",
				prefix + "8 (section 'corp') - unable to parse value of 'foo': unknown property type",
				prefix + "9 (section 'corp') - unable to parse value of 'issuer-url': unexpected property 'issuer-url'",
				prefix + "10 (section 'corp') - unable to parse value of 'port': value must have a maximum value of 65535",
				prefix + "11 (section 'corp') - unable to parse value of 'port': type check ('integer') failed - got '12a'",
				prefix + "12 (section 'corp') - unable to parse value of 'mode': value 'ldapx' does not have a value in the enumeration 'ldap, ldaps, ldap+starttls'",
				prefix + "13 (section 'corp') - unable to parse value of 'default': type check ('boolean') failed - got 'yes'",
				prefix + "14 (section 'corp') - unable to parse value of 'comment': got undefined value",
				prefix + "15 (section 'corp') - unable to parse value of 'tfa': invalid format - format error\ntype: value 'foo' does not have a value in the enumeration 'yubico, oath'",
				prefix + "16 (section 'corp') - unable to parse value of 'sync-defaults-options': invalid format - invalid key in comma-separated list property: bogus",
				prefix + "17 (section 'corp') - unable to parse value of 'type': unexpected property 'type'",
				prefix + "18 (section 'corp') - unable to parse value of 'user_classes': invalid format - value 'a-b' does not look like a simple ldap attribute name",
			}},
		{"missing required option skips the section",
			"ldap: corp\n\tbase_dn dc=x\n\tserver1 ldap.x\n\n",
			builtins, []string{prefix + "3 (skip section 'corp'): missing value for required option 'user_attr'"}},
		{"tfa property string errors",
			"pve: pve\n\ttfa digits=9\n\npam: pam\n\ttfa type=oath,type=yubico\n\n" +
				"ad: ad1\n\tdomain d\n\tserver1 s\n\ttfa oath\n\tcomment x\n\tsync-defaults-options =1\n\n",
			"pve: pve\n\tcomment Proxmox VE authentication server\n\npam: pam\n\tcomment Linux PAM standard authentication\n\n" +
				"ad: ad1\n\tcomment x\n\tdomain d\n\tserver1 s\n\n",
			[]string{
				prefix + "2 (section 'pve') - unable to parse value of 'tfa': invalid format - format error\ndigits: value must have a maximum value of 8\ntype: property is missing and it is not optional",
				prefix + "5 (section 'pam') - unable to parse value of 'tfa': invalid format - duplicate key in comma-separated list property: type",
				prefix + "10 (section 'ad1') - unable to parse value of 'tfa': invalid format - value without key, but schema does not define a default key",
				prefix + "12 (section 'ad1') - unable to parse value of 'sync-defaults-options': invalid format - missing key in comma-separated list property",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, warnings := Parse([]byte(tt.in))
			if got := string(d.Render()); got != tt.want {
				t.Errorf("Render:\n got %q\nwant %q", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tt.warnings)
			}
			assertStable(t, d)
		})
	}
}

// assertStable checks that a model reads back from its own bytes unchanged.
func assertStable(t *testing.T, d *Domains) {
	t.Helper()
	out := d.Render()
	again, warnings := Parse(out)
	if len(warnings) != 0 {
		t.Fatalf("rendered output warns: %q: %q", out, warnings)
	}
	if string(again.Render()) != string(out) {
		t.Fatalf("not stable:\n%q\n%q", out, again.Render())
	}
	if !reflect.DeepEqual(again, d) {
		t.Fatalf("model differs after round trip:\n%+v\n%+v", again, d)
	}
}

func TestDigest(t *testing.T) {
	// printf 'pve: pve\n\tcomment Proxmox VE ...' | sha1sum
	if got := New().Digest(); got != "12f1e5a76f54637455ea95a6500ce5d98726fdb8" {
		t.Errorf("Digest = %s", got)
	}
}

func TestIndexAndRead(t *testing.T) {
	d, w := Parse([]byte(refExample + "ad: win\n\tdomain corp.example\n\tserver1 dc1\n\ttfa type=yubico,id=1\n\tport 636\n\tcomment AD %E2%9C%93\n\n"))
	if len(w) != 0 {
		t.Fatal(w)
	}
	want := []IndexEntry{
		{Realm: "pve", Type: "pve", Comment: DefaultPVEComment},
		{Realm: "pam", Type: "pam", Comment: DefaultPAMComment},
		{Realm: "corp", Type: "ldap", Default: 1},
		{Realm: "sso", Type: "openid"},
		{Realm: "win", Type: "ad", Comment: "AD ✓", TFA: "yubico"},
	}
	if got := d.Index(); !reflect.DeepEqual(got, want) {
		t.Errorf("Index:\n got %+v\nwant %+v", got, want)
	}

	got, err := d.Read("win")
	if err != nil {
		t.Fatal(err)
	}
	wantRead := map[string]any{
		"type": "ad", "domain": "corp.example", "server1": "dc1", "tfa": "type=yubico,id=1",
		"port": int64(636), "comment": "AD ✓", "digest": d.Digest(),
	}
	if !reflect.DeepEqual(got, wantRead) {
		t.Errorf("Read(win) = %v", got)
	}
	pam, _ := d.Read("pam")
	if pam["plugin"] != "PVE::Auth::PAM" || pam["type"] != "pam" {
		t.Errorf("Read(pam) = %v", pam)
	}
	corp, _ := d.Read("corp")
	if corp["default"] != int64(1) {
		t.Errorf("Read(corp) = %v", corp)
	}
	if _, err := d.Read("nope"); err == nil || err.Error() != "domain 'nope' does not exist" {
		t.Errorf("Read(nope) = %v", err)
	}
	if name, ok := d.Default(); !ok || name != "corp" {
		t.Errorf("Default = %q %v", name, ok)
	}

	// Deprecated sync flags are shown mapped (but kept) on read.
	d2, _ := Parse([]byte("ldap: l1\n\tbase_dn b\n\tserver1 s\n\tuser_attr uid\n\tsync-defaults-options purge=yes,full=1,scope=users\n\n"))
	r, _ := d2.Read("l1")
	if r["sync-defaults-options"] != "full=1,purge=1,remove-vanished=entry;properties;acl,scope=users" {
		t.Errorf("sync options on read = %v", r["sync-defaults-options"])
	}
}

func TestRealmAccessors(t *testing.T) {
	d, _ := Parse([]byte(refExample))
	corp, ok := d.Realm("corp")
	if !ok || corp.Name() != "corp" || corp.Type() != TypeLDAP || !corp.IsDefault() || !corp.CaseSensitive() {
		t.Fatalf("corp = %+v", corp)
	}
	if v, ok := corp.Get("mode"); !ok || v != "ldaps" {
		t.Errorf("Get(mode) = %q", v)
	}
	if !reflect.DeepEqual(corp.Keys(), []string{"base_dn", "bind_dn", "default", "mode", "server1", "sync-defaults-options", "user_attr"}) {
		t.Errorf("Keys = %v", corp.Keys())
	}
	if corp.Bool("verify", false) || !corp.Bool("verify", true) {
		t.Errorf("Bool default not used")
	}
	if len(d.Realms()) != 4 {
		t.Errorf("Realms = %d", len(d.Realms()))
	}
	if !HasOption("ldap", "password") || HasOption("openid", "password") || HasOption("nope", "x") {
		t.Errorf("HasOption wrong")
	}
	keys, req := Options("ad")
	if len(keys) != 27 || !req["server1"] || !req["domain"] || req["base_dn"] {
		t.Errorf("Options(ad) = %v %v", keys, req)
	}
	if !reflect.DeepEqual(Types(), []string{"ad", "ldap", "openid", "pam", "pve"}) {
		t.Errorf("Types = %v", Types())
	}
	if !ValidRealm("ab") || ValidRealm("a") || ValidRealm("1a") {
		t.Errorf("ValidRealm wrong")
	}
}

func TestNewRealmWithWithout(t *testing.T) {
	r, err := NewRealm("corp", TypeLDAP, map[string]string{
		"server1": "ldap.x", "base_dn": "dc=x", "user_attr": "uid", "port": "0636", "default": "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Get("port"); v != "636" {
		t.Errorf("port = %q", v)
	}
	base, _ := Parse([]byte("pve: pve\n\tdefault 1\n\n"))
	d, err := base.With(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "pve: pve\n\tcomment Proxmox VE authentication server\n\n" +
		"pam: pam\n\tcomment Linux PAM standard authentication\n\n" +
		"ldap: corp\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n\tdefault 1\n\tport 636\n\n"
	if got := string(d.Render()); got != want {
		t.Errorf("With:\n got %q\nwant %q", got, want)
	}
	if !base.realms[0].IsDefault() {
		t.Errorf("With changed the original")
	}
	assertStable(t, d)

	// Replacing keeps the position.
	r2, _ := NewRealm("pve", TypePVE, map[string]string{"comment": "mine"})
	d2, err := d.With(r2)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(d2.Render()); !strings.HasPrefix(got, "pve: pve\n\tcomment mine\n\npam: pam") {
		t.Errorf("replace: %q", got)
	}

	d3 := d.Without("corp")
	if _, ok := d3.Realm("corp"); ok || d3.Without("corp") != d3 {
		t.Errorf("Without failed")
	}
	d4 := d.Without("pve")
	if got := string(d4.Render()); !strings.HasSuffix(got, "pve: pve\n\tcomment Proxmox VE authentication server\n\n") {
		t.Errorf("Without(pve) should re-add it at the end: %q", got)
	}

	bad := []struct {
		name, typ string
		opts      map[string]string
	}{
		{"1x", TypeLDAP, nil},
		{"ok", "nis", nil},
		{"ok", TypeLDAP, map[string]string{"server1": "s", "base_dn": "b"}},
		{"ok", TypePVE, map[string]string{"server1": "s"}},
		{"ok", TypePVE, map[string]string{"comment": "a\nb"}},
		{"ok", TypePVE, map[string]string{"default": "true"}},
	}
	for _, b := range bad {
		if _, err := NewRealm(b.name, b.typ, b.opts); err == nil {
			t.Errorf("NewRealm(%q, %q, %v) accepted", b.name, b.typ, b.opts)
		}
	}
	if _, err := d.With(nil); err == nil {
		t.Errorf("With(nil) accepted")
	}
	if _, err := d.With(&Realm{}); err == nil {
		t.Errorf("With(zero realm) accepted")
	}
}

func TestFormat(t *testing.T) {
	f := Format()
	if err := cfs.NewRegistry().Register(f); err != nil {
		t.Fatalf("register: %v", err)
	}
	if f.Path != "domains.cfg" {
		t.Fatalf("path %q", f.Path)
	}
	m, w, err := f.Parse(nil)
	if err != nil || len(w) != 0 || string(m.Render()) != builtins {
		t.Fatalf("Parse(nil) = %q %v %v", m.Render(), w, err)
	}
}

func TestTextHelpers(t *testing.T) {
	for _, tt := range []struct{ in, enc string }{
		{"DB team: lead 100%", "DB team%3A lead 100%25"},
		{"Müller", "M%C3%BCller"},
		{"a\tb\nc\x7f", "a%09b%0Ac%7F"},
		{" ,;@~", " ,;@~"},
	} {
		if got := encodeText(tt.in); got != tt.enc {
			t.Errorf("encodeText(%q) = %q, want %q", tt.in, got, tt.enc)
		}
		if got := decodeText(tt.enc); got != tt.in {
			t.Errorf("decodeText(%q) = %q", tt.enc, got)
		}
	}
	if got := decodeText("%zz%4"); got != "%zz%4" {
		t.Errorf("decodeText kept invalid escapes wrong: %q", got)
	}
	if got := decodeText("%FFa%C3"); got != "\uFFFDa\uFFFD" {
		t.Errorf("decodeText malformed UTF-8 = %q", got)
	}
	if got := splitList(" a, b;;c  d "); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("splitList = %q", got)
	}
	if got := splitList("a b\x00c\x00\x00"); !reflect.DeepEqual(got, []string{"a b", "c"}) {
		t.Errorf("splitList NUL = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(refExample))
	f.Add([]byte("ldap: pve\n\tbase_dn b\n\tserver1 s\n\tuser_attr u2\n\n0\npam: pam\n\tcomment %20%30\n\tdefault\n"))
	f.Add([]byte("ad: a\r\n\tdomain d\r\n\tserver1 s\r\n\tcomment %00%0A\r\n\r\nopenid: o\n\tissuer-url i\n\tclient-id c\n"))
	f.Add([]byte("# c\nLDAP : x\n\tport +1\n\ttfa type=oath,digits=07,step=10\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _ := Parse(data)
		assertStable(t, d)
		_ = d.Index()
		for _, r := range d.Realms() {
			if _, err := d.Read(r.Name()); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := d.Realm("pve"); !ok {
			t.Fatal("pve missing")
		}
		if _, ok := d.Realm("pam"); !ok {
			t.Fatal("pam missing")
		}
	})
}
