package mutate

import (
	"testing"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/cfs"
)

func TestRealms(t *testing.T) {
	base := baseModels(t).Domains
	tests := []struct {
		name  string
		fn    func(d *domains.Domains) (*domains.Domains, error)
		err   *wantErr
		check func(t *testing.T, d *domains.Domains)
	}{
		{"create", func(d *domains.Domains) (*domains.Domains, error) {
			return CreateRealm(d, RealmCreate{Params: map[string]string{"realm": "sso", "type": "openid",
				"issuer-url": "https://idp.example.com", "client-id": "pve", "default": "1", "check-connection": "0"}})
		}, e500("add auth server failed: 'check-connection' parameter can only be set for realms of type 'ldap' or 'ad'\n"), nil},
		{"create openid", func(d *domains.Domains) (*domains.Domains, error) {
			return CreateRealm(d, RealmCreate{Params: map[string]string{"realm": "sso", "type": "openid",
				"issuer-url": "https://idp.example.com", "client-id": "pve", "default": "1"}})
		}, nil, func(t *testing.T, d *domains.Domains) {
			if r, ok := d.Realm("sso"); !ok || r.Type() != "openid" || !r.IsDefault() {
				t.Fatalf("realm = %v %v", r, ok)
			}
		}},
		{"create reserved", func(d *domains.Domains) (*domains.Domains, error) {
			return CreateRealm(d, RealmCreate{Params: map[string]string{"realm": "pve", "type": "ldap", "server1": "x", "base_dn": "x", "user_attr": "uid"}})
		}, e500("add auth server failed: domain 'pve' already exists\n"), nil},
		{"create missing type", func(d *domains.Domains) (*domains.Domains, error) {
			return CreateRealm(d, RealmCreate{Params: map[string]string{"realm": "x1"}})
		}, eParam("type", "property is missing and it is not optional"), nil},
		{"create with bind password", func(d *domains.Domains) (*domains.Domains, error) {
			return CreateRealm(d, RealmCreate{Params: map[string]string{"realm": "l2", "type": "ldap", "server1": "x", "base_dn": "x", "user_attr": "uid", "password": "secret"}})
		}, eParam("password", "a bind password cannot be stored through the replicated log"), nil},
		{"update", func(d *domains.Domains) (*domains.Domains, error) {
			return UpdateRealm(d, RealmUpdate{Params: map[string]string{"realm": "ldap1", "comment": "corp", "digest": base.Digest()}})
		}, nil, func(t *testing.T, d *domains.Domains) {
			if r, _ := d.Realm("ldap1"); r.Comment() != "corp" {
				t.Fatalf("comment = %q", r.Comment())
			}
		}},
		{"update digest mismatch", func(d *domains.Domains) (*domains.Domains, error) {
			return UpdateRealm(d, RealmUpdate{Params: map[string]string{"realm": "ldap1", "comment": "corp", "digest": "0123"}})
		}, e500c(cfs.CodeDigest, "update auth server failed: "+cfs.DigestMismatch), nil},
		{"update missing", func(d *domains.Domains) (*domains.Domains, error) {
			return UpdateRealm(d, RealmUpdate{Params: map[string]string{"realm": "nope", "comment": "x"}})
		}, e500("update auth server failed: domain 'nope' does not exist\n"), nil},
		{"update nothing", func(d *domains.Domains) (*domains.Domains, error) {
			return UpdateRealm(d, RealmUpdate{Params: map[string]string{"realm": "ldap1"}})
		}, e500("update auth server failed: no options specified\n"), nil},
		{"update unknown param", func(d *domains.Domains) (*domains.Domains, error) {
			return UpdateRealm(d, RealmUpdate{Params: map[string]string{"realm": "ldap1", "type": "ad"}})
		}, eParam("type", "property is not defined in schema and the schema does not allow additional properties"), nil},
		{"delete", func(d *domains.Domains) (*domains.Domains, error) {
			return DeleteRealm(d, RealmDelete{Realm: "ad1"})
		}, nil, func(t *testing.T, d *domains.Domains) {
			if _, ok := d.Realm("ad1"); ok {
				t.Fatal("realm remains")
			}
		}},
		{"delete missing", func(d *domains.Domains) (*domains.Domains, error) {
			return DeleteRealm(d, RealmDelete{Realm: "nope"})
		}, e500("delete auth server failed: authentication domain 'nope' does not exist\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := string(base.Render())
			d, err := tt.fn(base)
			if string(base.Render()) != before {
				t.Fatal("input modified")
			}
			checkErr(t, err, tt.err)
			if err != nil {
				if d != base {
					t.Fatal("failed mutation returned a new model")
				}
				return
			}
			if again, _ := domains.Parse(d.Render()); string(again.Render()) != string(d.Render()) {
				t.Error("not canonical")
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestChangePassword(t *testing.T) {
	const now = 1_800_000_000
	expired := func(m Models) Models {
		m.Users, _ = UpdateUser(m.Users, UserUpdate{Userid: "bob@pve", Expire: ptr(int64(now - 1))})
		return m
	}
	disabled := func(m Models) Models {
		m.Users, _ = UpdateUser(m.Users, UserUpdate{Userid: "bob@pve", Enable: ptr(false)})
		return m
	}
	future := func(m Models) Models {
		m.Users, _ = UpdateUser(m.Users, UserUpdate{Userid: "bob@pve", Expire: ptr(int64(now))})
		return m
	}
	tests := []struct {
		name  string
		prep  func(Models) Models
		req   PasswordChange
		err   *wantErr
		check func(t *testing.T, old, n Models)
	}{
		{"pve", nil, PasswordChange{Userid: "bob@pve", Hash: pwA}, nil, func(t *testing.T, old, n Models) {
			if h, _ := n.Shadow.Get("bob"); h != pwA || n.PAMShadow != old.PAMShadow || n.Users != old.Users {
				t.Errorf("hash = %q", h)
			}
		}},
		{"pam", nil, PasswordChange{Userid: "dave@pam", Hash: pwB}, nil, func(t *testing.T, old, n Models) {
			if h, _ := n.PAMShadow.Get("dave"); h != pwB || n.Shadow != old.Shadow {
				t.Errorf("hash = %q", h)
			}
		}},
		{"ldap", nil, PasswordChange{Userid: "carol@ldap1", Hash: pwA}, e500("can't set password on auth type 'ldap'\n"), nil},
		{"no such user", nil, PasswordChange{Userid: "x@pve", Hash: pwA}, e500c(cfs.CodeNotFound, "no such user ('x@pve')\n"), nil},
		{"clear password", nil, PasswordChange{Userid: "bob@pve", Hash: "password1"}, e400("password must be given as a crypt(3) hash"), nil},
		{"self disabled", disabled, PasswordChange{Userid: "bob@pve", Hash: pwA, CheckEnabled: true}, e500("user 'bob@pve' is disabled\n"), nil},
		{"other disabled", disabled, PasswordChange{Userid: "bob@pve", Hash: pwA}, nil, nil},
		{"self expired", expired, PasswordChange{Userid: "bob@pve", Hash: pwA, CheckEnabled: true}, e500("user 'bob@pve' access expired\n"), nil},
		{"self expires now", future, PasswordChange{Userid: "bob@pve", Hash: pwA, CheckEnabled: true}, nil, nil},
		{"bad userid", nil, PasswordChange{Userid: "bob", Hash: pwA}, eParam("userid", "invalid format - value 'bob' does not look like a valid user name\n"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := baseModels(t)
			if tt.prep != nil {
				old = tt.prep(old)
			}
			n := runModels(t, old, tt.err, func(m Models) (Models, error) { return ChangePassword(m, tt.req, now) })
			if tt.err == nil && tt.check != nil {
				tt.check(t, old, n)
			}
		})
	}
}
