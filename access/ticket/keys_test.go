package ticket

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

const pamShadow = "priv/pam-shadow.cfg"

// testTree is a tree with the access formats and the password command.
type testTree struct {
	t     *testing.T
	tree  *cfs.Tree
	index uint64
}

func newTestTree(t *testing.T) *testTree {
	t.Helper()
	reg := cfs.NewRegistry()
	sh := shadow.Format()
	for _, f := range []cfs.Format{usercfg.Format(), sh, {Path: pamShadow, Parse: sh.Parse}} {
		if err := reg.Register(f); err != nil {
			t.Fatal(err)
		}
	}
	h := cfs.NewHandlers()
	if err := RegisterCommands(h, shadow.Path, pamShadow); err != nil {
		t.Fatal(err)
	}
	if err := RegisterCommands(h, shadow.Path); err == nil {
		t.Fatal("registering twice must fail")
	}
	return &testTree{t: t, tree: cfs.NewTree(reg, h)}
}

// apply runs one command stamped with time now.
func (tt *testTree) apply(op string, body any, now int64) *cfs.Result {
	tt.t.Helper()
	cmd, err := cfs.NewCommand(op, body)
	if err != nil {
		tt.t.Fatal(err)
	}
	cmd.Time, cmd.Node = now, "n1"
	data, err := cmd.Encode()
	if err != nil {
		tt.t.Fatal(err)
	}
	tt.index++
	return tt.tree.Apply(tt.index, now*1000, data)
}

func (tt *testTree) batch(ops []cfs.BatchOp, now int64) error {
	return tt.apply(cfs.OpBatch, ops, now).Error()
}

func (tt *testTree) get(p string) *cfs.Entry {
	e, ok := tt.tree.Get(p)
	if !ok {
		return nil
	}
	return e
}

func TestRotationOps(t *testing.T) {
	tt := newTestTree(t)
	priv1, pub1, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	priv2, pub2, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	priv3, pub3, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}

	// First key: exclusive create (no authkey.pub yet); priv dir made.
	ops, err := RotationOps(nil, priv1, pub1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(ops, 1000); err != nil {
		t.Fatalf("first key: %v", err)
	}
	if e := tt.get(PubKeyPath); e == nil || !bytes.Equal(e.Bytes(), pub1) || e.Mtime != 1000 || e.IsDir() {
		t.Fatalf("authkey.pub after create: %+v", e)
	}
	if e := tt.get(PrivKeyPath); e == nil || !bytes.Equal(e.Bytes(), priv1) {
		t.Fatal("authkey.key not written")
	}
	if tt.get(OldPubKeyPath) != nil {
		t.Fatal("authkey.pub.old written without a previous key")
	}
	// A second node that also saw no key loses cleanly.
	if err := tt.batch(ops, 1001); !LostRace(err) {
		t.Fatalf("second create: %v, want a lost race", err)
	}

	// Two nodes rotate from the same current key: one wins, one loses, and
	// nothing of the loser is written.
	cur := tt.get(PubKeyPath)
	opsA, err := RotationOps(cur, priv2, pub2)
	if err != nil {
		t.Fatal(err)
	}
	opsB, err := RotationOps(cur, priv3, pub3)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(opsA, 90000); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if err := tt.batch(opsB, 90001); !LostRace(err) {
		t.Fatalf("racing rotation: %v, want a lost race", err)
	}
	if e := tt.get(PubKeyPath); !bytes.Equal(e.Bytes(), pub2) || e.Mtime != 90000 {
		t.Fatal("authkey.pub is not the winner's")
	}
	if e := tt.get(OldPubKeyPath); e == nil || !bytes.Equal(e.Bytes(), pub1) || e.Mtime != 90000 {
		t.Fatal("authkey.pub.old is not the previous key")
	}
	if e := tt.get(PrivKeyPath); !bytes.Equal(e.Bytes(), priv2) {
		t.Fatal("authkey.key is not the winner's")
	}

	// Exclusive create of the www key.
	www := []byte("www key\n")
	cops, err := CreateOps(WWWKeyPath, www)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 100); err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 101); !LostRace(err) {
		t.Fatalf("second www create: %v", err)
	}
	if e := tt.get(WWWKeyPath); e == nil || e.IsDir() || !bytes.Equal(e.Bytes(), www) {
		t.Fatal("www key not a file with the content")
	}
	// Exclusive create below a missing directory.
	cops, err = CreateOps("a/b/c.key", www)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 102); err != nil {
		t.Fatal(err)
	}
	if e := tt.get("a/b/c.key"); e == nil || e.IsDir() {
		t.Fatal("nested create")
	}
	if _, err := RotationOps(tt.get("a"), priv1, pub1); err == nil {
		t.Fatal("rotation from a directory accepted")
	}
}

func TestSetPasswordCommand(t *testing.T) {
	tt := newTestTree(t)
	if r := tt.apply(cfs.OpMkdir, cfs.PathRequest{Path: "priv"}, 1); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := tt.apply(cfs.OpWrite, cfs.WriteRequest{Path: "user.cfg", Data: []byte("user:root@pam:1:0::::::\nuser:alice@pve:1:0::::::\n")}, 1); r.Err != nil {
		t.Fatal(r.Err)
	}
	hash := shadow.Hash("secret-1", "saltsalt")
	tests := []struct {
		name string
		req  SetPassword
		code string
	}{
		{"pve user", SetPassword{Userid: "alice@pve", Path: shadow.Path, Hash: hash}, ""},
		{"pam root", SetPassword{Userid: "root@pam", Path: pamShadow, Hash: hash}, ""},
		{"unknown user", SetPassword{Userid: "bob@pve", Path: shadow.Path, Hash: hash}, cfs.CodeNotFound},
		{"file not allowed", SetPassword{Userid: "alice@pve", Path: "user.cfg", Hash: hash}, cfs.CodeInvalid},
		{"clear password", SetPassword{Userid: "alice@pve", Path: shadow.Path, Hash: "secret-1"}, cfs.CodeInvalid},
		{"bad userid", SetPassword{Userid: "alice", Path: shadow.Path, Hash: hash}, cfs.CodeInvalid},
		{"colon in hash", SetPassword{Userid: "alice@pve", Path: shadow.Path, Hash: "$5$a:b"}, cfs.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tt.apply(OpSetPassword, tc.req, 2)
			if tc.code == "" {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
				m, _, err := tt.tree.Model(tc.req.Path)
				if err != nil {
					t.Fatal(err)
				}
				name := tc.req.Userid[:len(tc.req.Userid)-4]
				if err := m.(*shadow.Shadow).Check(name, "secret-1"); err != nil {
					t.Fatalf("password not stored: %v", err)
				}
				return
			}
			if r.Err == nil || r.Err.Code != tc.code {
				t.Fatalf("err = %+v, want code %q", r.Err, tc.code)
			}
		})
	}
	// A malformed body is refused.
	cmd := &cfs.Command{V: cfs.CommandVersion, Op: OpSetPassword, Body: json.RawMessage(`[1]`)}
	data, _ := cmd.Encode()
	if r := tt.tree.Apply(100, 100, data); r.Err == nil {
		t.Fatal("malformed body accepted")
	}
}
