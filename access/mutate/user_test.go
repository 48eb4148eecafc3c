package mutate

import (
	"reflect"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name  string
		req   UserCreate
		err   *wantErr
		check func(t *testing.T, old, n Models)
	}{
		{"minimal", UserCreate{Userid: "new@pve"}, nil, func(t *testing.T, old, n Models) {
			u := n.Users.User("new@pve")
			if u == nil || !u.Enable || u.Expire != 0 || u.Groups != nil || u.Tokens.Len() != 0 {
				t.Fatalf("user = %+v", u)
			}
			if n.Shadow != old.Shadow || n.Tokens != old.Tokens || n.PAMShadow != old.PAMShadow || n.Domains != old.Domains {
				t.Error("a file other than user.cfg changed")
			}
		}},
		{"all fields", UserCreate{Userid: "full@pve", Enable: ptr(false), Expire: 1900000000,
			Firstname: " First ", Lastname: "Müller: 100%", Email: "a.b+c@example.com", Comment: "0",
			Keys: "x", Groups: []string{"ops", "admins"}, PasswordHash: pwA}, nil,
			func(t *testing.T, old, n Models) {
				u := n.Users.User("full@pve")
				want := "user full@pve false 1900000000 \"First\" \"Müller: 100%\" \"a.b+c@example.com\" \"\" \"x\" groups=[admins ops]"
				if got := dump(n.Users); !contains(got, want) {
					t.Fatalf("dump lacks %q:\n%s", want, got)
				}
				if !n.Users.Group("ops").Users.Has("full@pve") || !n.Users.Group("admins").Users.Has("full@pve") {
					t.Error("group member lists not updated")
				}
				if h, _ := n.Shadow.Get("full"); h != pwA {
					t.Errorf("shadow hash = %q", h)
				}
				if n.PAMShadow != old.PAMShadow {
					t.Error("pam shadow changed")
				}
				_ = u
			}},
		{"pam password", UserCreate{Userid: "frank@pam", PasswordHash: pwB}, nil, func(t *testing.T, old, n Models) {
			if h, _ := n.PAMShadow.Get("frank"); h != pwB {
				t.Errorf("pam shadow = %q", h)
			}
			if n.Shadow != old.Shadow {
				t.Error("pve shadow changed")
			}
		}},
		{"stale member joins its group", UserCreate{Userid: "ghost@pve"}, nil, func(t *testing.T, old, n Models) {
			if got := n.Users.User("ghost@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"ops"}) {
				t.Errorf("groups = %v", got)
			}
		}},
		{"exists", UserCreate{Userid: "alice@pve"}, e500c(cfs.CodeExists, "create user failed: user 'alice@pve' already exists\n"), nil},
		{"exists case-insensitively", UserCreate{Userid: "CAROL@ldap1"}, e500c(cfs.CodeExists, "create user failed: user 'carol@ldap1' already exists\n"), nil},
		{"case-sensitive realm", UserCreate{Userid: "Alice@pve"}, nil, nil},
		{"no such group", UserCreate{Userid: "x@pve", Groups: []string{"ops", "nope"}}, e500c(cfs.CodeNotFound, "create user failed: no such group 'nope'\n"), nil},
		{"ldap password", UserCreate{Userid: "x@ldap1", PasswordHash: pwA}, e500("create user failed: can't set password on auth type 'ldap'\n"), nil},
		{"ad password", UserCreate{Userid: "x@ad1", PasswordHash: pwA}, e500("create user failed: can't set password on auth type 'ad'\n"), nil},
		{"unknown realm password", UserCreate{Userid: "x@nope", PasswordHash: pwA}, e500c(cfs.CodeNotFound, "create user failed: auth domain 'nope' does not exist\n"), nil},
		{"unknown realm without password", UserCreate{Userid: "x@nope"}, nil, nil},
		{"clear password", UserCreate{Userid: "x@pve", PasswordHash: "hunter22"}, e400("password must be given as a crypt(3) hash"), nil},
		{"bad userid", UserCreate{Userid: "x"}, eParam("userid", "invalid format - user name 'x' is too short\n"), nil},
		{"bad userid realm", UserCreate{Userid: "xyz@1"}, eParam("userid", "invalid format - value 'xyz@1' does not look like a valid user name\n"), nil},
		{"negative expire", UserCreate{Userid: "x@pve", Expire: -1}, eParam("expire", "value must have a minimum value of 0"), nil},
		{"bad email", UserCreate{Userid: "x@pve", Email: "a:b@c"}, eParam("email", "invalid format - value does not look like a valid email address\n"), nil},
		{"bad keys", UserCreate{Userid: "x@pve", Keys: "a:b"}, eParam("keys", "value does not match the regex pattern"), nil},
		{"bad group name", UserCreate{Userid: "x@pve", Groups: []string{"a b"}}, eParam("groups", "invalid format - group name 'a b' contains invalid characters\n"), nil},
		{"comment too long", UserCreate{Userid: "x@pve", Comment: string(make([]byte, 2049))}, eParam("comment", "value may only be 2048 characters long"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := baseModels(t)
			n := runModels(t, old, tt.err, func(m Models) (Models, error) { return CreateUser(m, tt.req) })
			if tt.err == nil && tt.check != nil {
				tt.check(t, old, n)
			}
			if tt.err == nil && n.Users.User(tt.req.Userid) == nil {
				t.Fatal("user not created")
			}
		})
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestUpdateUser(t *testing.T) {
	tests := []struct {
		name  string
		req   UserUpdate
		err   *wantErr
		check func(t *testing.T, n *Models)
	}{
		{"fields", UserUpdate{Userid: "alice@pve", Enable: ptr(false), Expire: ptr(int64(5)), Firstname: ptr(""),
			Lastname: ptr(" L "), Email: ptr(""), Comment: ptr("c%:"), Keys: ptr("")}, nil, func(t *testing.T, n *Models) {
			want := "user alice@pve false 5 \"\" \"L\" \"\" \"c%:\" \"\" groups=[admins ops]"
			if got := dump(n.Users); !contains(got, want) {
				t.Fatalf("dump lacks %q:\n%s", want, got)
			}
		}},
		{"replace groups", UserUpdate{Userid: "alice@pve", Groups: &[]string{"ops"}}, nil, func(t *testing.T, n *Models) {
			if got := n.Users.User("alice@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"ops"}) {
				t.Errorf("groups = %v", got)
			}
			if n.Users.Group("admins").Users.Has("alice@pve") {
				t.Error("still member of admins")
			}
		}},
		{"clear groups", UserUpdate{Userid: "alice@pve", Groups: &[]string{}}, nil, func(t *testing.T, n *Models) {
			if n.Users.User("alice@pve").Groups != nil || n.Users.Group("ops").Users.Has("alice@pve") {
				t.Error("memberships remain")
			}
			if !n.Users.Group("ops").Users.Has("bob@pve") {
				t.Error("other member lost")
			}
		}},
		{"append groups", UserUpdate{Userid: "bob@pve", Groups: &[]string{"admins"}, Append: true}, nil, func(t *testing.T, n *Models) {
			if got := n.Users.User("bob@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"admins", "ops"}) {
				t.Errorf("groups = %v", got)
			}
		}},
		{"append without groups", UserUpdate{Userid: "bob@pve", Append: true}, eParam("groups", "missing property - 'append' requires this property"), nil},
		{"no such user", UserUpdate{Userid: "nobody@pve", Enable: ptr(true)}, e500c(cfs.CodeNotFound, "update user failed: no such user ('nobody@pve')\n"), nil},
		{"no such group", UserUpdate{Userid: "bob@pve", Groups: &[]string{"nope"}}, e500c(cfs.CodeNotFound, "update user failed: no such group 'nope'\n"), nil},
		{"bad expire", UserUpdate{Userid: "bob@pve", Expire: ptr(int64(-5))}, eParam("expire", "value must have a minimum value of 0"), nil},
		{"bad email", UserUpdate{Userid: "bob@pve", Email: ptr("nope")}, eParam("email", "invalid format - value does not look like a valid email address\n"), nil},
		{"bad userid", UserUpdate{Userid: "bob"}, eParam("userid", "invalid format - value 'bob' does not look like a valid user name\n"), nil},
		{"nothing", UserUpdate{Userid: "bob@pve"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := runModels(t, baseModels(t), tt.err, func(m Models) (Models, error) {
				var err error
				m.Users, err = UpdateUser(m.Users, tt.req)
				return m, err
			})
			if tt.err == nil && tt.check != nil {
				tt.check(t, &n)
			}
		})
	}
}

func TestDeleteUser(t *testing.T) {
	t.Run("alice", func(t *testing.T) {
		old := baseModels(t)
		n := runModels(t, old, nil, func(m Models) (Models, error) { return DeleteUser(m, UserDelete{Userid: "alice@pve"}) })
		c := n.Users
		if c.User("alice@pve") != nil {
			t.Fatal("user still there")
		}
		if c.Group("admins").Users.Has("alice@pve") || c.Group("ops").Users.Has("alice@pve") {
			t.Error("memberships remain")
		}
		if c.Find("/storage/local") != nil || c.Find("/storage") != nil || c.Find("/pool") != nil {
			t.Error("ACL nodes of alice and her tokens remain")
		}
		if ok, _ := hasACL(c, "/vms/100", "t", "alice@pve!ci", "PVEAuditor"); ok {
			t.Error("token ACL remains")
		}
		if ok, _ := hasACL(c, "/vms/100", "u", "bob@pve", "Custom"); !ok {
			t.Error("bob's ACL lost")
		}
		if n.Tokens.Has("alice@pve!ci") || n.Tokens.Has("alice@pve!mon") || !n.Tokens.Has("bob@pve!t1") {
			t.Errorf("token.cfg = %v", n.Tokens.TokenIDs())
		}
		if _, ok := n.Shadow.Get("alice"); ok {
			t.Error("shadow entry remains")
		}
		if _, ok := n.Shadow.Get("bob"); !ok {
			t.Error("bob's shadow entry lost")
		}
	})
	t.Run("pam user keeps system password", func(t *testing.T) {
		old := baseModels(t)
		n := runModels(t, old, nil, func(m Models) (Models, error) { return DeleteUser(m, UserDelete{Userid: "dave@pam"}) })
		if n.PAMShadow != old.PAMShadow || n.Shadow != old.Shadow {
			t.Error("password files changed")
		}
	})
	t.Run("root@pam is reset", func(t *testing.T) {
		n := runModels(t, baseModels(t), nil, func(m Models) (Models, error) { return DeleteUser(m, UserDelete{Userid: "root@pam"}) })
		u := n.Users.User("root@pam")
		if u == nil || !u.Enable || u.Email != "" {
			t.Errorf("root@pam = %+v", u)
		}
	})
	t.Run("no such user", func(t *testing.T) {
		runModels(t, baseModels(t), e500c(cfs.CodeNotFound, "delete user failed: no such user ('x@pve')\n"),
			func(m Models) (Models, error) { return DeleteUser(m, UserDelete{Userid: "x@pve"}) })
	})
	t.Run("bad userid", func(t *testing.T) {
		runModels(t, baseModels(t), eParam("userid", "invalid format - user name '' is too short\n"),
			func(m Models) (Models, error) { return DeleteUser(m, UserDelete{}) })
	})
	t.Run("recreate does not revive", func(t *testing.T) {
		m := baseModels(t)
		m, _ = DeleteUser(m, UserDelete{Userid: "bob@pve"})
		m, err := CreateUser(m, UserCreate{Userid: "bob@pve"})
		if err != nil {
			t.Fatal(err)
		}
		checkCanonical(t, m.Users)
		u := m.Users.User("bob@pve")
		if u.Groups != nil || u.Tokens.Len() != 0 || m.Tokens.Has("bob@pve!t1") {
			t.Errorf("old state revived: %+v", u)
		}
		if ok, _ := hasACL(m.Users, "/vms/100", "u", "bob@pve", "Custom"); ok {
			t.Error("old ACL revived")
		}
	})
}

// TestStaleMembers follows group members that are not defined users through
// Config.MemberOf: a new user takes the memberships that the groups still
// list, and only those.
func TestStaleMembers(t *testing.T) {
	m := baseModels(t)
	if got := m.Users.MemberOf.Value("ghost@pve").Sorted(); !reflect.DeepEqual(got, []string{"ops"}) {
		t.Fatalf("MemberOf ghost@pve = %v", got)
	}
	g, err := CreateGroup(m.Users, GroupCreate{Groupid: "later"})
	if err != nil {
		t.Fatal(err)
	}
	m.Users = g
	// alice leaves and comes back: her old groups list her no longer.
	m = runModels(t, m, nil, func(m Models) (Models, error) { return DeleteUser(m, UserDelete{Userid: "alice@pve"}) })
	if m.Users.MemberOf.Has("alice@pve") {
		t.Error("deleted user listed in MemberOf")
	}
	m = runModels(t, m, nil, func(m Models) (Models, error) { return CreateUser(m, UserCreate{Userid: "alice@pve"}) })
	if u := m.Users.User("alice@pve"); u.Groups != nil {
		t.Errorf("alice groups = %v", u.Groups.Sorted())
	}
	// ghost@pve's group goes away before the user is created.
	m.Users = runCfg(t, m.Users, nil, func(c *usercfg.Config) (*usercfg.Config, error) {
		return DeleteGroup(c, GroupDelete{Groupid: "ops"})
	})
	m = runModels(t, m, nil, func(m Models) (Models, error) {
		return CreateUser(m, UserCreate{Userid: "ghost@pve", Groups: []string{"later"}})
	})
	if got := m.Users.User("ghost@pve").Groups.Sorted(); !reflect.DeepEqual(got, []string{"later"}) {
		t.Errorf("ghost groups = %v", got)
	}
	if m.Users.MemberOf.Len() != 0 {
		t.Errorf("MemberOf = %v", m.Users.MemberOf.SortedKeys())
	}
}
