package ident

import (
	"reflect"
	"strings"
	"testing"
)

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestVerifyUsername(t *testing.T) {
	long := strings.Repeat("a", 61) + "@pve" // 65 bytes
	tests := []struct {
		in, name, realm, err string
	}{
		{"root@pam", "root", "pam", ""},
		{"john@example.com@ldap", "john@example.com", "ldap", ""},
		{"a!b@pve", "a!b", "pve", ""},
		{"a@b1", "a", "b1", ""},
		{"a@pv", "a", "pv", ""},
		{"a,b@pve", "a,b", "pve", ""},
		{strings.Repeat("a", 60) + "@pve", strings.Repeat("a", 60), "pve", ""},
		{"", "", "", "user name '' is too short"},
		{"a@", "", "", "user name 'a@' is too short"},
		{long, "", "", "user name '" + long + "' is too long (65 > 64)"},
		{"bob", "", "", "value 'bob' does not look like a valid user name"},
		{"bob@p", "", "", "value 'bob@p' does not look like a valid user name"},
		{"bob@1pve", "", "", "value 'bob@1pve' does not look like a valid user name"},
		{"bo b@pve", "", "", "value 'bo b@pve' does not look like a valid user name"},
		{"bo:b@pve", "", "", "value 'bo:b@pve' does not look like a valid user name"},
		{"bo/b@pve", "", "", "value 'bo/b@pve' does not look like a valid user name"},
		{"@pve", "", "", "value '@pve' does not look like a valid user name"},
		{"bob@pve!tok", "", "", "value 'bob@pve!tok' does not look like a valid user name"},
		{"bob@pve\t", "", "", "value 'bob@pve\t' does not look like a valid user name"},
		{"b\vb@pve", "", "", "value 'b\vb@pve' does not look like a valid user name"},
		{"b\x00b@pve", "b\x00b", "pve", ""},
		{"m\xc3\xbcller@pve", "m\xc3\xbcller", "pve", ""},
	}
	for _, tt := range tests {
		u, err := ParseUserid(tt.in)
		if got := errText(err); got != tt.err {
			t.Errorf("ParseUserid(%q) error %q, want %q", tt.in, got, tt.err)
			continue
		}
		if IsUsername(tt.in) != (tt.err == "") {
			t.Errorf("IsUsername(%q) disagrees with ParseUserid", tt.in)
		}
		if err == nil && (u.Name() != tt.name || string(u.Realm()) != tt.realm || u.String() != tt.in) {
			t.Errorf("%q: name %q realm %q", tt.in, u.Name(), u.Realm())
		}
	}
}

func TestParseRealm(t *testing.T) {
	for in, ok := range map[string]bool{"pam": true, "pv": true, "ldap-1.x_y": true, "p": false, "1ab": false,
		"": false, "a b": false, "a@b": false, "ab!": false, "Ab": true} {
		_, err := ParseRealm(in)
		if (err == nil) != ok {
			t.Errorf("ParseRealm(%q) = %v, want ok=%v", in, err, ok)
		}
		if err != nil && err.Error() != "value does not look like a valid realm" {
			t.Errorf("ParseRealm(%q) error text %q", in, err)
		}
		if _, err := ParseTokenName(in); (err == nil) != ok {
			t.Errorf("ParseTokenName(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestTokenIDs(t *testing.T) {
	tests := []struct {
		in    string
		user  string
		token string
		ok    bool
	}{
		{"root@pam!automation", "root@pam", "automation", true},
		{"a!b@pve!tok", "a!b@pve", "tok", true},
		{"x@y@pve!t2", "x@y@pve", "t2", true},
		{"root@pam!a", "", "", false},
		{"root@pam!1a", "", "", false},
		{"root@pam!", "", "", false},
		{"root@pam", "", "", false},
		{"root@pam!tok@pve", "", "", false},
		{"!tok", "", "", false},
		{"@pam!tok", "", "", false},
		{strings.Repeat("u", 80) + "@pve!tok", strings.Repeat("u", 80) + "@pve", "tok", true},
	}
	for _, tt := range tests {
		u, tok, err := SplitTokenID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("SplitTokenID(%q) err %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			want := "'" + tt.in + "' is not a valid token ID - not able to split into user and token parts"
			if err.Error() != want {
				t.Errorf("SplitTokenID(%q) error %q", tt.in, err)
			}
			_, err2 := ParseTokenID(tt.in)
			if err2 == nil || err2.Error() != "value '"+tt.in+"' does not look like a valid token ID" {
				t.Errorf("ParseTokenID(%q) error %v", tt.in, err2)
			}
			continue
		}
		if string(u) != tt.user || string(tok) != tt.token {
			t.Errorf("SplitTokenID(%q) = %q %q", tt.in, u, tok)
		}
		a, err := JoinTokenID(u, tok)
		if err != nil || string(a) != tt.in {
			t.Errorf("JoinTokenID(%q, %q) = %q, %v", u, tok, a, err)
		}
	}
}

func TestParseAuthid(t *testing.T) {
	tests := []struct {
		in      string
		isToken bool
		user    string
		token   string
		err     string
	}{
		{"root@pam", false, "root@pam", "", ""},
		{"root@pam!tok", true, "root@pam", "tok", ""},
		{"x@pve!t@pam", false, "x@pve!t@pam", "", ""},
		{"a!b@pve!tok", true, "a!b@pve", "tok", ""},
		{"root@pam!t", false, "", "", "value 'root@pam!t' does not look like a valid token ID"},
		{"bob", false, "", "", "value 'bob' does not look like a valid user name"},
		{"ab", false, "", "", "user name 'ab' is too short"},
	}
	for _, tt := range tests {
		a, err := ParseAuthid(tt.in)
		if got := errText(err); got != tt.err {
			t.Errorf("ParseAuthid(%q) error %q, want %q", tt.in, got, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if a.IsToken() != tt.isToken || string(a.User()) != tt.user || string(a.Token()) != tt.token || a.String() != tt.in {
			t.Errorf("ParseAuthid(%q): token=%v user=%q tok=%q", tt.in, a.IsToken(), a.User(), a.Token())
		}
	}
}

func TestGroupRoleIDs(t *testing.T) {
	for in, ok := range map[string]bool{"admins": true, "a.b-c_d": true, "0": true, "": false, "a b": false,
		"inval!d": false, "a/b": false, "grüppe": false} {
		_, err := ParseGroupID(in)
		if (err == nil) != ok || IsGroupID(in) != ok {
			t.Errorf("ParseGroupID(%q) = %v, want ok=%v", in, err, ok)
		}
		if err != nil && err.Error() != "group name '"+in+"' contains invalid characters" {
			t.Errorf("group error text %q", err)
		}
		_, err = ParseRoleID(in)
		if (err == nil) != ok || IsRoleID(in) != ok {
			t.Errorf("ParseRoleID(%q) = %v, want ok=%v", in, err, ok)
		}
		if err != nil && err.Error() != "role name '"+in+"' contains invalid characters" {
			t.Errorf("role error text %q", err)
		}
	}
	for in, want := range map[string]bool{"PVEAdmin": true, "pveX": true, "PvE": true, "PV": false, "MyPVE": false} {
		if IsReservedRoleID(in) != want {
			t.Errorf("IsReservedRoleID(%q) != %v", in, want)
		}
	}
}

func TestParsePoolID(t *testing.T) {
	tests := []struct {
		in, parent, err string
	}{
		{"dev", "", ""},
		{"dev/web", "dev", ""},
		{"a/b/c", "a/b", ""},
		{"0", "", ""},
		{"a/b/c/d", "", "pool name 'a/b/c/d' nested too deeply (max levels = 3)"},
		{"a//b/c", "", "pool name 'a//b/c' nested too deeply (max levels = 3)"},
		{"a/b/c/", "", "pool name 'a/b/c/' contains invalid characters"},
		{"/a", "", "pool name '/a' contains invalid characters"},
		{"a b", "", "pool name 'a b' contains invalid characters"},
		{"", "", "pool name '' contains invalid characters"},
		{"a/", "", "pool name 'a/' contains invalid characters"},
	}
	for _, tt := range tests {
		p, err := ParsePoolID(tt.in)
		if got := errText(err); got != tt.err {
			t.Errorf("ParsePoolID(%q) error %q, want %q", tt.in, got, tt.err)
			continue
		}
		if IsPoolID(tt.in) != (err == nil) {
			t.Errorf("IsPoolID(%q) disagrees", tt.in)
		}
		if err == nil {
			parent, ok := p.Parent()
			if string(parent) != tt.parent || ok != (tt.parent != "") || p.String() != tt.in {
				t.Errorf("%q.Parent() = %q, %v", tt.in, parent, ok)
			}
		}
	}
}

func TestVMIDAndStorage(t *testing.T) {
	for in, ok := range map[string]bool{"100": true, "999999999": true, "99": false, "1000000000": false,
		"0100": false, "": false, "12a": false, "-100": false} {
		if err := VerifyVMID(in); (err == nil) != ok {
			t.Errorf("VerifyVMID(%q) = %v", in, err)
		}
	}
	for in, ok := range map[string]bool{"0": true, "007": true, "": false, "1e5": false, " 1": false} {
		if IsPoolVMID(in) != ok {
			t.Errorf("IsPoolVMID(%q) != %v", in, ok)
		}
	}
	for in, ok := range map[string]bool{"local": true, "local-lvm": true, "Nfs1": true, "a1": true,
		"a": false, "1a": false, "a-": false, "a_b.c": true, "inval!d": false, "a b": false} {
		err := VerifyStorageID(in)
		if (err == nil) != ok || IsStorageID(in) != ok {
			t.Errorf("VerifyStorageID(%q) = %v", in, err)
		}
		if err != nil && err.Error() != "storage ID '"+in+"' contains illegal characters" {
			t.Errorf("storage error text %q", err)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in, out string
		ok      bool
	}{
		{"/", "/", true},
		{"//", "/", true},
		{"/vms/100", "/vms/100", true},
		{"vms//100/", "/vms/100", true},
		{"///vms///", "/vms", true},
		{"/pool/a/b", "/pool/a/b", true},
		{"0/", "/", true},
		{"/0", "/0", true},
		{"00", "/00", true},
		{"/a/../b", "/a/../b", true},
		{"", "", false},
		{"0", "", false},
		{"/vms/1 00", "", false},
		{"/vms:100", "", false},
		{"/m\xc3\xbc", "", false},
		{"/a@b", "", false},
	}
	for _, tt := range tests {
		out, ok := NormalizePath(tt.in)
		if out != tt.out || ok != tt.ok {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q, %v", tt.in, out, ok, tt.out, tt.ok)
		}
	}
	if got := SplitPath("/vms/100"); !reflect.DeepEqual(got, []string{"vms", "100"}) {
		t.Errorf("SplitPath = %q", got)
	}
	if got := SplitPath("/"); got != nil {
		t.Errorf("SplitPath(/) = %q", got)
	}
}

func TestCheckPath(t *testing.T) {
	ok := []string{"/", "/access", "/access/groups", "/access/groups/admins", "/access/realm",
		"/access/realm/ldap1", "/nodes", "/nodes/node-1", "/pool", "/pool/a", "/pool/a/b/c", "/sdn",
		"/sdn/controllers", "/sdn/controllers/c_1-x", "/sdn/dns", "/sdn/dns/d1", "/sdn/fabrics/f1",
		"/sdn/ipams/pve", "/sdn/prefix-lists", "/sdn/prefix-lists/p1", "/sdn/route-maps/r1", "/sdn/zones",
		"/sdn/zones/z1", "/sdn/zones/z1/vnet1", "/sdn/zones/z1/vnet1/1", "/sdn/zones/z1/vnet1/4094",
		"/storage", "/storage/local-lvm", "/vms", "/vms/100", "/vms/1000000", "/mapping", "/mapping/pci",
		"/mapping/pci/gpu1"}
	bad := []string{"", "/users", "/kvm", "/vms/99", "/vms/0100", "/vms/abc", "/pool/a/b/c/d", "/access/users",
		"/access/groups/a/b", "/nodes/a/b", "/sdn/dns/d.1", "/sdn/controllers/c.1", "/sdn/zones/z/v/0",
		"/sdn/zones/z/v/12345", "/sdn/other", "/storage/a/b", "/mapping/a/b/c", "vms", "/vms/", "//",
		"/acme", "/access/realm/", "/sdn/zones/z1/vnet1/1/x"}
	for _, p := range ok {
		if !CheckPath(p) {
			t.Errorf("CheckPath(%q) = false", p)
		}
	}
	for _, p := range bad {
		if CheckPath(p) {
			t.Errorf("CheckPath(%q) = true", p)
		}
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in  string
		out []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b;c d\te", []string{"a", "b", "c", "d", "e"}},
		{",,a,,b,,", []string{"a", "b"}},
		{" a , b ", []string{"a", "b"}},
		{"a,b\x00c d", []string{"a,b", "c d"}},
		{"a\x00\x00b\x00\x00", []string{"a", "", "b"}},
		{"\x00", []string{}},
	}
	for _, tt := range tests {
		got := SplitList(tt.in)
		if len(got) == 0 && len(tt.out) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.out) {
			t.Errorf("SplitList(%q) = %q, want %q", tt.in, got, tt.out)
		}
	}
}

func TestIsSpace(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
		if IsSpace(byte(c)) != want {
			t.Errorf("IsSpace(%#x) = %v", c, !want)
		}
	}
}
