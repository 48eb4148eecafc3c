package mutate

import (
	"encoding/json"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

var allOps = []string{OpUserCreate, OpUserUpdate, OpUserDelete, OpGroupCreate, OpGroupUpdate, OpGroupDelete,
	OpRoleCreate, OpRoleUpdate, OpRoleDelete, OpACLUpdate, OpTokenCreate, OpTokenUpdate, OpTokenDelete,
	OpRealmCreate, OpRealmUpdate, OpRealmDelete, OpPassword}

// FuzzHandlers feeds arbitrary bodies to every handler: no panic, and a
// failed command leaves the tree unchanged; a successful one leaves a
// canonical user.cfg.
func FuzzHandlers(f *testing.F) {
	for _, c := range randomCommands(3, 60) {
		b, _ := json.Marshal(c.body)
		for i, op := range allOps {
			if op == c.op {
				f.Add(uint8(i), b)
			}
		}
	}
	f.Add(uint8(0), []byte(`{"userid":"a@pve","groups":null,"enable":false}`))
	f.Add(uint8(9), []byte(`{"path":"/","roles":["NoAccess"],"users":["root@pam"],"caller-privs":{"Permissions.Modify":false}}`))
	f.Fuzz(func(t *testing.T, opi uint8, body []byte) {
		l := newTestLog(t, true)
		l.seed()
		op := allOps[int(opi)%len(allOps)]
		sum := l.tree.Checksum()
		c := &cfs.Command{V: cfs.CommandVersion, Op: op, Time: l.time, Node: "n1", Body: body}
		b, err := c.Encode()
		if err != nil {
			return
		}
		r := l.tree.Apply(99, l.clock+10, b)
		if r.Err != nil {
			if l.tree.Checksum() != sum {
				t.Fatalf("failed %s changed the tree: %v", op, r.Err)
			}
			return
		}
		m, _, err := l.tree.Model("user.cfg")
		if err != nil {
			t.Fatal(err)
		}
		checkCanonical(t, m.(*usercfg.Config))
	})
}

// TestNilModels: mutations accept nil and hand-built models without panics.
func TestNilModels(t *testing.T) {
	bare := &usercfg.Config{}
	for _, fn := range []func() error{
		func() error {
			_, err := CreateUser(Models{}, UserCreate{Userid: "a@pve", PasswordHash: pwA})
			return err
		},
		func() error { _, err := CreateUser(Models{Users: bare}, UserCreate{Userid: "a@pve"}); return err },
		func() error { _, err := CreateGroup(bare, GroupCreate{Groupid: "g"}); return err },
		func() error {
			_, err := CreateRole(bare, RoleCreate{Roleid: "R", Privs: []string{"VM.Audit"}})
			return err
		},
		func() error {
			_, err := UpdateACL(bare, ACLUpdate{Path: "/", Roles: []string{"R"}, Users: []string{"a@pve"}, CallerHasPermModify: true})
			return err
		},
		func() error { _, err := DeleteGroup(nil, GroupDelete{Groupid: "g"}); return err },
		func() error {
			_, _, err := CreateToken(Models{}, TokenCreate{Userid: "root@pam", Tokenid: "tt", Hash: hashA})
			return err
		},
		func() error {
			_, err := ChangePassword(Models{}, PasswordChange{Userid: "root@pam", Hash: pwA}, 0)
			return err
		},
		func() error { _, err := CreateRealm(nil, RealmCreate{}); return err },
		func() error { _, err := DeleteRealm(nil, RealmDelete{Realm: "pam"}); return err },
	} {
		_ = fn()
	}
	m, _, err := CreateToken(Models{}, TokenCreate{Userid: "root@pam", Tokenid: "tt", Hash: hashA})
	if err != nil || !m.Tokens.Has("root@pam!tt") {
		t.Fatalf("token on empty models: %v", err)
	}
	checkCanonical(t, m.Users)
}
