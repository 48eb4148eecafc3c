package domains

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateParams(t *testing.T) {
	tests := []struct {
		name   string
		update bool
		params map[string]string
		want   map[string]string // nil: valid
	}{
		{"create minimal", false, map[string]string{"realm": "corp", "type": "ldap"}, nil},
		{"create all kinds", false, map[string]string{
			"realm": "corp", "type": "openid", "username-claim": "sub", "check-connection": "0",
			"port": "389", "password": "pw", "default": "1", "comment": "x",
		}, nil},
		{"create missing required", false, map[string]string{}, map[string]string{
			"realm": "property is missing and it is not optional",
			"type":  "property is missing and it is not optional",
		}},
		{"create bad values", false, map[string]string{
			"realm": "1x", "type": "nis", "port": "0", "default": "true", "bogus": "1",
			"digest": "abc", "server1": "a b", "groups-claim": "a b",
		}, map[string]string{
			"realm":        "invalid format - value does not look like a valid realm\n",
			"type":         "value 'nis' does not have a value in the enumeration 'ad, ldap, openid, pam, pve'",
			"port":         "value must have a minimum value of 1",
			"default":      "type check ('boolean') failed - got 'true'",
			"bogus":        "property is not defined in schema and the schema does not allow additional properties",
			"digest":       "property is not defined in schema and the schema does not allow additional properties",
			"server1":      "invalid format - value does not look like a valid address: a b\n",
			"groups-claim": "value does not match the regex pattern",
		}},
		{"realm too long", false, map[string]string{"realm": "a" + strings.Repeat("b", 32), "type": "ldap"},
			map[string]string{"realm": "value may only be 32 characters long"}},
		{"comment length counts characters", false,
			map[string]string{"realm": "ab", "type": "ad", "comment": strings.Repeat("ü", 4096)}, nil},
		{"update minimal", true, map[string]string{"realm": "corp", "delete": "comment,port", "digest": "x"}, nil},
		{"update refuses type, fixed and bad delete", true, map[string]string{
			"type": "ldap", "username-claim": "x", "delete": "comment 1a",
		}, map[string]string{
			"realm":          "property is missing and it is not optional",
			"type":           "property is not defined in schema and the schema does not allow additional properties",
			"username-claim": "property is not defined in schema and the schema does not allow additional properties",
			"delete":         "invalid format - invalid configuration ID '1a'\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.update {
				err = ValidateUpdateParams(tt.params)
			} else {
				err = ValidateCreateParams(tt.params)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParamError", err)
			}
			if !reflect.DeepEqual(pe.Errors, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", pe.Errors, tt.want)
			}
		})
	}
	err := ValidateCreateParams(map[string]string{"realm": "x"})
	if err == nil || err.Error() != "Parameter verification failed.\nrealm: invalid format - value does not look like a valid realm\ntype: property is missing and it is not optional" {
		t.Errorf("Error() = %q", err)
	}
}

func mustParse(t *testing.T, s string) *Domains {
	t.Helper()
	d, w := Parse([]byte(s))
	if len(w) != 0 {
		t.Fatalf("warnings: %q", w)
	}
	return d
}

func TestCreate(t *testing.T) {
	base := mustParse(t, "pve: pve\n\tcomment Proxmox VE authentication server\n\tdefault 1\n\n"+
		"pam: pam\n\tcomment Linux PAM standard authentication\n\n")
	tests := []struct {
		name    string
		params  map[string]string
		want    string // rendered, if no error
		wantErr string
	}{
		{"ldap, default moves, sync options normalised, password not stored",
			map[string]string{
				"realm": "corp", "type": "ldap", "server1": "ldap.x", "base_dn": "dc=x", "user_attr": "uid",
				"default": "1", "comment": "  Corp: main  ", "port": "+636", "password": "secret",
				"check-connection": "0", "sync-defaults-options": "purge=1,full=yes,scope=both",
			},
			"pve: pve\n\tcomment Proxmox VE authentication server\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\n" +
				"ldap: corp\n\tcomment Corp%3A main\n\tbase_dn dc=x\n\tserver1 ldap.x\n\tuser_attr uid\n" +
				"\tdefault 1\n\tport 636\n\tsync-defaults-options remove-vanished=entry;properties;acl,scope=both\n\n",
			""},
		{"openid with default 0 keeps the other default",
			map[string]string{"realm": "sso", "type": "openid", "issuer-url": "https://idp", "client-id": "c",
				"default": "0", "username-claim": "email"},
			"pve: pve\n\tcomment Proxmox VE authentication server\n\tdefault 1\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\n" +
				"openid: sso\n\tclient-id c\n\tissuer-url https://idp\n\tdefault 0\n\tusername-claim email\n\n",
			""},
		{"exists", map[string]string{"realm": "pve", "type": "ldap"}, "",
			"add auth server failed: domain 'pve' already exists"},
		{"reserved name", map[string]string{"realm": "pam", "type": "ad"}, "",
			"add auth server failed: domain 'pam' already exists"},
		{"builtin type", map[string]string{"realm": "local", "type": "pve"}, "",
			"add auth server failed: unable to create builtin type 'pve'"},
		{"check-connection on openid", map[string]string{"realm": "sso", "type": "openid", "check-connection": "1"}, "",
			"add auth server failed: 'check-connection' parameter can only be set for realms of type 'ldap' or 'ad'"},
		{"option of another type", map[string]string{"realm": "sso", "type": "openid", "issuer-url": "i",
			"client-id": "c", "server1": "s"}, "",
			"add auth server failed: unexpected property 'server1'"},
		{"missing required", map[string]string{"realm": "corp", "type": "ldap", "server1": "s", "user_attr": "uid"}, "",
			"add auth server failed: missing value for required option 'base_dn'"},
		{"line feed", map[string]string{"realm": "win", "type": "ad", "server1": "s", "domain": "d",
			"comment": "a\nb"}, "",
			"add auth server failed: property contains a line feed"},
		{"parameter error", map[string]string{"realm": "win", "type": "ad", "port": "x"}, "",
			"Parameter verification failed.\nport: type check ('integer') failed - got 'x'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := base.Create(tt.params)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(d.Render()); got != tt.want {
				t.Errorf("Render:\n got %q\nwant %q", got, tt.want)
			}
			assertStable(t, d)
			if !base.realms[0].IsDefault() {
				t.Errorf("base changed")
			}
		})
	}
	// Reserved names are refused even when absent (after a delete).
	noPam := &Domains{realms: base.realms[:1]}
	if _, err := noPam.Create(map[string]string{"realm": "pam", "type": "ad"}); err == nil ||
		err.Error() != "add auth server failed: unable to use reserved name 'pam'" {
		t.Errorf("reserved name: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	base := mustParse(t, refExample)
	tests := []struct {
		name    string
		params  map[string]string
		want    string
		wantErr string
	}{
		{"set and delete",
			map[string]string{"realm": "corp", "delete": "bind_dn;mode", "port": "389", "comment": "Corp",
				"sync-defaults-options": "full=1", "digest": base.Digest()},
			builtins + "ldap: corp\n\tcomment Corp\n\tbase_dn dc=example,dc=com\n\tserver1 ldap1.example.com\n\tuser_attr uid\n" +
				"\tdefault 1\n\tport 389\n\tsync-defaults-options remove-vanished=entry;properties\n\n" +
				"openid: sso\n\tclient-id pve\n\tissuer-url https://idp.example.com/realms/main\n\tautocreate 1\n\tusername-claim email\n\n",
			""},
		{"default moves to pam",
			map[string]string{"realm": "pam", "default": "1"},
			"pve: pve\n\tcomment Proxmox VE authentication server\n\n" +
				"pam: pam\n\tcomment Linux PAM standard authentication\n\tdefault 1\n\n" +
				strings.Replace(refExample[len(builtins):], "\tdefault 1\n", "", 1),
			""},
		{"deleting a builtin comment restores the default",
			map[string]string{"realm": "pve", "delete": "comment"},
			refExample, ""},
		{"password only is an update",
			map[string]string{"realm": "corp", "password": "x"},
			refExample, ""},
		{"stale digest", map[string]string{"realm": "corp", "port": "1", "digest": "0123"}, "",
			"update auth server failed: detected modified configuration - file changed by other user? Try again."},
		{"unknown realm", map[string]string{"realm": "nope", "port": "1"}, "",
			"update auth server failed: domain 'nope' does not exist"},
		{"nothing to do", map[string]string{"realm": "corp", "digest": base.Digest()}, "",
			"update auth server failed: no options specified"},
		{"check-connection on pam", map[string]string{"realm": "pam", "check-connection": "1"}, "",
			"update auth server failed: 'check-connection' parameter can only be set for realms of type 'ldap' or 'ad'"},
		{"option of another type", map[string]string{"realm": "sso", "port": "1"}, "",
			"update auth server failed: unexpected property 'port'"},
		{"delete required", map[string]string{"realm": "corp", "delete": "server1"}, "",
			"update auth server failed: section 'corp' - missing value for required option 'server1'"},
		{"delete type", map[string]string{"realm": "corp", "delete": "type"}, "",
			"update auth server failed: unknown section type ''"},
		{"fixed option", map[string]string{"realm": "sso", "username-claim": "sub"}, "",
			"Parameter verification failed.\nusername-claim: property is not defined in schema and the schema does not allow additional properties"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := base.Update(tt.params)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(d.Render()); got != tt.want {
				t.Errorf("Render:\n got %q\nwant %q", got, tt.want)
			}
			assertStable(t, d)
			if string(base.Render()) != refExample {
				t.Errorf("base changed")
			}
		})
	}
}

func TestDelete(t *testing.T) {
	base := mustParse(t, refExample)
	d, err := base.Delete("corp")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Realm("corp"); ok || len(d.Realms()) != 3 {
		t.Errorf("corp still there")
	}
	if _, err := d.Delete("corp"); err == nil ||
		err.Error() != "delete auth server failed: authentication domain 'corp' does not exist" {
		t.Errorf("second delete: %v", err)
	}
	d, err = base.Delete("pam")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, r := range d.Realms() {
		names = append(names, r.Name())
	}
	if !reflect.DeepEqual(names, []string{"pve", "corp", "sso", "pam"}) {
		t.Errorf("pam not reset at the end: %v", names)
	}
}

// FuzzCreate feeds arbitrary option values through Create and Update: no
// panics, and every accepted change must read back unchanged.
func FuzzCreate(f *testing.F) {
	f.Add("comment", " a\tb ")
	f.Add("port", "+00389")
	f.Add("tfa", "type=oath,step=30")
	f.Add("sync-defaults-options", "full=on,purge=off")
	f.Add("base_dn", "  ")
	f.Add("default", "1")
	f.Fuzz(func(t *testing.T, key, value string) {
		base := New()
		params := map[string]string{"realm": "corp", "type": "ldap", "server1": "s", "base_dn": "b", "user_attr": "uid"}
		params[key] = value
		d, err := base.Create(params)
		if err == nil {
			assertStable(t, d)
		}
		up := map[string]string{"realm": "pve"}
		up[key] = value
		if d, err := base.Update(up); err == nil {
			assertStable(t, d)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := []byte(refExample)
	for b.Loop() {
		Parse(data)
	}
}
